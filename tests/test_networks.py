import numpy as np
import pytest

from ganmodels.config import GanConfig
from ganmodels.networks import build_discriminator, build_generator


@pytest.mark.parametrize("size", [28, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_generator_and_discriminator_shapes(size, channels):
    cfg = GanConfig(size=size, channels=channels, latent_dim=16, g_filters=8, d_filters=8)
    g, d = build_generator(cfg), build_discriminator(cfg)
    images = np.asarray(g(np.zeros((2, 16), np.float32), training=False))
    assert images.shape == (2, size, size, channels)
    assert np.all(np.abs(images) <= 1.0)  # tanh output
    assert np.asarray(d(images, training=False)).shape == (2, 1)


def test_bad_config_is_rejected():
    with pytest.raises(ValueError, match="size must be one of"):
        GanConfig(size=30)


def test_initial_weights_depend_on_the_seed_alone():
    """Not on Python's global `random`, which other threads (Prefect's) draw from at any time."""
    import random

    cfg = GanConfig(size=28, channels=1, latent_dim=8, g_filters=8, d_filters=8, seed=5)
    first = build_generator(cfg).get_weights() + build_discriminator(cfg).get_weights()
    random.seed(12345)
    random.random()
    second = build_generator(cfg).get_weights() + build_discriminator(cfg).get_weights()
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    other = build_generator(GanConfig(size=28, channels=1, latent_dim=8, g_filters=8, d_filters=8, seed=6))
    assert not np.array_equal(other.get_weights()[0], first[0])
