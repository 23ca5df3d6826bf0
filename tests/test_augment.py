"""DiffAugment keeps the shape, lets gradients through, and draws from its seed alone."""

import numpy as np
import pytest

from ganmodels.augment import POLICIES, diff_augment
from ganmodels.streams import Rows
from ganmodels.tf import tf

SEED = tf.constant([3, 9], tf.int64)


def _images(n=6, size=32, channels=3):
    return tf.constant(np.random.default_rng(0).uniform(-1, 1, (n, size, size, channels)), tf.float32)


@pytest.mark.parametrize("policies", [(p,) for p in POLICIES] + [tuple(POLICIES)])
def test_keeps_the_shape_changes_the_images_and_is_differentiable(policies):
    x = _images()
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = diff_augment(x, policies, SEED)
        loss = tf.reduce_sum(y * tf.range(1.0, 1.0 + y.shape[-1]))
    assert y.shape == x.shape and y.dtype == x.dtype
    assert not np.allclose(y.numpy(), x.numpy())
    grad = tape.gradient(loss, x)
    assert grad is not None and np.isfinite(grad.numpy()).all() and np.abs(grad.numpy()).sum() > 0


def test_same_seed_same_augmentation_and_rows_slice_the_whole_batch():
    x = _images(8)
    policies = tuple(POLICIES)
    whole = diff_augment(x, policies, SEED).numpy()
    np.testing.assert_array_equal(whole, diff_augment(x, policies, SEED).numpy())
    assert not np.array_equal(whole, diff_augment(x, policies, tf.constant([3, 10], tf.int64)).numpy())
    halves = [diff_augment(x[s : s + 4], policies, SEED, Rows(s, 4, 8)).numpy() for s in (0, 4)]
    np.testing.assert_array_equal(np.concatenate(halves), whole)


def test_translation_shifts_and_cutout_zeroes_a_square():
    x = tf.ones([16, 32, 32, 1])
    shifted = diff_augment(x, ("translation",), SEED).numpy()
    zeros = (shifted == 0).sum(axis=(1, 2, 3))
    assert zeros.max() > 0 and zeros.max() <= 32 * 32 - 28 * 28  # at most 4 px (1/8 of 32) in each direction
    cut = diff_augment(x, ("cutout",), SEED).numpy()
    assert ((cut == 0).sum(axis=(1, 2, 3)) <= 16 * 16).all() and (cut == 0).any()
    assert diff_augment(x, (), SEED) is x  # no policy: untouched


def test_works_on_grayscale_and_in_a_compiled_function():
    x = _images(4, 28, 1)
    compiled = tf.function(lambda images, seed: diff_augment(images, tuple(POLICIES), seed))
    np.testing.assert_allclose(compiled(x, SEED).numpy(), diff_augment(x, tuple(POLICIES), SEED).numpy(), atol=1e-6)
