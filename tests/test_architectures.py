"""Every architecture builds at every size it applies to, keeps its defining traits, and trains."""

import numpy as np
import pytest

from ganmodels.config import GanConfig
from ganmodels.networks import build_discriminator, build_generator
from ganmodels.state import TrainingState
from ganmodels.tf import keras

TINY = {
    "dcgan": {"g_filters": 8, "d_filters": 8},
    "dcgan64": {"g_filters": 4, "d_filters": 4},
    "convdense": {"noise_shape": "image", "width": 0.0625},
    "mlp": {"hidden_units": 16},
}
CASES = [(arch, size) for arch in TINY for size in (28, 32, 64) if not (arch == "dcgan64" and size == 28)]


def _config(arch: str, size: int, channels: int = 1, **extra) -> GanConfig:
    return GanConfig(size=size, channels=channels, arch=arch, latent_dim=8, batch_size=2, seed=1, **TINY[arch] | extra)


@pytest.mark.slow
@pytest.mark.parametrize(("arch", "size"), CASES)
def test_builds_and_trains_two_steps(arch, size):
    cfg = _config(arch, size)
    state = TrainingState.build(cfg)
    g, d = state.models.generator, state.models.discriminator
    assert g.input_shape[1:] == cfg.latent_shape and g.output_shape[1:] == (size, size, 1)
    assert d.output_shape[1:] == (1,)
    before = [w.copy() for w in g.get_weights() + d.get_weights()]
    batch = np.random.default_rng(0).integers(0, 256, (2, size, size, 1), dtype=np.uint8)
    for _ in range(2):
        losses = state.train_batch(batch)
        assert np.isfinite(losses["d_loss"]) and np.isfinite(losses["g_loss"])
    after = g.get_weights() + d.get_weights()
    assert sum(not np.array_equal(a, b) for a, b in zip(before, after, strict=True)) > len(after) // 2
    images = state.models.generate(np.zeros((3, *cfg.latent_shape), np.float32))
    assert images.shape == (3, size, size, 1) and np.abs(images).max() <= 1.0


def _layer_types(model: keras.Model) -> list[str]:
    return [type(layer).__name__ for layer in model.layers]


def test_dcgan64_is_the_jhayes14_shape():
    """BatchNorm, upsampling and ReLU in G; four stride-2 convolutions and no BatchNorm in D."""
    cfg = GanConfig(size=64, channels=3, arch="dcgan64", g_filters=128, d_filters=128)
    g, d = build_generator(cfg), build_discriminator(cfg)
    assert _layer_types(g).count("UpSampling2D") == 4 and _layer_types(g).count("BatchNormalization") == 4
    assert g.layers[1].units == 4 * 4 * 1024  # Dense to a 4x4 map of 1024 filters
    convs = [layer for layer in d.layers if type(layer).__name__ == "Conv2D"]
    assert [c.filters for c in convs] == [128, 256, 512, 1024] and all(c.strides == (2, 2) for c in convs)
    assert "BatchNormalization" not in _layer_types(d)
    with pytest.raises(ValueError, match="--size 64 or 32"):
        GanConfig(size=28, arch="dcgan64")
    with pytest.raises(ValueError, match="no BatchNorm in D"):
        GanConfig(size=64, arch="dcgan64", d_batchnorm=True)


def test_dcgan_knobs_shape_the_networks():
    plain = build_discriminator(GanConfig(size=28, channels=1, d_filters=8))
    normed = build_discriminator(GanConfig(size=28, channels=1, d_filters=8, d_batchnorm=True, bn_momentum=0.8))
    assert "BatchNormalization" not in _layer_types(plain)
    norms = [layer for layer in normed.layers if type(layer).__name__ == "BatchNormalization"]
    assert len(norms) == 1 and norms[0].momentum == 0.8  # never on the first layer
    cfg = GanConfig(size=28, channels=1, g_filters=8, d_filters=4, leaky_alpha=0.1, dropout=0.5)
    g, d = build_generator(cfg), build_discriminator(cfg)
    assert [layer.negative_slope for layer in g.layers if type(layer).__name__ == "LeakyReLU"] == [0.1, 0.1]
    assert [layer.rate for layer in d.layers if type(layer).__name__ == "Dropout"] == [0.5, 0.5]
    assert [layer.filters for layer in d.layers if type(layer).__name__ == "Conv2D"] == [4, 8]


def test_convdense_takes_image_noise_and_scales_with_width():
    small, big = (_config("convdense", 28, 3, width=w) for w in (0.125, 0.25))
    g = build_generator(small)
    assert g.input_shape[1:] == (28, 28, 3)
    types = _layer_types(g)
    assert types.index("Conv2D") < types.index("Dense") < types.index("Reshape")  # conv, then dense, then image
    d_types = _layer_types(build_discriminator(small))
    assert d_types.index("Conv2D") < d_types.index("Dense")
    ratio = build_generator(big).count_params() / g.count_params()
    assert 2.5 < ratio < 4.5  # the dense layer dominates and grows with width squared
    with pytest.raises(ValueError, match="--noise-shape image"):
        GanConfig(size=28, arch="convdense", noise_shape="vector")


def test_mlp_is_two_layers_of_the_given_width():
    cfg = GanConfig(size=28, channels=1, arch="mlp", latent_dim=100, hidden_units=512)
    g, d = build_generator(cfg), build_discriminator(cfg)
    assert [layer.units for layer in g.layers if type(layer).__name__ == "Dense"] == [512, 784]
    assert [layer.units for layer in d.layers if type(layer).__name__ == "Dense"] == [512, 1]
    assert g.count_params() == 100 * 512 + 512 + 512 * 784 + 784
    assert d.count_params() == 784 * 512 + 512 + 512 + 1


def test_image_noise_works_for_the_vector_architectures_too():
    cfg = _config("dcgan", 28, noise_shape="image")
    assert build_generator(cfg).input_shape[1:] == (28, 28, 1)
