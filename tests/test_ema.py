"""The EMA generator: a smoothed copy of G that samples, saves and resumes."""

import numpy as np
import pytest

from ganmodels.config import GanConfig
from ganmodels.ema import effective_decay
from ganmodels.state import TrainingState

TINY = {"size": 28, "channels": 1, "latent_dim": 8, "batch_size": 4, "g_filters": 8, "d_filters": 8, "seed": 4}


def _data():
    return np.random.default_rng(1).integers(0, 256, (4, 28, 28, 1), dtype=np.uint8)


def _trained(ema: float | None, steps: int = 4) -> TrainingState:
    state = TrainingState.build(GanConfig(**TINY, ema=ema))
    for _ in range(steps):
        state.train_batch(_data())
    return state


@pytest.mark.slow
def test_ema_weights_lag_behind_the_raw_weights():
    state = _trained(0.999)
    raw, ema = state.models.generator, state.models.ema_generator
    pairs = zip(ema.trainable_weights, raw.trainable_weights, strict=True)
    assert all(not np.array_equal(e.numpy(), w.numpy()) for e, w in pairs)
    for e, w in zip(ema.non_trainable_weights, raw.non_trainable_weights, strict=True):
        np.testing.assert_array_equal(e.numpy(), w.numpy())  # BatchNorm statistics are copied
    assert state.models.sampler is ema
    z = state.fixed_latents(3)
    assert not np.allclose(state.models.generate(z), np.asarray(raw(z, training=False)))


@pytest.mark.slow
def test_decay_zero_is_the_raw_generator():
    state = _trained(0.0)
    for e, w in zip(state.models.ema_generator.weights, state.models.generator.weights, strict=True):
        np.testing.assert_array_equal(e.numpy(), w.numpy())


@pytest.mark.slow
def test_without_ema_the_raw_generator_samples():
    state = _trained(None, steps=1)
    assert state.models.ema_generator is None and state.models.sampler is state.models.generator


def test_decay_warms_up():
    assert float(effective_decay(0.999, 0)) == np.float32(0.1)
    assert float(effective_decay(0.999, 10**6)) == np.float32(0.999)


@pytest.mark.slow
def test_ema_is_checkpointed_and_added_to_an_older_checkpoint(tmp_path):
    state = _trained(0.99, steps=3)
    path = state.checkpoint.write(str(tmp_path / "ckpt"))
    again = TrainingState.build(GanConfig(**TINY, ema=0.99))
    again.restore(path)
    for a, b in zip(again.models.ema_generator.weights, state.models.ema_generator.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())

    plain = _trained(None, steps=2)
    old = plain.checkpoint.write(str(tmp_path / "plain"))
    turned_on = TrainingState.build(GanConfig(**TINY, ema=0.99))
    turned_on.restore(old)  # EMA switched on mid-run: it starts from G
    for e, w in zip(turned_on.models.ema_generator.weights, plain.models.generator.weights, strict=True):
        np.testing.assert_array_equal(e.numpy(), w.numpy())
    TrainingState.build(GanConfig(**TINY)).restore(path)  # and switched off: the EMA weights are ignored
