"""One compiled DCGAN update: G runs forward once, and D and G both step on that batch.

This replaces the Keras-2 hobby loop (`D.train_on_batch`, then a stacked frozen-D model), which
runs G twice per batch, dispatches op by op, and silently stops training D under Keras 3.

Latent vectors are a pure function of (seed, global step), so a resumed run draws exactly the
vectors the uninterrupted run would have, with no random-generator state to save, and every
replica of a mirrored run takes its own slice of the same global batch.
"""

from dataclasses import dataclass

import numpy as np

from ganmodels.config import GanConfig
from ganmodels.losses import discriminator_loss, generator_loss
from ganmodels.networks import build_discriminator, build_generator
from ganmodels.runtime import Runtime, distribution_strategy, dtype_policy
from ganmodels.tf import keras, tf


def scale_images(batch_uint8):
    """uint8 [0, 255] to float32 [-1, 1], inside the graph so no float copy of the data set exists."""
    return tf.cast(batch_uint8, tf.float32) / 127.5 - 1.0


def to_uint8(images) -> np.ndarray:
    """Generator output in [-1, 1] back to displayable uint8."""
    return np.clip(np.rint((np.asarray(images, np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def step_latents(config: GanConfig, step, batch_size):
    """The latent batch of global step `step`: the same in every run, process and device layout."""
    seed = tf.stack([tf.cast(config.seed, tf.int64), tf.cast(step, tf.int64)])
    return tf.random.stateless_normal((batch_size, config.latent_dim), seed=seed)


@dataclass
class GanModels:
    """The two networks and their optimizers, built for one config under one strategy."""

    config: GanConfig
    generator: keras.Model
    discriminator: keras.Model
    g_optimizer: keras.optimizers.Optimizer
    d_optimizer: keras.optimizers.Optimizer
    strategy: tf.distribute.Strategy

    @classmethod
    def build(cls, config: GanConfig, runtime: Runtime | None = None) -> "GanModels":
        runtime = runtime or Runtime("cpu", 1, "fp32", False, 0, True)
        strategy = distribution_strategy(runtime)
        keras.utils.set_random_seed(config.seed)
        with strategy.scope(), dtype_policy(runtime.policy()):
            g, d = build_generator(config), build_discriminator(config)
            g_opt = keras.optimizers.Adam(config.lr, beta_1=config.beta1)
            d_opt = keras.optimizers.Adam(config.lr, beta_1=config.beta1)
            # Build the slot variables now, so a checkpoint restores into them instead of deferring.
            g_opt.build(g.trainable_variables)
            d_opt.build(d.trainable_variables)
        return cls(config, g, d, g_opt, d_opt, strategy)

    def generate(self, z) -> np.ndarray:
        """Images in [-1, 1] for latent vectors `z`, in inference mode."""
        return np.asarray(self.generator(np.asarray(z, np.float32), training=False), np.float32)


class TrainStep:
    """A compiled callable: train both networks on one uint8 batch at global step `step`."""

    def __init__(self, models: GanModels, jit: bool = False):
        self.models = models
        self.compiled = tf.function(self._step, jit_compile=jit, reduce_retracing=True)

    def _replica_step(self, batch_uint8, step):
        m = self.models
        ctx = tf.distribute.get_replica_context()
        replicas = ctx.num_replicas_in_sync
        real = scale_images(batch_uint8)
        local = tf.shape(real)[0]
        z = step_latents(m.config, step, local * replicas)[ctx.replica_id_in_sync_group * local :][:local]
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = m.generator(z, training=True)
            real_logits = m.discriminator(real, training=True)
            fake_logits = m.discriminator(fake, training=True)
            # Each replica's mean, scaled so the all-reduced SUM of gradients is the global mean.
            d_loss = discriminator_loss(real_logits, fake_logits) / replicas
            g_loss = generator_loss(fake_logits) / replicas
        d_vars, g_vars = m.discriminator.trainable_variables, m.generator.trainable_variables
        m.d_optimizer.apply_gradients(zip(d_tape.gradient(d_loss, d_vars), d_vars, strict=True))
        m.g_optimizer.apply_gradients(zip(g_tape.gradient(g_loss, g_vars), g_vars, strict=True))
        return tf.stack([d_loss, g_loss])

    def _step(self, batch_uint8, step):
        strategy = self.models.strategy
        per_replica = strategy.run(self._replica_step, args=(batch_uint8, step))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    def __call__(self, batch_uint8, step) -> tf.Tensor:
        """The global [d_loss, g_loss] of this step."""
        return self.compiled(batch_uint8, tf.convert_to_tensor(step, tf.int64))
