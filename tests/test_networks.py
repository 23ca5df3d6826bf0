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
