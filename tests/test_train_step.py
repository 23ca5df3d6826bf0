import subprocess
import sys
import textwrap

import numpy as np

from ganmodels.config import GanConfig
from ganmodels.data import epoch_batches, steps_per_epoch
from ganmodels.state import TrainingState
from ganmodels.tf import tf

TINY = GanConfig(size=28, channels=1, latent_dim=8, batch_size=4, g_filters=8, d_filters=8, seed=3)


def _data(n=8):
    return np.random.default_rng(0).integers(0, 256, (n, 28, 28, 1), dtype=np.uint8)


def _weights(state):
    return [w.copy() for w in state.models.generator.get_weights() + state.models.discriminator.get_weights()]


def test_train_step_changes_both_networks_and_returns_finite_losses():
    state = TrainingState.build(TINY)
    g0, d0 = state.models.generator.get_weights(), state.models.discriminator.get_weights()
    losses = state.train_step(_data(4))
    assert set(losses) == {"d_loss", "g_loss"} and all(np.isfinite(v) for v in losses.values())
    assert any(not np.array_equal(a, b) for a, b in zip(g0, state.models.generator.get_weights(), strict=True))
    assert any(not np.array_equal(a, b) for a, b in zip(d0, state.models.discriminator.get_weights(), strict=True))


def test_ganmodels_trains_without_prefect():
    code = textwrap.dedent(
        """
        import sys, numpy as np
        from ganmodels.config import GanConfig
        from ganmodels.state import TrainingState
        cfg = GanConfig(size=28, channels=1, latent_dim=8, batch_size=2, g_filters=8, d_filters=8)
        state = TrainingState.build(cfg)
        state.train_step(np.zeros((2, 28, 28, 1), np.uint8))
        assert not any(m == "prefect" or m.startswith("prefect.") for m in sys.modules), "prefect was imported"
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_epoch_batches_are_deterministic_and_cover_whole_batches():
    images = _data(10)
    first = list(epoch_batches(images, 4, seed=1, epoch=1))
    again = list(epoch_batches(images, 4, seed=1, epoch=1))
    other = list(epoch_batches(images, 4, seed=1, epoch=2))
    assert len(first) == steps_per_epoch(10, 4) == 2
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))
    assert steps_per_epoch(3, 16) == 1  # a set smaller than a batch still trains


def test_checkpoint_restores_the_exact_training_trajectory(tmp_path):
    """Training on after a restore matches training straight through, bit for bit."""
    data = _data(8)
    straight = TrainingState.build(TINY)
    for _ in range(2):
        straight.train_step(data[:4])
    path = straight.checkpoint.write(str(tmp_path / "ckpt"))
    for _ in range(2):
        straight.train_step(data[4:])

    resumed = TrainingState.build(TINY)
    resumed.checkpoint.read(path).assert_existing_objects_matched()
    for _ in range(2):
        resumed.train_step(data[4:])
    for a, b in zip(_weights(straight), _weights(resumed), strict=True):
        np.testing.assert_array_equal(a, b)
    assert tf.reduce_all(straight.latent_rng.state == resumed.latent_rng.state)
