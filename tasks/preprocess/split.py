"""The held-out split of a preprocessed array: which images training never sees, and which it trains on.

A fixed, seeded share of the array is held out: `fraction` of it (default 10%), never below
MIN_HELD_OUT images, never above MAX_SHARE of the set, so most data stays for training. Sets below
MIN_SET_SIZE images (the 100-image sample) hold nothing out: 256 images would leave too little to train
on, and fewer would give held-out figures too noisy to compare. The split depends only on the number
of images and SPLIT_SEED, never on the run's --seed, so every recipe and seed is scored on the same
held-out images; its record (`Split.record`) goes into the run folder's config record with the data
identity, so a run folder always continues on the split it started with.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

DEFAULT_HOLDOUT = 0.1
MIN_HELD_OUT = 256
MAX_SHARE = 0.25
MIN_SET_SIZE = MIN_HELD_OUT * 4  # the smallest set where MIN_HELD_OUT is at most MAX_SHARE
SPLIT_SEED = 16_2026  # fixed: apart from every training stream, the same for every run


def held_out_count(total: int, fraction: float) -> int:
    """How many of `total` images are held out for `fraction` (0 turns the split off)."""
    if fraction <= 0 or total < MIN_SET_SIZE:
        return 0
    return min(max(round(fraction * total), MIN_HELD_OUT), int(total * MAX_SHARE))


@dataclass(frozen=True)
class Split:
    """A deterministic held-out split of `total` images."""

    total: int
    fraction: float
    held_out: int  # images held out; 0: training sees them all

    @classmethod
    def of(cls, total: int, fraction: float) -> Split:
        return cls(total, fraction, held_out_count(total, fraction))

    @cached_property
    def held_out_indices(self) -> np.ndarray:
        """Sorted indices of the held-out images."""
        pick = np.random.default_rng(SPLIT_SEED).permutation(self.total)[: self.held_out]
        return np.sort(pick)

    @cached_property
    def train_indices(self) -> np.ndarray:
        """Sorted indices of the images training sees."""
        keep = np.ones(self.total, bool)
        keep[self.held_out_indices] = False
        return np.flatnonzero(keep)

    def record(self) -> dict[str, Any]:
        """What the config record keeps: enough to rebuild the split, and a digest to check it."""
        digest = hashlib.sha256(self.held_out_indices.astype("<i8").tobytes()).hexdigest()[:16]
        return {"fraction": self.fraction, "total": self.total, "held_out": self.held_out, "digest": digest}

    @classmethod
    def from_record(cls, record: dict[str, Any] | None, total: int) -> Split:
        """The split a run folder recorded; none (everything trained on) for folders from before splits."""
        if not record:
            return cls(total, 0.0, 0)
        return cls(int(record["total"]), float(record["fraction"]), int(record["held_out"]))

    def training(self, images: np.ndarray) -> np.ndarray | Rows:
        """The images training sees: the array itself when nothing is held out (kept a memory map)."""
        return Rows(images, self.train_indices) if self.held_out else images

    def held_out_images(self, images: np.ndarray) -> Rows | None:
        return Rows(images, self.held_out_indices) if self.held_out else None


class Rows:
    """Some rows of an array, read only when indexed: a memory-mapped array stays on disk.

    Supports what training and the metrics ask of an image array: len, shape, dtype, and indexing by an
    int, a slice or an integer array (each returns a plain array of those rows, in the order asked).
    """

    def __init__(self, array: np.ndarray, indices: np.ndarray):
        self.array, self.indices = array, np.asarray(indices, np.int64)

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.indices), *self.array.shape[1:])

    @property
    def dtype(self) -> np.dtype:
        return self.array.dtype

    def __getitem__(self, key: Any) -> np.ndarray:
        return np.asarray(self.array[self.indices[key]])

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        rows = np.asarray(self.array[self.indices])
        return rows if dtype is None else rows.astype(dtype)
