"""The losses as the train step applies them: the config's loss (one module each in
ganmodels/loss_functions/, by name), the label tricks of "GAN hacks", and the WGAN-GP gradient penalty.

D's targets (the losses registered as `labelled` only) come from `d_labels`: one-sided smoothing, uniform jitter and
random flips, drawn from a stateless seed so a resumed run draws the same labels, and under the
flipped convention (`labels` real0, the GAN-hacks seed's) mirrored: real near 0, fake near 1.
"""

from ganmodels.config import GanConfig
from ganmodels.loss_functions import loss_named
from ganmodels.streams import Rows
from ganmodels.tf import tf


def d_labels(config: GanConfig, rows: Rows, seed):
    """(real targets, fake targets) for D, (count, 1) each, with the configured smoothing, jitter and flips."""
    shape = (rows.count, 1)
    real = tf.fill(shape, tf.constant(config.label_smoothing, tf.float32))
    fake = tf.zeros(shape, tf.float32)
    seeds = tf.random.experimental.stateless_split(seed, 4) if config.label_noise or config.flip_labels else None
    if config.label_noise:
        real -= rows.uniform((1,), seeds[0], 0.0, config.label_noise)
        fake += rows.uniform((1,), seeds[1], 0.0, config.label_noise)
    if config.flip_labels:
        flip_real = rows.uniform((1,), seeds[2]) < config.flip_labels
        flip_fake = rows.uniform((1,), seeds[3]) < config.flip_labels
        # A flipped real image gets a fake target, and a flipped fake image a real one.
        real, fake = tf.where(flip_real, fake, real), tf.where(flip_fake, real, fake)
    if config.labels == "real0":  # the flipped convention: real 0 (+ jitter), fake 1 (- jitter)
        real, fake = 1.0 - real, 1.0 - fake
    return real, fake


def discriminator_loss(loss: str, real_logits, fake_logits, real_labels=None, fake_labels=None):
    """D's loss; lower means D tells real from fake better. Labels default to 1 (real) and 0 (fake)."""
    if real_labels is None:
        real_labels, fake_labels = tf.ones_like(real_logits), tf.zeros_like(fake_logits)
    return loss_named(loss).d_loss(real_logits, fake_logits, real_labels, fake_labels)


def generator_loss(loss: str, fake_logits, labels: str = "real1"):
    """G's loss on D's logits for its images; G aims at D's label for real images (0 under `real0`)."""
    target = tf.zeros_like(fake_logits) if labels == "real0" else tf.ones_like(fake_logits)
    return loss_named(loss).g_loss(fake_logits, target)


def gradient_penalty(discriminator, real, fake, rows: Rows, seed):
    """Mean of (||grad D(x)|| - 1)^2 at random points x on the lines between real and fake images."""
    eps = rows.uniform((1, 1, 1), seed)
    mixed = eps * real + (1.0 - eps) * fake
    with tf.GradientTape() as tape:
        tape.watch(mixed)
        logits = tf.cast(discriminator(mixed, training=True), tf.float32)
    grads = tf.cast(tape.gradient(logits, mixed), tf.float32)
    norms = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]) + 1e-12)
    return tf.reduce_mean(tf.square(norms - 1.0))
