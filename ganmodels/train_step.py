"""Compiled GAN updates: the step every batch gets, and the extra D-only and G-only updates.

The step replaces the Keras-2 hobby loop (`D.train_on_batch`, then a stacked frozen-D model), which
runs G twice per batch, dispatches op by op, and silently stops training D under Keras 3. In one
`tf.function` it makes `n_critic - 1` D-only updates (WGAN-GP's critic iterations, fresh latents
each), then the main update: G runs forward once and D and G both step on that batch, each from
the same forward pass. DiffAugment, label tricks and the gradient penalty are TF ops inside it.

`update_order` d-then-g and g-then-d keep the seeds' order instead, still in one compiled step: D
updates on fakes G makes in inference mode (Keras' `predict`: BatchNorm's moving statistics, no
Dropout), and the other update runs its own forward pass after it, on fresh latents or the same ones.

The D-only and G-only updates are separate compiled functions, used by D pre-training and the
balance rule in a Python loop around the step, so the step itself has no data-dependent branches
(which a mirrored strategy cannot synchronise inside).

Every random draw is stateless (see `ganmodels.streams`), so a resumed run repeats it exactly.
"""

from dataclasses import dataclass

import numpy as np

from ganmodels.augment import diff_augment
from ganmodels.config import GanConfig
from ganmodels.ema import update_ema
from ganmodels.gan_parts import build_parts
from ganmodels.loss_functions import loss_named
from ganmodels.losses import d_labels, discriminator_loss, generator_loss, gradient_penalty
from ganmodels.optimizers import build_optimizer
from ganmodels.pixels import output_of, to_uint8
from ganmodels.runtime import Runtime, distribution_strategy
from ganmodels.sampler_stats import refresh_sampler_stats
from ganmodels.streams import (
    FAKE_AUGMENT,
    LABELS,
    MAIN_PASS,
    PENALTY,
    REAL_AUGMENT,
    SECOND_PASS,
    Rows,
    step_latents,
    step_seed,
)
from ganmodels.tf import keras, tf
from ganmodels.train_modes import Updates

__all__ = ["GanModels", "TrainStep", "Updates", "build_optimizer", "output_of", "scale_images", "to_uint8"]


def scale_images(batch_uint8, output: str = "tanh"):
    """uint8 [0, 255] to float32 in G's range: [-1, 1] for tanh, [0, 1] for sigmoid (x / 255, as the seeds
    that used it), inside the graph so no float copy of the data set exists."""
    if output == "sigmoid":
        return tf.cast(batch_uint8, tf.float32) / 255.0
    return tf.cast(batch_uint8, tf.float32) / 127.5 - 1.0


@dataclass
class GanModels:
    """The two networks, their optimizers and the optional EMA generator, built under one strategy."""

    config: GanConfig
    generator: keras.Model
    discriminator: keras.Model
    g_optimizer: keras.optimizers.Optimizer
    d_optimizer: keras.optimizers.Optimizer
    strategy: tf.distribute.Strategy
    ema_generator: keras.Model | None = None

    @classmethod
    def build(cls, config: GanConfig, runtime: Runtime | None = None) -> "GanModels":
        runtime = runtime or Runtime("cpu", 1, "fp32", False, 0, True)
        strategy = distribution_strategy(runtime)
        keras.utils.set_random_seed(config.seed)
        with strategy.scope():
            g, d, ema, g_opt, d_opt = build_parts(config, runtime.policy())
        return cls(config, g, d, g_opt, d_opt, strategy, ema)

    @property
    def sampler(self) -> keras.Model:
        """The generator whose images a run shows and saves: the EMA one when it exists."""
        return self.ema_generator if self.ema_generator is not None else self.generator

    def refresh_sampler(self) -> keras.Model:
        """Give the sampler BatchNorm statistics measured on its own weights; call before drawing or saving it.

        Its moving averages lag far behind early in training and belong to G, not to the EMA weights
        (`ganmodels/sampler_stats.py`). Training never reads them, so this changes no trajectory.
        """
        with self.strategy.scope():
            return refresh_sampler_stats(self.sampler, self.config)

    def generate(self, z) -> np.ndarray:
        """Images in [-1, 1] for latents `z` from the sampling generator, in inference mode
        (a sigmoid generator's [0, 1] is mapped there, so every caller sees one range)."""
        images = np.asarray(self.sampler(np.asarray(z, np.float32), training=False), np.float32)
        return images * 2.0 - 1.0 if self.config.output == "sigmoid" else images


class TrainStep:
    """Compiled callables that train on one uint8 batch at global step `step` and return [d_loss, g_loss]."""

    def __init__(self, models: GanModels, jit: bool = False):
        self.models = models

        def compile_(fn):
            return tf.function(fn, jit_compile=jit, reduce_retracing=True)

        self.compiled = compile_(self._step)
        self.compiled_d = compile_(self._d_step)
        self.compiled_g = compile_(self._g_step)

    def _pass(self, real, rows: Rows, step, pass_index, latent_pass: int, updates: Updates):
        """One forward pass of G and D on the batch, then the `updates`; this replica's losses.

        In a sequential order a D-only pass takes G's fakes in inference mode, as the seeds' `predict`. A G-only
        pass has no use for D's loss, so D never sees the real images there and the loss comes back as NaN.
        """
        m, cfg = self.models, self.models.config
        replicas = tf.distribute.get_replica_context().num_replicas_in_sync
        train_d, train_g = updates.d, updates.g
        z = step_latents(cfg, step, rows, latent_pass)
        g_training = train_g or cfg.update_order == "joint"
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = m.generator(z, training=g_training)
            fake_seen = diff_augment(fake, cfg.diffaugment, step_seed(cfg, step, pass_index, FAKE_AUGMENT), rows)
            if train_d:
                real_seen = diff_augment(real, cfg.diffaugment, step_seed(cfg, step, pass_index, REAL_AUGMENT), rows)
                real_logits = m.discriminator(real_seen, training=True)
            fake_logits = m.discriminator(fake_seen, training=True)
            # Each replica's mean, scaled so the all-reduced SUM of gradients is the global mean.
            g_loss = generator_loss(cfg.loss, fake_logits, cfg.labels) / replicas
            d_loss = tf.constant(float("nan"))
            if train_d:
                loss = loss_named(cfg.loss)
                labels = d_labels(cfg, rows, step_seed(cfg, step, pass_index, LABELS)) if loss.labelled else ()
                d_loss = discriminator_loss(cfg.loss, real_logits, fake_logits, *labels)
                if loss.penalty:
                    seed = step_seed(cfg, step, pass_index, PENALTY)
                    d_loss += cfg.gp_weight * gradient_penalty(m.discriminator, real_seen, fake_seen, rows, seed)
                d_loss = d_loss / replicas
        if train_d:
            d_vars = m.discriminator.trainable_variables
            m.d_optimizer.apply_gradients(zip(d_tape.gradient(d_loss, d_vars), d_vars, strict=True))
        if train_g:
            g_vars = m.generator.trainable_variables
            m.g_optimizer.apply_gradients(zip(g_tape.gradient(g_loss, g_vars), g_vars, strict=True))
        return tf.stack([d_loss, g_loss])

    def _replica(self, batch_uint8, step, pass_index, updates: Updates, critic_passes: int = 0):
        ctx = tf.distribute.get_replica_context()
        real = scale_images(batch_uint8, self.models.config.output)
        local = tf.shape(real)[0]
        rows = Rows(ctx.replica_id_in_sync_group * local, local, local * ctx.num_replicas_in_sync)
        for k in range(1, critic_passes + 1):
            self._pass(real, rows, step, k, k, Updates.D)
        order = self.models.config.update_order
        if order == "joint" or updates is not Updates.BOTH:
            return self._pass(real, rows, step, pass_index, MAIN_PASS, updates)
        second = MAIN_PASS if self.models.config.reuse_noise else SECOND_PASS
        if order == "d-then-g":
            d_loss = self._pass(real, rows, step, pass_index, MAIN_PASS, Updates.D)[0]
            g_loss = self._pass(real, rows, step, pass_index, second, Updates.G)[1]
        else:
            g_loss = self._pass(real, rows, step, pass_index, MAIN_PASS, Updates.G)[1]
            d_loss = self._pass(real, rows, step, pass_index, second, Updates.D)[0]
        return tf.stack([d_loss, g_loss])

    def _run(self, batch_uint8, step, pass_index, updates: Updates, critic_passes: int = 0):
        m = self.models
        args = (batch_uint8, step, pass_index, updates, critic_passes)
        losses = m.strategy.reduce(tf.distribute.ReduceOp.SUM, m.strategy.run(self._replica, args=args), axis=None)
        if updates.g and m.ema_generator is not None:
            update_ema(m.ema_generator, m.generator, m.config.ema, step)
        return losses

    def _step(self, batch_uint8, step):
        return self._run(batch_uint8, step, MAIN_PASS, Updates.BOTH, self.models.config.n_critic - 1)

    def _d_step(self, batch_uint8, step, pass_index):
        return self._run(batch_uint8, step, pass_index, Updates.D)

    def _g_step(self, batch_uint8, step, pass_index):
        return self._run(batch_uint8, step, pass_index, Updates.G)

    def __call__(self, batch_uint8, step) -> tf.Tensor:
        """The step every batch gets: critic passes, then D and G on one forward pass. Global losses."""
        return self.compiled(batch_uint8, tf.convert_to_tensor(step, tf.int64))

    def d_only(self, batch_uint8, step, pass_index: int) -> tf.Tensor:
        """One more D update on the batch (pre-training, balance); G's loss is measured, not trained."""
        return self.compiled_d(batch_uint8, tf.convert_to_tensor(step, tf.int64), tf.constant(pass_index, tf.int64))

    def g_only(self, batch_uint8, step, pass_index: int) -> tf.Tensor:
        """One more G update on the batch (balance); D is not trained, and its loss is not measured (NaN)."""
        return self.compiled_g(batch_uint8, tf.convert_to_tensor(step, tf.int64), tf.constant(pass_index, tf.int64))
