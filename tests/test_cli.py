"""The `ganflow` command as a user runs it: a real subprocess."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from entry_point import ganflow_each


def ganflow(*args, env=None, cwd=None, timeout=600):
    cmd = [sys.executable, "-m", "flows.cli", *args]
    merged = {**os.environ, **(env or {})}
    merged["PYTHONPATH"] = os.pathsep.join([os.getcwd(), merged.get("PYTHONPATH", "")])
    return subprocess.run(cmd, capture_output=True, text=True, env=merged, cwd=cwd, timeout=timeout)


BAD_OPTIONS = [
    (["--size", "30"], "--size"),
    (["--channels", "2"], "--channels"),
    (["--crop", "corner"], "--crop"),
    (["--min-side", "0"], "--min-side"),
    (["--max-pixels", "many"], "--max-pixels"),
    (["--workers", "-1"], "--workers"),
    (["--epochs", "0"], "--epochs"),
    (["--batch-size", "many"], "--batch-size"),
    (["--latent-dim", "-3"], "--latent-dim"),
    (["--seed", "-1"], "--seed"),
    (["--source", "/no/such/folder"], "--source"),
    (["--source", "kaggle:owner-only"], "--source"),
    (["--source", "ftp://example.org/faces.zip"], "--source"),
    (["--sha256", "abc"], "--sha256"),
    (["--sha256", "0" * 64], "--sha256"),  # the default source is not a download
    (["--max-extract-bytes", "lots"], "--max-extract-bytes"),
    (["--max-extract-entries", "0"], "--max-extract-entries"),
    (["--unknown-option"], "--unknown-option"),
    (["--more-epochs", "0"], "--more-epochs"),
    (["--task-runner", "spark"], "--task-runner"),
    (["--dask-address", "tcp://127.0.0.1:8786"], "--dask-address"),  # without --task-runner dask
    (["--task-runner", "dask", "--dask-address", "localhost"], "--dask-address"),
]
HELP = [
    ("serve", ["--cron", "--timezone", "--name", "--more-epochs", "--task-runner", "--source"]),
    ("runs", ["--limit", "--state"]),
    ("retry", ["prefect flow-run retry ID", "retry [OPTIONS] ID"]),
]
BAD_SCHEDULES = [
    (["--cron", "0 25 * * *"], "--cron"),
    (["--cron", "nightly"], "--cron"),
    (["--cron", "0 2 * * *", "--timezone", "Mars/Base"], "--timezone"),
]


@pytest.fixture(scope="module")
def ended() -> dict[tuple[str, ...], subprocess.CompletedProcess]:
    """How each command of this module that stops before any work ended, by its arguments."""
    commands = [["run", *args] for args, _ in BAD_OPTIONS] + [[command, "--help"] for command, _ in HELP]
    commands += [["serve", *args] for args, _ in BAD_SCHEDULES]
    return {tuple(c): out for c, out in zip(commands, ganflow_each(*commands), strict=True)}


@pytest.mark.slow
@pytest.mark.parametrize(("args", "option"), BAD_OPTIONS)
def test_bad_options_fail_with_one_line(ended, args, option):
    out = ended["run", *args]
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("Error: ") and option in lines[0]
    assert "Traceback" not in out.stderr + out.stdout


def test_help_lists_every_option():
    out = ganflow("run", "--help")
    assert out.returncode == 0
    for option in [
        "--source",
        "--sha256",
        "--max-extract-bytes",
        "--max-extract-entries",
        "--size",
        "--channels",
        "--crop",
        "--dedupe",
        "--min-side",
        "--max-pixels",
        "--workers",
        "--epochs",
        "--batch-size",
        "--latent-dim",
        "--seed",
        "--run-dir",
        "--data-dir",
    ]:
        assert option in out.stdout


@pytest.mark.slow
@pytest.mark.parametrize(("command", "expected"), HELP)
def test_orchestration_commands_explain_themselves(ended, command, expected):
    out = ended[command, "--help"]
    assert out.returncode == 0, out.stderr
    for text in expected:
        assert text in out.stdout


@pytest.mark.slow
@pytest.mark.parametrize(("args", "option"), BAD_SCHEDULES)
def test_serve_refuses_a_bad_schedule_in_one_line(ended, args, option):
    out = ended["serve", *args]
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: Invalid value for '{option}'"), out.stderr


@pytest.mark.slow
def test_run_end_to_end_and_a_folder_without_usable_images(prefect_server, tiny_faces, tmp_path):
    env = {"PREFECT_API_URL": prefect_server}
    (tiny_faces / "broken.jpg").write_text("not an image")
    (tiny_faces / "copy.png").write_bytes((tiny_faces / "img_00.png").read_bytes())
    out = ganflow(
        "run",
        "--source",
        str(tiny_faces),
        "--crop",
        "celeba",
        "--dedupe",
        "--size",
        "28",
        "--epochs",
        "1",
        "--batch-size",
        "4",
        "--latent-dim",
        "8",
        "--data-dir",
        str(tmp_path / "data"),
        env=env,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    gif = next(line for line in out.stdout.splitlines() if line.startswith("GIF: ")).removeprefix("GIF: ")
    assert gif.startswith(str(tmp_path / "runs")) and os.path.isfile(gif)
    summary = json.loads((Path(gif).parent / "summary.json").read_text())
    assert summary["dataset"]["count"] == 8
    assert summary["dataset"]["skipped_by_reason"] == {"duplicate": 1, "not a decodable image": 1}
    assert "2 files skipped (1 duplicate, 1 not a decodable image)" in out.stdout + out.stderr

    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "a.jpg").write_text("text, not a JPEG")
    out = ganflow("run", "--source", str(junk), "--data-dir", str(tmp_path / "data"), env=env, cwd=tmp_path)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr + out.stdout
    assert out.stderr.strip().splitlines()[-1].startswith("Error: --source: none of the 1 image files")
