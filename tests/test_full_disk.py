"""A full or read-only disk under --run-dir or --data-dir: one line naming the folder and about what the
step needs, nothing half-written taken for complete, and the same command finishes once there is room.

The folders are small real tmpfs mounts (the `mounted` fixture of test_os_errors.py, unmounted after
each test; skipped with the reason where this machine cannot mount one).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from test_os_errors import mounted  # noqa: F401 - the tmpfs fixture

from flows.flow_parameters import of_run
from flows.ganflow import _summary_written, ganflow
from tasks.caching import RESULTS_FOLDER
from tasks.errors import UserError, user_os_error
from tasks.report.render import render
from tasks.run_folder import RunFolder

pytestmark = pytest.mark.slow  # mounts, Prefect flows and training


def _fill(folder: Path, leave: int) -> Path:
    """A file that takes all of the mount's free space but about `leave` bytes."""
    import shutil

    filler = folder / "filler"
    filler.write_bytes(b"\0" * max(0, shutil.disk_usage(folder).free - leave))
    return filler


def _command(faces: Path, run_dir: Path, data_dir: Path) -> list[str]:
    return [
        sys.executable, "-m", "flows.cli", "run", "--source", str(faces), "--size", "28", "--channels", "1",
        "--epochs", "3", "--batch-size", "4", "--latent-dim", "16", "--eval-every", "0",
        "--run-dir", str(run_dir), "--data-dir", str(data_dir),
    ]  # fmt: skip


def test_a_full_run_dir_while_training_is_one_line_and_the_same_command_finishes(
    mounted,  # noqa: F811
    prefect_server,
    make_faces,
    tmp_path,
):
    run_dir = mounted("run", "size=12m") / "run"  # room for one checkpoint (about 8 MB), not for two
    command = _command(make_faces(16), run_dir, tmp_path / "data")
    env = {
        **os.environ,
        "PREFECT_API_URL": prefect_server,
        "PYTHONPATH": os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")]),
    }
    full = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert full.returncode == 1, full.stderr[-3000:]
    lines = [line for line in full.stderr.splitlines() if line.startswith("Error: ")]
    assert len(lines) == 1 and "Traceback" not in full.stderr + full.stdout, full.stderr[-3000:]
    assert re.fullmatch(
        rf"Error: --run-dir {re.escape(str(run_dir))}: No space left on device \(training needs about \d+ MB there, "
        r"[\d.]+ MB free now\); free some space or choose another --run-dir, then run the same command again: .*",
        lines[0],
    ), lines[0]
    assert not (run_dir / "generator.keras").exists()

    subprocess.run(["mount", "-o", "remount,size=64m", str(run_dir.parent)], check=True)  # space freed
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    run = RunFolder(run_dir)
    assert [int(row["epoch"]) for row in run.read_metrics()] == [1, 2, 3]
    with Image.open(run.gif) as gif:
        assert gif.n_frames == 3
    assert not [p for p in run_dir.rglob("*") if ".tmp" in p.name]  # no temporary file left behind


def test_a_full_data_dir_while_preprocessing_is_one_line_and_the_rerun_finishes(
    mounted,  # noqa: F811
    params,
    make_faces,
):
    data = mounted("data", "size=1m")
    filler = _fill(data, 24 * 1024)  # the results of acquire fit; 64 images of 28 x 28 (50 KB) do not
    params = params.model_copy(update={"source": str(make_faces(64, "more")), "data_dir": data})
    with pytest.raises(UserError, match=rf"--data-dir {re.escape(str(data))}: No space left on device "
                       r"\(preprocessing needs about 1\.\d MB there, 0\.\d MB free now\)"):  # fmt: skip
        ganflow(**of_run(params))
    assert not list(data.rglob("manifest.json")) and not list(data.rglob("images.npy"))

    filler.unlink()
    rerun = ganflow(**of_run(params))
    assert rerun.states["preprocess"] == "Completed" and rerun.steps_trained == 32


def test_a_full_run_dir_for_the_gif_or_the_summary_is_one_line_and_leaves_no_file(
    mounted,  # noqa: F811
    tmp_path,
):
    samples = tmp_path / "samples"
    samples.mkdir()
    for epoch in (1, 2):
        Image.new("RGB", (64, 64), (40 * epoch, 90, 120)).save(samples / f"epoch_{epoch:04d}.png")
    full = mounted("full", "size=256k")
    _fill(full, 0)

    with pytest.raises(UserError, match=rf"--run-dir {re.escape(str(full))}: .*writing the GIF needs about"):
        render.fn(samples, full / "progress.gif", 2)
    with pytest.raises(UserError, match=rf"--run-dir {re.escape(str(full))}: .*writing the summary needs about"):
        _summary_written(RunFolder(full), {"params": {"epochs": 2}})
    assert sorted(p.name for p in full.iterdir()) == ["filler"]  # nothing half-written was left


def test_a_read_only_run_dir_is_one_line(mounted, params):  # noqa: F811
    read_only = mounted("run", "ro,size=1m")
    with pytest.raises(OSError) as raised:
        ganflow(**of_run(params.model_copy(update={"run_dir": read_only / "run"})))
    line = user_os_error(raised.value)
    assert line and str(read_only / "run") in line and "Read-only file system" in line


def test_a_result_record_cut_short_runs_its_step_again(params):
    ganflow(**of_run(params))
    for record in (params.data_dir / RESULTS_FOLDER).iterdir():  # what a full disk or kill -9 leaves mid-write
        record.write_bytes(record.read_bytes()[: record.stat().st_size // 2])
    rerun = ganflow(**of_run(params))
    assert set(rerun.states.values()) == {"Completed"} and rerun.steps_trained == 0
    assert set(ganflow(**of_run(params)).states.values()) == {"Cached"}
