"""Deterministic batches from a uint8 image array, which may be memory-mapped."""

from collections.abc import Iterator

import numpy as np


def effective_batch_size(num_images: int, batch_size: int) -> int:
    """A batch never exceeds the data set, so a tiny set still trains (one full batch per epoch)."""
    return max(1, min(batch_size, num_images))


def steps_per_epoch(num_images: int, batch_size: int) -> int:
    """Whole batches only: the last partial batch is dropped, so the compiled step never retraces."""
    return num_images // effective_batch_size(num_images, batch_size)


def epoch_permutation(num_images: int, seed: int, epoch: int) -> np.ndarray:
    """The shuffle of one epoch, a pure function of (seed, epoch) so a resumed run sees the same order."""
    return np.random.default_rng([seed, epoch]).permutation(num_images)


def epoch_batches(images: np.ndarray, batch_size: int, seed: int, epoch: int) -> Iterator[np.ndarray]:
    """Yield the uint8 batches of one epoch; only one batch is read into memory at a time."""
    bs = effective_batch_size(len(images), batch_size)
    order = epoch_permutation(len(images), seed, epoch)
    for i in range(steps_per_epoch(len(images), batch_size)):
        yield np.asarray(images[order[i * bs : (i + 1) * bs]])
