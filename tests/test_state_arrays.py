"""A training state as named numpy arrays (`to_arrays` / `load_arrays`, what .npz checkpoints hold), on
TensorFlow in this process (JAX: tests/test_jax_backend.py)."""

import numpy as np
import pytest

from ganmodels.config import GanConfig
from ganmodels.networks import build_generator
from ganmodels.state import TrainingState, load_generator_arrays

CFG = GanConfig(size=28, channels=1, g_filters=8, d_filters=8, latent_dim=8, batch_size=4, seed=2, ema=0.9)


def _batches(n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [rng.integers(0, 256, (4, 28, 28, 1), dtype=np.uint8) for _ in range(n)]


@pytest.mark.slow
def test_tensorflow_resume_from_arrays_is_bit_exact():
    data = _batches(4)
    whole = TrainingState.build(CFG)
    for batch in data:
        whole.train_batch(batch)
    first = TrainingState.build(CFG)
    for batch in data[:2]:
        first.train_batch(batch)
    arrays = first.to_arrays()
    assert {"counters/step", "dropout_seeds/0000", "ema_generator/0000", "g_optimizer/0000"} <= set(arrays)
    second = TrainingState.build(CFG)
    second.load_arrays(arrays)
    assert second.counters() == {"epoch": 0, "step": 2, "batch_in_epoch": 2}
    for batch in data[2:]:
        second.train_batch(batch)
    expected, got = whole.to_arrays(), second.to_arrays()
    assert [k for k in expected if not np.array_equal(expected[k], got[k])] == []


def test_load_arrays_names_what_is_missing_or_misshapen():
    state = TrainingState.build(CFG)
    arrays = state.to_arrays()
    arrays.pop("discriminator/0001")
    arrays["generator/0000"] = np.zeros((3, 3), np.float32)
    arrays["mystery/0000"] = np.zeros(1)
    with pytest.raises(ValueError) as err:
        state.load_arrays(arrays)
    message = str(err.value)
    assert "missing discriminator/0001" in message and "unexpected mystery/0000" in message
    assert "wrong shape generator/0000 (3, 3)" in message and "\n" not in message


def test_a_generator_loads_from_a_state_s_arrays():
    state = TrainingState.build(CFG)
    arrays = state.to_arrays()
    arrays = {k: (v + 1 if k.startswith("ema_generator/") else v) for k, v in arrays.items()}
    generator = build_generator(CFG)
    load_generator_arrays(generator, arrays, "ema_generator")
    assert np.array_equal(generator.weights[0].numpy(), arrays["ema_generator/0000"])
    with pytest.raises(ValueError, match="hold no generator weights"):
        load_generator_arrays(generator, {}, "generator")
