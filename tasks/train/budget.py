"""A time budget for one training call (`--max-minutes`): a stop condition checked at every step boundary.

The clock starts when the training loop starts (after the model is built and the checkpoint restored) and
counts this call only: a later run with a larger budget or more epochs has a new cache key for the train
step, so it trains again from the last checkpoint for its own budget. A run stopped on its budget is
finished, not failed: it writes its checkpoint, sample grid, GIF and evaluation like any other run.
"""

import time

EPOCHS_DONE = "epochs"  # trained to the target epoch
BUDGET_SPENT = "budget"  # stopped at the first step boundary after --max-minutes


class TimeBudget:
    """`spent()` turns true once `minutes` of training have passed (never, without a budget)."""

    def __init__(self, minutes: float | None, clock=time.monotonic):
        self.seconds = None if minutes is None else minutes * 60.0
        self.clock = clock
        self.started = clock()

    def spent(self) -> bool:
        return self.seconds is not None and self.clock() - self.started >= self.seconds

    def describe(self) -> str:
        return f"--max-minutes {self.seconds / 60:g}" if self.seconds is not None else "no time budget"
