"""Ctrl-C and SIGTERM during training: stop at the next step with a checkpoint, then end the run in one line.

The first SIGINT or SIGTERM (what a terminal's Ctrl-C, a worker, `docker stop` or Kubernetes sends) asks
the training loop to stop after the step it is in; the loop's `on_train_end` callbacks then write the
checkpoint of that step, so nothing trained is lost, and training raises `TrainingInterrupted`: a
`UserError`, so the task is not retried and no traceback is logged, and the flow run ends Failed, a state
`ganflow retry` accepts. A second signal raises KeyboardInterrupt at once. The handlers exist only while
the loop runs (and only in the main thread, where Python delivers signals); the ones before come back after.
"""

import logging
import os
import signal
import sys
from collections.abc import Callable
from typing import NoReturn

from tasks.errors import UserError
from tasks.progress import prefect_console_handlers

SIGNALS = (signal.SIGINT, signal.SIGTERM)
STOPPED_BY = "training stopped by"  # how the one line begins (the flow run's state message carries it)
NAMES = {signal.SIGINT: "Ctrl-C (SIGINT)", signal.SIGTERM: "SIGTERM"}


class TrainingInterrupted(UserError):
    """Training stopped on a signal, with a checkpoint of the step reached. Args: the message, the signal."""

    def __init__(self, message: str, signum: int):
        super().__init__(message, signum)

    def __str__(self) -> str:
        return self.args[0]

    @property
    def exit_code(self) -> int:
        return 128 + self.args[1]  # what a shell reports for a command that a signal ended


class StopOnSignals:
    """While entered: the first SIGINT/SIGTERM calls `stop()`, a second raises KeyboardInterrupt."""

    def __init__(self, stop: Callable[[], None]):
        self.stop, self.received, self.previous = stop, None, {}

    def __enter__(self) -> "StopOnSignals":
        hide_interrupt_reports()  # on the handlers Prefect has now (`prefect flow-run retry` makes its own)
        try:
            for signum in SIGNALS:
                self.previous[signum] = signal.signal(signum, self._handle)
        except ValueError:  # not the main thread: signals keep the handlers they have
            self._restore()
        return self

    def _handle(self, signum: int, frame) -> None:
        if self.received is not None:
            self._restore()
            raise KeyboardInterrupt
        self.received = signum
        self.stop()

    def _restore(self) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
        self.previous = {}

    def __exit__(self, *exc) -> None:
        self._restore()

    def interrupted(self, step: int, epoch: int, batch: int, per_epoch: int) -> TrainingInterrupted:
        """What the user reads: which signal, the step and epoch reached (as resuming logs it), that it is saved."""
        where = f"epoch {epoch + 1}, batch {batch} of {per_epoch}" if batch else f"the end of epoch {epoch}"
        signal_name = NAMES.get(self.received, str(self.received))
        return TrainingInterrupted(
            f"{STOPPED_BY} {signal_name} at step {step} ({where}); checkpoint saved", self.received
        )


class HideInterruptReports(logging.Filter):
    """Keep Prefect's reports of a `TrainingInterrupted` (task and flow failed with it) off the terminal:
    the command prints its own line. They still reach the API, so the UI shows why the run failed."""

    def filter(self, record: logging.LogRecord) -> bool:
        return TrainingInterrupted.__name__ not in record.getMessage()


def hide_interrupt_reports() -> None:
    """Install `HideInterruptReports` on Prefect's console handlers (once)."""
    for handler in prefect_console_handlers():
        if not any(isinstance(f, HideInterruptReports) for f in handler.filters):
            handler.addFilter(HideInterruptReports())


def exit_at_once(code: int) -> NoReturn:
    """End the process now, once the command has written and said everything: TensorFlow's teardown at
    interpreter exit takes another 5-8 s here, which a user who pressed Ctrl-C should not wait for."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
