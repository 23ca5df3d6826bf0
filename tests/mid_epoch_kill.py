"""Start a `ganflow run` and kill -9 its whole process group right after a checkpoint in the middle of epoch 2
or later: the moment a resumed run must continue from exactly (tests/test_resume.py, tests/test_backends.py)."""

import os
import signal
import subprocess
import time
from collections.abc import Callable


def kill_mid_epoch(
    command: list[str], env: dict, newest_step: Callable[[], int | None], steps_per_epoch: int, within_s: float
) -> None:
    """Run `command` until `newest_step()` (the newest checkpoint's step) is 1 or 2 batches into an epoch after the
    first, then SIGKILL it; fails when it finished before that moment came."""
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + within_s
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            step = newest_step()
            if step and step > steps_per_epoch and step % steps_per_epoch in (1, 2):
                os.killpg(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.002)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
