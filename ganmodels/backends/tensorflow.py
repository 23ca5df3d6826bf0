"""The TensorFlow training state: everything a resumed run needs to continue exactly, as one `tf.train.Checkpoint`.

It holds both networks and optimizers, the EMA generator when there is one, the epoch, the global
step, the position inside the epoch, the running loss sums of the epoch, the balance rule's counts
of extra updates, and the Dropout layers' seed states: Keras 3 Dropout draws from its own seed
generator, which `tf.train.Checkpoint` does not reach through the model. The shuffle order and all
other random draws are pure functions of (seed, epoch) and (seed, step), so they need no state.
The same state as named numpy arrays (`to_arrays`, `load_arrays`) is `ganmodels.state_arrays`'.
"""

import numpy as np

from ganmodels.balance import balance_extra_steps
from ganmodels.config import GanConfig
from ganmodels.ema import copy_weights
from ganmodels.latents import draw_latents
from ganmodels.runtime import Runtime
from ganmodels.state_arrays import load_arrays, named_variables, seed_states, to_arrays
from ganmodels.streams import BALANCE_D_PASS, BALANCE_G_PASS, MAIN_PASS
from ganmodels.tf import tf
from ganmodels.train_step import GanModels, TrainStep

# Objects added to the checkpoint after its first format: a checkpoint without them still restores,
# with the counts at zero and the EMA generator starting from G.
LATER_OBJECTS = ("extra_steps", "extra_total", "ema_generator")


class TrainingState:
    """Models, optimizers and counters of one training run, with the steps that advance them."""

    def __init__(self, models: GanModels, jit: bool = False):
        self.models = models
        with models.strategy.scope():
            self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")  # completed epochs
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            self.batch_in_epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="batch_in_epoch")
            self.loss_sums = tf.Variable([0.0, 0.0], dtype=tf.float64, trainable=False, name="loss_sums")
            # Extra (D, G) updates from the balance rule: in this epoch, and in the whole run.
            self.extra_steps = tf.Variable([0, 0], dtype=tf.int64, trainable=False, name="extra_steps")
            self.extra_total = tf.Variable([0, 0], dtype=tf.int64, trainable=False, name="extra_total")
        self.train_step = TrainStep(models, jit=jit)
        self.objects = {
            "generator": models.generator,
            "discriminator": models.discriminator,
            "g_optimizer": models.g_optimizer,
            "d_optimizer": models.d_optimizer,
            "epoch": self.epoch,
            "step": self.step,
            "batch_in_epoch": self.batch_in_epoch,
            "loss_sums": self.loss_sums,
            "dropout_seeds": seed_states(models.discriminator) + seed_states(models.generator),
            "extra_steps": self.extra_steps,
            "extra_total": self.extra_total,
        }
        if models.ema_generator is not None:
            self.objects["ema_generator"] = models.ema_generator
        self.checkpoint = tf.train.Checkpoint(**self.objects)

    @classmethod
    def build(cls, config: GanConfig, runtime: Runtime | None = None) -> "TrainingState":
        return cls(GanModels.build(config, runtime), jit=bool(runtime and runtime.jit))

    @property
    def config(self) -> GanConfig:
        return self.models.config

    def restore(self, path: str) -> None:
        """Load a checkpoint; every object it should hold must be there, except those it may predate.

        An EMA generator the config no longer asks for is ignored; one it now asks for but the
        checkpoint lacks starts as a copy of G.
        """
        present = {name.split("/")[0] for name, _ in tf.train.list_variables(path)}
        objects = {k: v for k, v in self.objects.items() if k in present or k not in LATER_OBJECTS}
        status = tf.train.Checkpoint(**objects).read(path)
        status.expect_partial()
        status.assert_existing_objects_matched()
        if self.models.ema_generator is not None and "ema_generator" not in present:
            copy_weights(self.models.generator, self.models.ema_generator)

    def train_batch(self, batch_uint8) -> dict[str, float]:
        """One step on a uint8 batch, with D pre-training or the balance rule as configured.

        Advances the counters and returns the step's losses (from its main update) and its extra updates.
        """
        cfg, step = self.config, self.step
        d_extra = g_extra = 0
        if cfg.d_pretrain_steps and int(step.numpy()) < cfg.d_pretrain_steps:
            losses = self.train_step.d_only(batch_uint8, step, MAIN_PASS)
        else:
            losses = self.train_step(batch_uint8, step)
            if cfg.balance_margin is not None and cfg.balance_max_steps:
                d_extra, g_extra = balance_extra_steps(
                    tuple(losses.numpy().tolist()),
                    cfg.balance_margin,
                    cfg.balance_max_steps,
                    lambda k: tuple(self.train_step.d_only(batch_uint8, step, BALANCE_D_PASS + k).numpy().tolist()),
                    lambda k: tuple(self.train_step.g_only(batch_uint8, step, BALANCE_G_PASS + k).numpy().tolist()),
                )
                self.extra_steps.assign_add([d_extra, g_extra])
                self.extra_total.assign_add([d_extra, g_extra])
        self.step.assign_add(1)
        self.batch_in_epoch.assign_add(1)
        self.loss_sums.assign_add(tf.cast(losses, tf.float64))
        d_loss, g_loss = losses.numpy().tolist()
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
        return {
            "epoch": int(self.epoch.numpy()),
            "step": int(self.step.numpy()),
            "batch_in_epoch": int(self.batch_in_epoch.numpy()),
        }

    def _named(self) -> dict:
        counters = {
            name: getattr(self, name)
            for name in ("epoch", "step", "batch_in_epoch", "loss_sums", "extra_steps", "extra_total")
        }
        return named_variables(self.models, counters)

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
