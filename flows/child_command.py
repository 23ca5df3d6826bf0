"""A child command (`prefect flow-run retry`) that the user's Ctrl-C and SIGTERM reach, and that decides
itself how to stop: training stops at the next step with a checkpoint (tasks/train/interrupt.py).

The parent waits for it, so it never exits before its child and leaves no process behind: a terminal's
Ctrl-C reaches both (one process group), and a SIGTERM sent to the parent alone is passed on.
"""

import contextlib
import signal
import subprocess


def call(command: list[str]) -> int:
    """Run `command` to its end; its exit code, 128 + N when signal N ended it (as a shell reports it)."""
    child = subprocess.Popen(command)
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: child.send_signal(signum))
    try:
        while True:
            with contextlib.suppress(KeyboardInterrupt):  # the child has the same Ctrl-C: wait for it to stop
                code = child.wait()
                break
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 128 - code if code < 0 else code
