"""A train task that fails mid-training is retried by Prefect, and the retry resumes at the checkpoint.

The fault is real and comes from outside the run: a folder sits where training writes epoch 2's sample
grid, so the write fails after epoch 2's steps. The test watches the run's own log, as a person at the
terminal would, and removes the folder while Prefect waits to retry; the retry must then continue from
the last checkpoint (mid-epoch 2) instead of starting over.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import threading

import pytest

pytestmark = pytest.mark.slow  # every test here starts servers, clusters, runs or training

STEPS_PER_EPOCH = 4  # 16 images, batch 4


def test_train_retry_resumes_at_the_checkpointed_step(prefect_server, make_faces, tmp_path):
    run_dir = tmp_path / "run"
    blocker = run_dir / "samples" / "epoch_0002.png"
    blocker.mkdir(parents=True)
    command = [
        sys.executable,
        "-m",
        "flows.cli",
        "run",
        *("--source", str(make_faces(16)), "--size", "28", "--channels", "1", "--epochs", "3"),
        *("--batch-size", "4", "--latent-dim", "16", "--checkpoint-every", "1"),
        *("--run-dir", str(run_dir), "--data-dir", str(tmp_path / "data")),
    ]
    env = {
        **os.environ,
        "PREFECT_API_URL": prefect_server,
        "PYTHONPATH": os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    watchdog = threading.Timer(300, lambda: os.killpg(proc.pid, signal.SIGKILL))
    watchdog.start()
    lines: list[str] = []
    fixed_after = None
    try:
        for line in proc.stdout:
            lines.append(line)
            if fixed_after is None and "Retry 1/1 will start" in line:
                shutil.rmtree(blocker)  # the fix, within Prefect's retry delay
                fixed_after = len(lines)
        proc.wait()
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    output = "".join(lines)
    assert proc.returncode == 0, output[-4000:]
    assert fixed_after is not None, "the train task never failed: " + output[-3000:]

    before, after = "".join(lines[:fixed_after]), "".join(lines[fixed_after:])
    failure = lines[fixed_after - 1]  # the real fault, in the train task, after epoch 2's steps
    assert "Task run 'train[run to epoch 3]'" in failure and "IsADirectoryError" in failure
    assert "epoch 1/3" in before and "resuming" not in before
    m = re.search(r"resuming at step (\d+): epoch (\d+), batch (\d+)", after)
    assert m, after[-3000:]
    # The last checkpoint before the failure: one step short of epoch 2's end (--checkpoint-every 1).
    assert (int(m.group(1)), int(m.group(2)), int(m.group(3))) == (2 * STEPS_PER_EPOCH - 1, 2, STEPS_PER_EPOCH - 1)
    # The retry ran the one step left of epoch 2 and epoch 3, not all 12 steps again.
    assert f"Trained {1 + STEPS_PER_EPOCH} steps this run" in output
    assert [line.split(",")[0] for line in (run_dir / "metrics.csv").read_text().splitlines()[1:]] == ["1", "2", "3"]
    assert (run_dir / "generator.keras").is_file() and (run_dir / "samples" / "epoch_0002.png").is_file()
