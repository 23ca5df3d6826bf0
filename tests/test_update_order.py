"""The seeds' update order: D on fakes G made in inference mode (Keras' `predict`), then G's own forward pass
through the updated D, on fresh latents or the same ones; and the numpy MLP's G first, then D.

Each reference below is written out step by step from the public pieces (latents, labels, losses), the way the
seeds' `train_on_batch` calls ran, and ganflow's compiled step must land on the same weights.
"""

import numpy as np
import pytest

from ganmodels.config import GanConfig
from ganmodels.losses import d_labels, discriminator_loss, generator_loss
from ganmodels.streams import LABELS, MAIN_PASS, SECOND_PASS, Rows, step_latents, step_seed
from ganmodels.tf import tf
from ganmodels.train_step import GanModels, TrainStep, scale_images

BATCH = 4


def config(**changes) -> GanConfig:
    # celeb32's G has BatchNorm, so inference and training mode give different fakes; no Dropout keeps the
    # reference free of random masks.
    base = dict(size=32, arch="celeb32", g_filters=4, d_filters=4, latent_dim=8, batch_size=BATCH, dropout=0.0)
    return GanConfig(**{**base, **changes})


def data() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (BATCH, 32, 32, 3), dtype=np.uint8)


def update(tape, loss, model, optimizer):
    variables = model.trainable_variables
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))


def d_update(m: GanModels, real, z, g_training: bool) -> None:
    cfg, rows = m.config, Rows.whole(BATCH)
    fake = m.generator(z, training=g_training)
    with tf.GradientTape() as tape:
        labels = d_labels(cfg, rows, step_seed(cfg, 0, MAIN_PASS, LABELS))
        real_logits, fake_logits = m.discriminator(real, training=True), m.discriminator(fake, training=True)
        loss = discriminator_loss(cfg.loss, real_logits, fake_logits, *labels)
    update(tape, loss, m.discriminator, m.d_optimizer)


def g_update(m: GanModels, z) -> None:
    with tf.GradientTape() as tape:
        loss = generator_loss(m.config.loss, m.discriminator(m.generator(z, training=True), training=True))
    update(tape, loss, m.generator, m.g_optimizer)


def weights(m: GanModels) -> list[np.ndarray]:
    return [np.asarray(v) for v in m.generator.weights + m.discriminator.weights]


def ganflow_step(cfg: GanConfig) -> list[np.ndarray]:
    m = GanModels.build(cfg)
    TrainStep(m)(data(), 0)
    return weights(m)


def close(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    # Adam's first steps are +-lr (2e-4); compiled and eager float sums differ by about 1e-6.
    return all(np.allclose(x, y, rtol=1e-4, atol=1e-5) for x, y in zip(a, b, strict=True))


@pytest.mark.slow
@pytest.mark.parametrize("reuse", [False, True])
def test_d_then_g_is_the_keras_seeds_train_on_batch_order(reuse):
    cfg = config(update_order="d-then-g", reuse_noise=reuse)
    m, rows = GanModels.build(cfg), Rows.whole(BATCH)
    real = scale_images(data())
    z = step_latents(cfg, 0, rows, MAIN_PASS)
    d_update(m, real, z, g_training=False)  # images_fake = G.predict(noise); D.train_on_batch(x, y)
    g_update(m, z if reuse else step_latents(cfg, 0, rows, SECOND_PASS))  # GAN.train_on_batch(noise, y)
    assert close(ganflow_step(cfg), weights(m))
    # The reference can tell: D trained on training-mode fakes, or the joint step, land elsewhere.
    other = GanModels.build(cfg)
    d_update(other, real, z, g_training=True)
    g_update(other, z if reuse else step_latents(cfg, 0, rows, SECOND_PASS))
    assert not close(weights(other), weights(m))
    assert not close(ganflow_step(config()), weights(m))


@pytest.mark.slow
def test_g_then_d_makes_ds_fakes_with_the_updated_g():
    cfg = config(update_order="g-then-d", reuse_noise=True)
    m, rows = GanModels.build(cfg), Rows.whole(BATCH)
    z = step_latents(cfg, 0, rows, MAIN_PASS)
    g_update(m, z)  # nn_generator_discriminator.fit(noise[k:next_k], ...)
    d_update(m, scale_images(data()), z, g_training=False)  # predict_intermediate(noise[k:next_k], 2); D.fit
    assert close(ganflow_step(cfg), weights(m))
