"""The training loop, the callbacks' base and the reasons training stops: the one module the loop's parts share.

`TrainingLoop.run` drives epochs of batches through the train step from wherever the state stands and
calls every `Callback` at each moment (tasks/train/callbacks.py has the ones that write files,
tasks/train/budget.py the time budget). A callback ends training by `loop.stop(reason)` with one of the
stop reasons below; the loop records it in `stopped`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import Progress, TextColumn

from ganmodels.data import epoch_dataset, steps_per_epoch
from ganmodels.state import TrainingState
from tasks.atomic import atomic_path
from tasks.progress import progress_bar
from tasks.train.interrupt import StopOnSignals

EPOCHS_DONE = "epochs"  # trained to the target epoch
BUDGET_SPENT = "budget"  # stopped at the first step boundary after --max-minutes
INTERRUPTED = "interrupted"  # a first Ctrl-C or SIGTERM (tasks/train/interrupt.py)


class Callback:
    """Does nothing; a callback overrides the moments it cares about."""

    def on_train_begin(self, loop: TrainingLoop) -> None: ...

    def on_step_end(self, loop: TrainingLoop, step: int, losses: dict[str, float]) -> None: ...

    def on_epoch_end(self, loop: TrainingLoop, epoch: int, logs: dict[str, Any]) -> None: ...

    def on_train_end(self, loop: TrainingLoop) -> None: ...


def sooner(*seconds: float | None) -> float | None:
    """The smallest of the known remaining times (never below 0); None when none is known."""
    known = [max(s, 0.0) for s in seconds if s is not None]
    return min(known) if known else None


class TrainingLoop:
    """Epochs of batches through the train step, from wherever the state stands, with callbacks."""

    def __init__(self, state: TrainingState, images: np.ndarray, epochs: int, callbacks: list[Callback]):
        self.state, self.images, self.epochs, self.callbacks = state, images, epochs, callbacks
        self.per_epoch = steps_per_epoch(len(images), state.config.batch_size, state.config.sampling)
        self.start_epoch, self.skip = int(state.epoch.numpy()), int(state.batch_in_epoch.numpy())
        self.epoch, self.steps_run = self.start_epoch, 0
        self.stopped = EPOCHS_DONE  # a callback's `stop(reason)` ends training at the next step boundary
        self.budget_left: Callable[[], float] | None = None  # seconds until a budget (TimeBudget) ends training
        self.bar: Progress | None = None
        self.signals = StopOnSignals(lambda: self.stop(INTERRUPTED))  # Ctrl-C / SIGTERM: stop at the next step

    @property
    def step(self) -> int:
        return int(self.state.step.numpy())

    @property
    def mid_epoch(self) -> bool:
        """Training stopped inside an epoch: its end-of-epoch callbacks did not run."""
        return int(self.state.batch_in_epoch.numpy()) > 0

    def stop(self, reason: str) -> None:
        """End training after the current step; `on_train_end` still runs (see `mid_epoch`)."""
        self.stopped = reason

    def run(self) -> None:
        cfg, distribute = self.state.config, self.state.models.strategy.experimental_distribute_dataset
        for callback in self.callbacks:
            callback.on_train_begin(self)
        loss_col = TextColumn("d {task.fields[d_loss]:.3f}  g {task.fields[g_loss]:.3f}")
        with self.signals, progress_bar(loss_col) as self.bar:
            total = max(max(self.epochs - self.start_epoch, 0) * self.per_epoch - self.skip, 0)
            job = self.bar.add_task("train", total=total, d_loss=float("nan"), g_loss=float("nan"))
            for epoch in range(self.start_epoch + 1, self.epochs + 1):
                self.epoch = epoch
                skip = self.skip if epoch == self.start_epoch + 1 else 0
                for batch in distribute(
                    epoch_dataset(self.images, cfg.batch_size, cfg.seed, epoch, skip, cfg.sampling)
                ):
                    losses = self.state.train_batch(batch)
                    self.steps_run += 1
                    self.bar.update(job, advance=1, description=f"train epoch {epoch}/{self.epochs}", **losses)
                    for callback in self.callbacks:
                        callback.on_step_end(self, self.step, losses)
                    if self.stopped != EPOCHS_DONE:
                        break
                if self.mid_epoch and self.stopped != EPOCHS_DONE:
                    break
                logs = {"epoch": epoch, "step": self.step, **self.state.finish_epoch()}
                self.state.models.refresh_sampler()  # BatchNorm statistics that fit the sampler's weights
                for callback in self.callbacks:
                    callback.on_epoch_end(self, epoch, logs)
                if self.stopped != EPOCHS_DONE:
                    break
        if int(self.state.epoch.numpy()) >= self.epochs:  # the budget ran out with the very last step
            self.stopped = EPOCHS_DONE
        for callback in self.callbacks:
            callback.on_train_end(self)

    def time_remaining(self) -> float | None:
        """Seconds until training ends: the bar's estimate for the epochs asked, or the budget's end if sooner."""
        estimate = self.bar.tasks[0].time_remaining if self.bar and self.bar.tasks else None
        return sooner(estimate, self.budget_left() if self.budget_left is not None else None)

    def save_generator(self, path: Path) -> Path:
        """The generator that samples were drawn from: the EMA one when the run keeps one."""
        with atomic_path(path) as tmp:
            self.state.models.refresh_sampler().save(tmp)
        return path
