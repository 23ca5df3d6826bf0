"""Everything a resumed run needs to continue where it stopped, as one `tf.train.Checkpoint`.

Keras 3 Dropout layers draw from their own seed generators, which `tf.train.Checkpoint` does not
reach through the model, so their states are listed explicitly.
"""

import numpy as np

from ganmodels.tf import keras, tf
from ganmodels.train_step import GanModels, TrainStep


def _seed_states(model: keras.Model) -> list:
    return [layer.seed_generator.state for layer in model.layers if getattr(layer, "seed_generator", None)]


class TrainingState:
    """Models, optimizers, counters and random streams of one training run."""

    def __init__(self, models: GanModels):
        cfg = models.config
        self.models = models
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.latent_rng = tf.random.Generator.from_seed(cfg.seed)
        self.train_step = TrainStep(models, self.latent_rng)
        self.checkpoint = tf.train.Checkpoint(
            generator=models.generator,
            discriminator=models.discriminator,
            g_optimizer=models.g_optimizer,
            d_optimizer=models.d_optimizer,
            epoch=self.epoch,
            step=self.step,
            latent_rng=self.latent_rng,
            dropout_seeds=_seed_states(models.discriminator) + _seed_states(models.generator),
        )

    @classmethod
    def build(cls, config) -> "TrainingState":
        return cls(GanModels.build(config))

    def fixed_latents(self, count: int) -> np.ndarray:
        """The same latent vectors for every epoch's sample grid, derived from the seed alone."""
        cfg = self.models.config
        return np.random.default_rng([cfg.seed, 7]).standard_normal((count, cfg.latent_dim)).astype(np.float32)
