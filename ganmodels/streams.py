"""The stateless random streams of a training step: latents, labels, augmentations, penalty points
(TensorFlow's; JAX's, with the same names and meaning, are in ganmodels/backends/jax.py).

Every draw is a pure function of (seed, global step, pass, purpose), so a resumed run draws what the
uninterrupted run would have, with no random-generator state to save. Draws are made for the global
batch and each replica of a mirrored run takes its own rows (`Rows`), so the layout does not change
them. A step makes several passes: the main D-and-G update (pass 0), extra critic updates before it
(`n_critic`), and the balance rule's extra D or G updates after it. Each pass has its own streams;
the balance passes reuse pass 0's latents, so they train again on the same batch, as the jhayes14
rule did. A sequential step's second update draws its own latents (`SECOND_PASS`) unless it reuses them.
"""

from ganmodels.config import GanConfig
from ganmodels.stream_ids import (  # noqa: F401  (re-exported: the streams' names)
    BALANCE_D_PASS,
    BALANCE_G_PASS,
    FAKE_AUGMENT,
    LABELS,
    LATENTS,
    MAIN_PASS,
    PENALTY,
    REAL_AUGMENT,
    SECOND_PASS,
    STATS_PASS,
)
from ganmodels.tf import tf


class Rows:
    """One replica's rows [start, start + count) of a global batch of `total` rows."""

    def __init__(self, start, count, total):
        self.start, self.count, self.total = start, count, total

    @classmethod
    def whole(cls, count) -> "Rows":
        return cls(0, count, count)

    def take(self, draw):
        return draw[self.start :][: self.count]

    def uniform(self, tail, seed, low=0.0, high=1.0, dtype=tf.float32):
        """Uniform draws of shape (count, *tail): this replica's rows of the global draw."""
        return self.take(tf.random.stateless_uniform((self.total, *tail), seed, low, high, dtype=dtype))

    def normal(self, tail, seed):
        return self.take(tf.random.stateless_normal((self.total, *tail), seed))


def _fold(seed, *data):
    for value in data:
        seed = tf.random.experimental.stateless_fold_in(seed, tf.cast(value, tf.int64))
    return seed


def base_seed(config: GanConfig, step):
    return tf.stack([tf.cast(config.seed, tf.int64), tf.cast(step, tf.int64)])


def step_seed(config: GanConfig, step, pass_index, purpose: int):
    """The seed of one purpose in one pass of one step."""
    return _fold(base_seed(config, step), pass_index, purpose)


def step_latents(config: GanConfig, step, rows: Rows, pass_index: int = MAIN_PASS):
    """This replica's latents for one pass of global step `step`: the same in every run and device layout.

    The main pass of a normal-latent run draws from (seed, step) directly, as ganflow always has.
    """
    seed = base_seed(config, step) if pass_index == MAIN_PASS else step_seed(config, step, pass_index, LATENTS)
    if config.latent_dist == "uniform":
        return rows.uniform(config.latent_shape, seed, -1.0, 1.0)
    return rows.normal(config.latent_shape, seed)


def stats_latents(config: GanConfig, count: int):
    """A fixed batch of latents, the same at every step, for measuring the sampler's BatchNorm statistics.

    Fixed rather than per step, so the statistics are a pure function of the weights: recomputing
    them from a checkpoint gives the values the run had.
    """
    return step_latents(config, 0, Rows.whole(count), STATS_PASS)
