"""One compiled DCGAN update: G runs forward once, and D and G both step on that batch.

This replaces the Keras-2 hobby loop (`D.train_on_batch`, then a stacked frozen-D model), which
runs G twice per batch, dispatches op by op, and silently stops training D under Keras 3.
"""

from dataclasses import dataclass

import numpy as np

from ganmodels.config import GanConfig
from ganmodels.losses import discriminator_loss, generator_loss
from ganmodels.networks import build_discriminator, build_generator
from ganmodels.tf import keras, tf


def scale_images(batch_uint8):
    """uint8 [0, 255] to float32 [-1, 1], inside the graph so no float copy of the data set exists."""
    return tf.cast(batch_uint8, tf.float32) / 127.5 - 1.0


def to_uint8(images) -> np.ndarray:
    """Generator output in [-1, 1] back to displayable uint8."""
    return np.clip(np.rint((np.asarray(images) + 1.0) * 127.5), 0, 255).astype(np.uint8)


@dataclass
class GanModels:
    """The two networks and their optimizers, built for one config."""

    config: GanConfig
    generator: keras.Model
    discriminator: keras.Model
    g_optimizer: keras.optimizers.Optimizer
    d_optimizer: keras.optimizers.Optimizer

    @classmethod
    def build(cls, config: GanConfig) -> "GanModels":
        keras.utils.set_random_seed(config.seed)
        g, d = build_generator(config), build_discriminator(config)
        g_opt = keras.optimizers.Adam(config.lr, beta_1=config.beta1)
        d_opt = keras.optimizers.Adam(config.lr, beta_1=config.beta1)
        # Build the slot variables now, so a checkpoint restores into them instead of deferring.
        g_opt.build(g.trainable_variables)
        d_opt.build(d.trainable_variables)
        return cls(config, g, d, g_opt, d_opt)

    def generate(self, z) -> np.ndarray:
        """Images in [-1, 1] for latent vectors `z`, in inference mode."""
        return np.asarray(self.generator(np.asarray(z, np.float32), training=False))


class TrainStep:
    """A callable that trains both networks on one uint8 batch and returns the two losses."""

    def __init__(self, models: GanModels, latent_rng: tf.random.Generator):
        self.models = models
        self.latent_rng = latent_rng
        self._step = tf.function(self._train_step, reduce_retracing=True)

    def _train_step(self, batch_uint8):
        m = self.models
        real = scale_images(batch_uint8)
        z = self.latent_rng.normal((tf.shape(real)[0], m.config.latent_dim))
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = m.generator(z, training=True)
            real_logits = m.discriminator(real, training=True)
            fake_logits = m.discriminator(fake, training=True)
            d_loss = discriminator_loss(real_logits, fake_logits)
            g_loss = generator_loss(fake_logits)
        d_vars, g_vars = m.discriminator.trainable_variables, m.generator.trainable_variables
        m.d_optimizer.apply_gradients(zip(d_tape.gradient(d_loss, d_vars), d_vars, strict=True))
        m.g_optimizer.apply_gradients(zip(g_tape.gradient(g_loss, g_vars), g_vars, strict=True))
        return {"d_loss": d_loss, "g_loss": g_loss}

    def __call__(self, batch_uint8) -> dict[str, float]:
        losses = self._step(tf.convert_to_tensor(batch_uint8))
        return {k: float(v) for k, v in losses.items()}
