"""Deterministic batches from a uint8 image array, which may be memory-mapped: through tf.data on TensorFlow,
a plain iterator of numpy batches on JAX (same batches, same order).

The shuffle of each epoch is a pure function of (seed, epoch), so a run resumed in the middle of an
epoch skips exactly the batches it had already trained on. Only the batches in flight are read into
memory, and they stay uint8: scaling to [-1, 1] happens inside the train step.

Two samplings: "permutation" (ganflow's: N // batch batches of one shuffle, each image once) and
"replacement" (the Keras hobby loops': round(N / batch) batches, each drawn at random with replacement,
`X[np.random.randint(0, N, size=batch)]`), both pure functions of (seed, epoch).
"""

from collections.abc import Iterator

import numpy as np

from ganmodels.backend import current_backend


def effective_batch_size(num_images: int, batch_size: int) -> int:
    """A batch never exceeds the data set, so a tiny set still trains (one full batch per epoch)."""
    return max(1, min(batch_size, num_images))


def steps_per_epoch(num_images: int, batch_size: int, sampling: str = "permutation") -> int:
    """Whole batches only: the last partial batch is dropped, so the compiled step never retraces.
    Drawn with replacement, an epoch is round(N / batch) batches, as the seeds' `int(round(N / batch))`."""
    bs = effective_batch_size(num_images, batch_size)
    return max(1, round(num_images / bs)) if sampling == "replacement" else num_images // bs


def epoch_permutation(num_images: int, seed: int, epoch: int) -> np.ndarray:
    """The shuffle of one epoch."""
    return np.random.default_rng([seed, epoch]).permutation(num_images)


def epoch_batch_indices(
    num_images: int, batch_size: int, seed: int, epoch: int, sampling: str = "permutation"
) -> np.ndarray:
    """(steps, batch) image indices of one epoch, in training order."""
    bs = effective_batch_size(num_images, batch_size)
    steps = steps_per_epoch(num_images, batch_size, sampling)
    if sampling == "replacement":
        return np.random.default_rng([seed, epoch]).integers(0, num_images, (steps, bs))
    return epoch_permutation(num_images, seed, epoch)[: steps * bs].reshape(steps, bs)


def _gatherer(images: np.ndarray, shape: tuple):
    def gather(idx: np.ndarray) -> np.ndarray:
        order = np.argsort(idx)
        batch = np.empty(shape, np.uint8)
        batch[order] = images[idx[order]]  # read in file order (kind to a memory map), keep training order
        return batch

    return gather


def epoch_batches(
    images: np.ndarray, batch_size: int, seed: int, epoch: int, skip: int = 0, sampling: str = "permutation"
) -> Iterator[np.ndarray]:
    """The uint8 batches of one epoch from `skip` on, as numpy arrays, read one at a time (no TensorFlow)."""
    indices = epoch_batch_indices(len(images), batch_size, seed, epoch, sampling)[skip:]
    gather = _gatherer(images, (indices.shape[1], *images.shape[1:]))
    return (gather(idx) for idx in indices)


def epoch_dataset(
    images: np.ndarray, batch_size: int, seed: int, epoch: int, skip: int = 0, sampling: str = "permutation"
):
    """The uint8 batches of one epoch from `skip` on, gathered from `images` and prefetched (a tf.data.Dataset;
    on JAX, which has no tf.data here, the numpy batches of `epoch_batches`)."""
    if current_backend() == "jax":
        return epoch_batches(images, batch_size, seed, epoch, skip, sampling)
    from ganmodels.tf import tf

    indices = epoch_batch_indices(len(images), batch_size, seed, epoch, sampling)[skip:]
    shape = (indices.shape[1], *images.shape[1:])
    gather = _gatherer(images, shape)
    ds = tf.data.Dataset.from_tensor_slices(indices)
    ds = ds.map(lambda idx: tf.ensure_shape(tf.numpy_function(gather, [idx], tf.uint8, stateful=False), shape))
    return ds.prefetch(2)
