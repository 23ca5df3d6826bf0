"""What both backends' training states do the same way: the balance rule around the step, the epoch's
bookkeeping, the run's position, the state as named arrays and the sample grid's latents.

A backend's state (ganmodels/backends/tensorflow.py, ganmodels/backends/jax.py) keeps its counters in its own
kind of variable, all read with `.numpy()` and changed with `assign`/`assign_add`, and says how its step is
called (`_step_arg`) and how its losses are read (`_values`) and summed (`_add_losses`).
"""

import numpy as np

from ganmodels.balance import balance_extra_steps
from ganmodels.config import GanConfig
from ganmodels.latents import draw_latents
from ganmodels.state_arrays import COUNTERS, load_arrays, named_variables, to_arrays
from ganmodels.stream_ids import BALANCE_D_PASS, BALANCE_G_PASS, MAIN_PASS


class StateCounters:
    """The backend-neutral half of a training state; subclasses set `models`, `train_step` and the counters."""

    @property
    def config(self) -> GanConfig:
        return self.models.config

    def _step_arg(self):
        """The global step as the backend's step function takes it."""
        return self.step

    def _values(self, losses) -> list[float]:
        return np.asarray(losses).tolist()

    def _add_losses(self, losses) -> None:
        self.loss_sums.assign_add(np.asarray(losses, np.float64))

    def train_batch(self, batch_uint8) -> dict[str, float]:
        """One step on a uint8 batch, with D pre-training or the balance rule as configured.

        Advances the counters and returns the step's losses (from its main update) and its extra updates.
        """
        cfg, step = self.config, self._step_arg()
        d_extra = g_extra = 0
        if cfg.d_pretrain_steps and int(self.step.numpy()) < cfg.d_pretrain_steps:
            losses = self.train_step.d_only(batch_uint8, step, MAIN_PASS)
        else:
            losses = self.train_step(batch_uint8, step)
            if cfg.balance_margin is not None and cfg.balance_max_steps:
                d_extra, g_extra = balance_extra_steps(
                    tuple(self._values(losses)),
                    cfg.balance_margin,
                    cfg.balance_max_steps,
                    lambda k: tuple(self._values(self.train_step.d_only(batch_uint8, step, BALANCE_D_PASS + k))),
                    lambda k: tuple(self._values(self.train_step.g_only(batch_uint8, step, BALANCE_G_PASS + k))),
                )
                self.extra_steps.assign_add([d_extra, g_extra])
                self.extra_total.assign_add([d_extra, g_extra])
        self.step.assign_add(1)
        self.batch_in_epoch.assign_add(1)
        self._add_losses(losses)
        d_loss, g_loss = self._values(losses)
        return {"d_loss": d_loss, "g_loss": g_loss, "d_extra": d_extra, "g_extra": g_extra}

    def finish_epoch(self) -> dict[str, float]:
        """Close the epoch: its mean losses and extra-update counts, and counters reset for the next."""
        count = max(int(self.batch_in_epoch.numpy()), 1)
        d_mean, g_mean = (self.loss_sums.numpy() / count).tolist()
        d_extra, g_extra = self.extra_steps.numpy().tolist()
        self.epoch.assign_add(1)
        self.batch_in_epoch.assign(0)
        self.loss_sums.assign([0.0, 0.0])
        self.extra_steps.assign([0, 0])
        return {"d_loss": d_mean, "g_loss": g_mean, "d_extra": d_extra, "g_extra": g_extra}

    def extra_updates(self) -> dict[str, int]:
        """The balance rule's extra updates over the whole run."""
        d_total, g_total = self.extra_total.numpy().tolist()
        return {"d": d_total, "g": g_total}

    def counters(self) -> dict[str, int]:
        """The position of the run: completed epochs, global step, batches done in the current epoch."""
        return {name: int(getattr(self, name).numpy()) for name in ("epoch", "step", "batch_in_epoch")}

    def _named(self) -> dict:
        return named_variables(self.models, {name: getattr(self, name) for name in COUNTERS})

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Every variable of the state as numpy arrays under stable names (`ganmodels.state_arrays`)."""
        return to_arrays(self._named())

    def load_arrays(self, arrays: dict) -> None:
        """Set the whole state from `to_arrays`' output; ValueError naming what is missing or mismatched."""
        load_arrays(self._named(), arrays, self.models.ema_generator, self.models.generator)

    def fixed_latents(self, count: int) -> np.ndarray:
        """The same latents for every epoch's sample grid, derived from the seed alone."""
        rng = np.random.default_rng([self.config.seed, 7])
        return draw_latents(rng, count, self.config.latent_shape, self.config.latent_dist)
