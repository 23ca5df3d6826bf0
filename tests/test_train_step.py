import dataclasses
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from ganmodels.config import GanConfig
from ganmodels.data import epoch_batch_indices, epoch_dataset, steps_per_epoch
from ganmodels.state import TrainingState

TINY = GanConfig(size=28, channels=1, latent_dim=8, batch_size=4, g_filters=8, d_filters=8, seed=3)


def _data(n=8):
    return np.random.default_rng(0).integers(0, 256, (n, 28, 28, 1), dtype=np.uint8)


def _weights(state):
    models = [state.models.generator, state.models.discriminator, state.models.ema_generator]
    return [w.copy() for m in models if m is not None for w in m.get_weights()]


@pytest.mark.slow
def test_train_step_changes_both_networks_and_returns_finite_losses():
    state = TrainingState.build(TINY)
    g0, d0 = state.models.generator.get_weights(), state.models.discriminator.get_weights()
    losses = state.train_batch(_data(4))
    assert set(losses) == {"d_loss", "g_loss", "d_extra", "g_extra"} and all(np.isfinite(v) for v in losses.values())
    assert int(state.step.numpy()) == 1 and int(state.batch_in_epoch.numpy()) == 1
    assert any(not np.array_equal(a, b) for a, b in zip(g0, state.models.generator.get_weights(), strict=True))
    assert any(not np.array_equal(a, b) for a, b in zip(d0, state.models.discriminator.get_weights(), strict=True))


@pytest.mark.slow
def test_ganmodels_trains_without_prefect():
    code = textwrap.dedent(
        """
        import sys, numpy as np
        from ganmodels.config import GanConfig
        from ganmodels.state import TrainingState
        cfg = GanConfig(size=28, channels=1, latent_dim=8, batch_size=2, g_filters=8, d_filters=8)
        state = TrainingState.build(cfg)
        state.train_batch(np.zeros((2, 28, 28, 1), np.uint8))
        assert not any(m == "prefect" or m.startswith("prefect.") for m in sys.modules), "prefect was imported"
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def _batches(images, epoch, skip=0):
    return [b.numpy() for b in epoch_dataset(images, 4, seed=1, epoch=epoch, skip=skip)]


def test_epoch_batches_are_deterministic_resumable_and_cover_whole_batches():
    images = _data(10)
    first, again, other = _batches(images, 1), _batches(images, 1), _batches(images, 2)
    assert len(first) == steps_per_epoch(10, 4) == 2
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))
    np.testing.assert_array_equal(_batches(images, 1, skip=1)[0], first[1])
    order = epoch_batch_indices(10, 4, seed=1, epoch=1)
    np.testing.assert_array_equal(first[0], images[order[0]])  # training order, not file order
    assert steps_per_epoch(3, 16) == 1  # a set smaller than a batch still trains


# Every source of randomness and every kind of extra state at once: label noise and flips, uniform
# latents, DiffAugment, the gradient penalty with critic passes, EMA, balance counts, D pre-training.
EVERYTHING = dataclasses.replace(
    TINY,
    latent_dist="uniform",
    loss="lsgan",
    label_smoothing=0.9,
    label_noise=0.1,
    flip_labels=0.2,
    diffaugment=("color", "translation", "cutout"),
    ema=0.9,
    balance_margin=0.0,
    balance_max_steps=2,
    d_pretrain_steps=1,
)
WGAN = dataclasses.replace(TINY, loss="wgan-gp", n_critic=2, diffaugment=("translation",), optimizer="rmsprop")


@pytest.mark.slow
@pytest.mark.parametrize("config", [TINY, EVERYTHING, WGAN], ids=["default", "everything", "wgan-gp"])
def test_checkpoint_restores_the_exact_training_trajectory(tmp_path, config):
    """Training on after a restore matches training straight through, bit for bit."""
    data = _data(8)
    straight = TrainingState.build(config)
    for _ in range(2):
        straight.train_batch(data[:4])
    path = straight.checkpoint.write(str(tmp_path / "ckpt"))
    for _ in range(2):
        straight.train_batch(data[4:])

    resumed = TrainingState.build(config)
    resumed.restore(path)
    assert int(resumed.step.numpy()) == 2 and int(resumed.batch_in_epoch.numpy()) == 2
    for _ in range(2):
        resumed.train_batch(data[4:])
    for a, b in zip(_weights(straight), _weights(resumed), strict=True):
        np.testing.assert_array_equal(a, b)
    assert straight.finish_epoch() == resumed.finish_epoch()  # the epoch's mean losses carried over too
    assert straight.extra_updates() == resumed.extra_updates()
