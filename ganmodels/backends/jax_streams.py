"""JAX's stateless random streams of a training step: `jax.random` keys folded from (seed, step, pass, purpose)
(the ids of ganmodels/stream_ids.py), drawn for the global batch, so a resumed run and any device layout draw
the same numbers. TensorFlow's are ganmodels/streams.py; the two draw different numbers."""

import jax
import jax.numpy as jnp
import numpy as np

from ganmodels.config import GanConfig
from ganmodels.stream_ids import LATENTS, MAIN_PASS, STATS_PASS


def base_key(config: GanConfig, step):
    return jax.random.fold_in(jax.random.key(config.seed), step)


def step_key(config: GanConfig, step, pass_index, purpose: int):
    """The key of one purpose in one pass of one step."""
    return jax.random.fold_in(jax.random.fold_in(base_key(config, step), pass_index), purpose)


def step_latents(config: GanConfig, step, count: int, pass_index: int = MAIN_PASS):
    """The latents of one pass of global step `step` (the global batch: the layout does not change them)."""
    key = base_key(config, step) if pass_index == MAIN_PASS else step_key(config, step, pass_index, LATENTS)
    shape = (count, *config.latent_shape)
    if config.latent_dist == "uniform":
        return jax.random.uniform(key, shape, jnp.float32, -1.0, 1.0)
    return jax.random.normal(key, shape, jnp.float32)


def stats_latents(config: GanConfig, count: int) -> np.ndarray:
    """The fixed latents the sampler's BatchNorm statistics are measured on (`ganmodels/sampler_stats.py`)."""
    return np.asarray(step_latents(config, 0, count, STATS_PASS))


def _uniform(key, count: int, tail: tuple, low=0.0, high=1.0):
    return jax.random.uniform(key, (count, *tail), jnp.float32, low, high)
