"""kill -9 of the whole process group at random moments, any number of times, then the same command again.

After the last rerun the run folder must match an uninterrupted run's: a bit-identical generator, every
epoch exactly once in metrics.csv with the same losses, one GIF frame per epoch. Each kill comes a seeded
random delay after a moment the run shows (a log line, a checkpoint file), so the kills land in server
start, acquire, preprocessing, training at a checkpoint write, render, evaluate and the summary. A kill
between two steps of an epoch is tests/test_resume.py's (which checks that the rerun resumed mid-epoch);
here it would be one more full rerun proving the same.
"""

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.slow  # runs ganflow in subprocesses, again and again

EPOCHS = 4


def _command(faces: Path, run_dir: Path, data_dir: Path) -> list[str]:
    return [
        sys.executable, "-m", "flows.cli", "run", "--source", str(faces), "--size", "28", "--channels", "1",
        "--epochs", str(EPOCHS), "--batch-size", "4", "--latent-dim", "16", "--checkpoint-every", "1",
        "--run-dir", str(run_dir), "--data-dir", str(data_dir),
    ]  # fmt: skip


def _env(api_url: str) -> dict:
    return {
        **os.environ,
        "PREFECT_API_URL": api_url,
        "PYTHONUNBUFFERED": "1",  # the log shows each moment as it happens
        "PYTHONPATH": os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")]),
    }


# Where each kill lands: a moment the run shows (a log line, or a file in the run folder), then a seeded
# random delay. In pipeline order, so each rerun gets one step further than the last.
MOMENTS = (
    ("server start", None),
    ("acquire", r"Beginning flow run"),
    ("preprocessing", r"acquire\[.*Finished in state"),
    ("a checkpoint being written", "checkpoint temp"),
    ("render", r"train\[.*Finished in state"),
    ("evaluate", r"render\[.*Finished in state"),
    ("the summary", r"evaluate\[.*Finished in state"),
)


def _reached(moment: str | None, log: Path, start: int, checkpoints: Path) -> bool:
    if moment is None:
        return True
    if moment == "checkpoint temp":
        return checkpoints.is_dir() and any("_temp" in p.name for p in checkpoints.iterdir())
    with open(log, "rb") as f:
        f.seek(start)
        return re.search(moment, f.read().decode(errors="replace")) is not None


def _killed_at(command: list[str], env: dict, moment: str | None, delay: float, log: Path, run_dir: Path) -> int | None:
    """Run the command in its own process group; kill -9 the whole group `delay` s after `moment`.
    Its exit code when it finished first, else None."""
    with open(log, "ab") as out:
        out.write(f"=== kill -9 {delay:.2f} s after {moment}\n".encode())
        out.flush()
        start = log.stat().st_size
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        while proc.poll() is None and not _reached(moment, log, start, run_dir / "checkpoints"):
            time.sleep(0.003)
        try:
            proc.wait(timeout=delay)
            return proc.returncode
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return None


def _weights(path: Path) -> list[np.ndarray]:
    from ganmodels.tf import keras

    return keras.models.load_model(path, compile=False).get_weights()


def _losses(run_dir: Path) -> list[tuple[str, ...]]:
    from tasks.run_folder import RunFolder

    return [(r["epoch"], r["step"], r["d_loss"], r["g_loss"]) for r in RunFolder(run_dir).read_metrics()]


def test_kill_9_at_random_moments_then_the_same_command_finishes_as_if_never_killed(
    prefect_server, make_faces, tmp_path
):
    faces, env = make_faces(16), _env(prefect_server)
    clean = subprocess.run(
        _command(faces, tmp_path / "clean", tmp_path / "clean-data"), env=env, capture_output=True, timeout=600
    )
    assert clean.returncode == 0, clean.stderr[-3000:]

    command = _command(faces, tmp_path / "killed", tmp_path / "data")
    rng, log, killed = random.Random(21), tmp_path / "killed.log", tmp_path / "killed"
    for name, moment in MOMENTS:
        delay = rng.uniform(0.5, 4) if moment is None else rng.uniform(0, 0.3)
        code = _killed_at(command, env, moment, delay, log, killed)
        assert code in (None, 0), f"{name}: " + log.read_text(errors="replace")[-3000:]
    print(log.read_text(errors="replace"))  # where each kill landed (pytest -s)
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]

    for name in ("generator-last.keras", "generator.keras"):
        for a, b in zip(_weights(tmp_path / "clean" / name), _weights(killed / name), strict=True):
            np.testing.assert_array_equal(a, b)
    assert _losses(killed) == _losses(tmp_path / "clean")
    assert [int(row[0]) for row in _losses(killed)] == list(range(1, EPOCHS + 1))
    with Image.open(killed / "progress.gif") as gif:
        assert gif.n_frames == EPOCHS
