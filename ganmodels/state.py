"""Everything a resumed run needs to continue exactly where it stopped, as one `tf.train.Checkpoint`.

It holds both networks and optimizers, the epoch, the global step, the position inside the epoch,
the running loss sums of the epoch, and the Dropout layers' seed states: Keras 3 Dropout draws from
its own seed generator, which `tf.train.Checkpoint` does not reach through the model. The shuffle
order and the latents are pure functions of (seed, epoch) and (seed, step), so they need no state.
"""

import numpy as np

from ganmodels.config import GanConfig
from ganmodels.runtime import Runtime
from ganmodels.tf import keras, tf
from ganmodels.train_step import GanModels, TrainStep


def _seed_states(model: keras.Model) -> list:
    return [layer.seed_generator.state for layer in model.layers if getattr(layer, "seed_generator", None)]


class TrainingState:
    """Models, optimizers and counters of one training run, with the step that advances them."""

    def __init__(self, models: GanModels, jit: bool = False):
        self.models = models
        with models.strategy.scope():
            self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")  # completed epochs
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            self.batch_in_epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="batch_in_epoch")
            self.loss_sums = tf.Variable([0.0, 0.0], dtype=tf.float64, trainable=False, name="loss_sums")
        self.train_step = TrainStep(models, jit=jit)
        self.checkpoint = tf.train.Checkpoint(
            generator=models.generator,
            discriminator=models.discriminator,
            g_optimizer=models.g_optimizer,
            d_optimizer=models.d_optimizer,
            epoch=self.epoch,
            step=self.step,
            batch_in_epoch=self.batch_in_epoch,
            loss_sums=self.loss_sums,
            dropout_seeds=_seed_states(models.discriminator) + _seed_states(models.generator),
        )

    @classmethod
    def build(cls, config: GanConfig, runtime: Runtime | None = None) -> "TrainingState":
        return cls(GanModels.build(config, runtime), jit=bool(runtime and runtime.jit))

    @property
    def config(self) -> GanConfig:
        return self.models.config

    def train_batch(self, batch_uint8) -> dict[str, float]:
        """One step on a uint8 batch; advances the counters and returns this step's losses."""
        losses = self.train_step(batch_uint8, self.step)
        self.step.assign_add(1)
        self.batch_in_epoch.assign_add(1)
        self.loss_sums.assign_add(tf.cast(losses, tf.float64))
        d_loss, g_loss = losses.numpy().tolist()
        return {"d_loss": d_loss, "g_loss": g_loss}

    def finish_epoch(self) -> dict[str, float]:
        """Close the epoch: the mean losses over its batches, and counters reset for the next."""
        count = max(int(self.batch_in_epoch.numpy()), 1)
        d_mean, g_mean = (self.loss_sums.numpy() / count).tolist()
        self.epoch.assign_add(1)
        self.batch_in_epoch.assign(0)
        self.loss_sums.assign([0.0, 0.0])
        return {"d_loss": d_mean, "g_loss": g_mean}

    def fixed_latents(self, count: int) -> np.ndarray:
        """The same latent vectors for every epoch's sample grid, derived from the seed alone."""
        rng = np.random.default_rng([self.config.seed, 7])
        return rng.standard_normal((count, self.config.latent_dim)).astype(np.float32)
