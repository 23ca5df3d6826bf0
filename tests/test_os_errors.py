"""OS errors a user causes end as one line naming the path and the reason, exit code 1 (issue 13.5).

The folders are real: a read-only and a tiny (full) tmpfs where this machine lets us mount one (root,
as CI runs), since chmod does not stop root; a file where a folder should be works everywhere.
"""

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tasks.errors import is_user_error, user_os_error

TINY = ("--size", "28", "--channels", "1", "--epochs", "1", "--batch-size", "8", "--latent-dim", "8")


def _ganflow_run(api_url: str, *args: str) -> subprocess.CompletedProcess:
    """`ganflow run` on the session's server: what is tested is the folder, not a temporary server's start."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")])}
    env["PREFECT_API_URL"] = api_url
    command = [sys.executable, "-m", "flows.cli", "run", *TINY, "--eval-every", "0", "--eval-images", "8", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)


def _mount_tmpfs(folder: Path, options: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip() or 'not permitted'})")


@pytest.fixture
def mounted(tmp_path):
    """Factory: a tmpfs at a new folder with the given mount options, unmounted after the test."""
    folders: list[Path] = []

    def mount(name: str, options: str) -> Path:
        folder = tmp_path / name
        _mount_tmpfs(folder, options)
        folders.append(folder)
        return folder

    yield mount
    for folder in folders:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def _one_line(out: subprocess.CompletedProcess, path: Path, reason: str) -> str:
    # Prefect's own progress lines (server start, flow run state) go to stderr too; ours is the one Error line.
    lines = [line for line in out.stderr.strip().splitlines() if line.startswith("Error: ")]
    assert out.returncode == 1, out.stderr[-3000:]
    assert len(lines) == 1, out.stderr[-3000:]
    assert str(path) in lines[0] and reason in lines[0], lines[0]
    assert "Traceback" not in out.stderr + out.stdout
    return lines[0]


def test_which_os_errors_are_the_users():
    assert user_os_error(PermissionError(errno.EACCES, "Permission denied", "/x")) == (
        "/x: Permission denied; check that folder (permissions, free space, a file in the way) "
        "or choose another --data-dir or --run-dir"
    )
    assert is_user_error(OSError(errno.ENOSPC, "No space left on device", "/x"))
    assert not is_user_error(OSError(errno.EIO, "Input/output error", "/x"))  # a broken disk is not a choice
    assert not is_user_error(ValueError("x"))


@pytest.mark.slow
def test_a_read_only_data_dir_is_one_line(prefect_server, mounted, tmp_path):
    data = mounted("data", "ro,size=1m")
    out = _ganflow_run(prefect_server, "--data-dir", str(data), "--run-dir", str(tmp_path / "run"))
    _one_line(out, data, "Read-only file system")


@pytest.mark.slow
def test_a_full_data_dir_is_one_line_and_leaves_nothing_taken_as_complete(prefect_server, mounted, tmp_path):
    data = mounted("data", "size=64k")
    out = _ganflow_run(prefect_server, "--data-dir", str(data), "--run-dir", str(tmp_path / "run"))
    _one_line(out, data, "No space left on device")
    assert not list(data.rglob("manifest.json")) and not list(data.rglob("download.json"))


@pytest.mark.slow
def test_a_run_dir_that_is_a_file_is_one_line(prefect_server, tmp_path):
    in_the_way = tmp_path / "run"
    in_the_way.write_text("not a folder")
    out = _ganflow_run(prefect_server, "--data-dir", str(tmp_path / "data"), "--run-dir", str(in_the_way))
    _one_line(out, in_the_way, "")
    assert in_the_way.read_text() == "not a folder"


@pytest.mark.slow
def test_a_file_name_too_long_is_one_line(prefect_server, tmp_path):
    long_dir = tmp_path / ("r" * 300)
    out = _ganflow_run(prefect_server, "--data-dir", str(tmp_path / "data"), "--run-dir", str(long_dir))
    _one_line(out, long_dir, "File name too long")
