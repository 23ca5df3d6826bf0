"""A time budget for one training call (`--max-minutes`): a callback that stops the loop at a step boundary.

The clock starts when the training loop starts (after the model is built and the checkpoint restored) and
counts this call only: a later run with a larger budget or more epochs has a new cache key for the train
step, so it trains again from the last checkpoint for its own budget. A run stopped on its budget is
finished, not failed: the loop's callbacks write the checkpoint of the step it stopped at, a sample grid
of the weights reached, and the metrics, and the flow renders and evaluates as for any other run.
"""

from __future__ import annotations

import time

from tasks.train.loop import BUDGET_SPENT, Callback, TrainingLoop


class TimeBudget(Callback):
    """Asks the loop to stop after the first step that ends `minutes` after training began."""

    def __init__(self, minutes: float, clock=time.monotonic):
        self.seconds, self.clock = minutes * 60.0, clock
        self.started = clock()

    def on_train_begin(self, loop: TrainingLoop) -> None:
        self.started = self.clock()
        loop.budget_left = self.left  # so the epoch lines' "s left" is the budget's, not the epochs'

    def left(self) -> float:
        """Seconds of the budget not yet spent (negative once it is)."""
        return self.seconds - (self.clock() - self.started)

    def on_step_end(self, loop: TrainingLoop, step: int, losses: dict[str, float]) -> None:
        if self.left() <= 0:
            loop.stop(BUDGET_SPENT)
