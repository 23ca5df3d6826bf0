"""The pictures show what the generator has learned from the first epochs (issue 14, point 1).

Early in a run BatchNorm's moving averages (momentum 0.99) lag far behind the weights, so inference-mode
sampling drew flat grey squares for the first dozens of epochs on the sample. The sampler's statistics
are now measured on its own weights before it draws or is saved (`ganmodels/sampler_stats.py`).
"""

from pathlib import Path

import numpy as np
import pytest

from flows.params import RunParams
from ganmodels.config import GanConfig
from ganmodels.networks import build_generator
from ganmodels.sampler_stats import STATS_LATENTS, batchnorm_layers, refresh_sampler_stats
from ganmodels.streams import stats_latents
from ganmodels.train_step import to_uint8


def per_image_std(images_uint8: np.ndarray) -> float:
    """Mean over images of each image's pixel standard deviation, on the 0-255 scale (flat grey: ~0)."""
    flat = images_uint8.reshape(len(images_uint8), -1).astype(np.float64)
    return float(flat.std(axis=1).mean())


def test_inference_mode_matches_training_mode_on_the_measured_latents():
    """After the refresh, inference mode normalises exactly as training mode does on that batch."""
    config = GanConfig(size=32, channels=3, g_filters=8, batch_size=4)
    generator = build_generator(config)
    z = stats_latents(config, STATS_LATENTS)
    in_training_mode = np.asarray(generator(z, training=True))
    stale = np.asarray(generator(z, training=False))  # moving mean 0, variance 1: far from the real ones
    assert not np.allclose(stale, in_training_mode, atol=1e-2)
    refresh_sampler_stats(generator, config)
    np.testing.assert_allclose(np.asarray(generator(z, training=False)), in_training_mode, atol=2e-3)


def test_batchnorm_inside_a_nested_block_is_measured_too():
    """An architecture built from nested blocks (a model inside the model) gets the same treatment."""
    from ganmodels.tf import keras

    config = GanConfig(size=28, channels=1, latent_dim=8)
    block = keras.Sequential([keras.layers.Dense(16), keras.layers.BatchNormalization(), keras.layers.ReLU()])
    z_in = keras.Input((8,))
    generator = keras.Model(z_in, keras.layers.Dense(4)(keras.layers.BatchNormalization()(block(z_in))))
    z = stats_latents(config, STATS_LATENTS)
    in_training_mode = np.asarray(generator(z, training=True))
    assert len(batchnorm_layers(generator)) == 2
    refresh_sampler_stats(generator, config)
    np.testing.assert_allclose(np.asarray(generator(z, training=False)), in_training_mode, atol=2e-3)


def test_the_statistics_are_a_pure_function_of_the_weights():
    """Fixed latents: refreshing twice, or a rebuilt copy with the same weights, gives the same values."""
    config = GanConfig(size=28, channels=1, g_filters=8, latent_dist="uniform")
    a, b = build_generator(config), build_generator(config)
    refresh_sampler_stats(a, config)
    first = [layer.moving_variance.numpy().copy() for layer in batchnorm_layers(a)]
    refresh_sampler_stats(a, config)
    refresh_sampler_stats(b, config)
    assert first and len(first) == len(batchnorm_layers(b))
    for x, y, z in zip(
        first, [v.moving_variance.numpy() for v in batchnorm_layers(a)], batchnorm_layers(b), strict=True
    ):
        np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(x, z.moving_variance.numpy())


@pytest.mark.slow
def test_five_epochs_on_the_sample_draw_images_with_structure(tmp_path: Path):
    """The default recipe on the built-in sample: after 5 epochs the grid and the saved generator are not flat.

    Before the fix the mean per-image std was about 6 of 255 here (about 60 in training mode).
    """
    from tasks.acquire.task import acquire_images
    from tasks.preprocess.task import preprocess_images
    from tasks.report.generate import generator_from_checkpoint, load_generator
    from tasks.run_folder import RunFolder
    from tasks.train.callbacks import GRID_SAMPLES
    from tasks.train.task import train_gan

    params = RunParams(epochs=5, data_dir=tmp_path / "data", run_dir=tmp_path / "run")
    data = preprocess_images(
        acquire_images("sample", params.data_dir), params.size, params.channels, "center", params.data_dir
    )
    config = params.gan_config()
    assert config.ema is not None and config.bn_momentum == 0.99  # the default run this guards
    train_gan(data, config, params.train_options(), params.run_dir)

    z = np.random.default_rng(0).standard_normal((GRID_SAMPLES, *config.latent_shape)).astype(np.float32)
    for generator in (load_generator(params.run_dir), generator_from_checkpoint(RunFolder(params.run_dir), "latest")):
        assert per_image_std(to_uint8(generator(z, training=False))) >= 20
    import imageio.v3 as iio

    grid = iio.imread(params.run_dir / "samples" / "epoch_0001.png")
    cells = [
        grid[r : r + 32, c : c + 32] for r in range(2, grid.shape[0] - 32, 34) for c in range(2, grid.shape[1] - 32, 34)
    ]
    assert per_image_std(np.stack(cells)) >= 20  # even the first epoch's grid is not flat
