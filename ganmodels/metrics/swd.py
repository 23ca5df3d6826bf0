"""Sliced Wasserstein distance over Laplacian-pyramid patches (Karras et al. 2018, ProGAN).

Per pyramid level (full size down while the side is >= 16): 128 random 7x7 patches per image, away
from the borders; each channel normalised over all patches of the set; then 4 repeats of 128 random
unit directions, sorted projections, mean absolute difference, x 1e3. Lower is better; a set
against itself gives about 0.
"""

import numpy as np
from scipy.ndimage import convolve

from ganmodels.metrics.registry import Metric, SweepColumn, num, register

_BINOMIAL = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]).astype(np.float32) / 256.0
PATCH = 7
PATCHES_PER_IMAGE = 128
REPEATS = 4
DIRECTIONS = 128
MIN_SIDE = 16


def _blur(images: np.ndarray) -> np.ndarray:
    """5x5 binomial filter over H and W of (N, H, W, C)."""
    return convolve(images, _BINOMIAL[None, :, :, None], mode="mirror")


def _down(images: np.ndarray) -> np.ndarray:
    return _blur(images)[:, ::2, ::2]


def _up(images: np.ndarray, shape: tuple) -> np.ndarray:
    out = np.zeros((images.shape[0], shape[1], shape[2], images.shape[3]), np.float32)
    out[:, ::2, ::2] = images
    return _blur(out) * 4.0


def laplacian_pyramid(images: np.ndarray) -> list[np.ndarray]:
    """Band-pass levels from full size down while the side is >= MIN_SIDE (the last keeps its low band)."""
    levels, current = [], images.astype(np.float32)
    while current.shape[1] >= MIN_SIDE:
        smaller = _down(current)
        if smaller.shape[1] >= MIN_SIDE:
            levels.append(current - _up(smaller, current.shape))
        else:
            levels.append(current)
        current = smaller
    return levels or [images.astype(np.float32)]


def patch_descriptors(level: np.ndarray, per_image: int, rng: np.random.Generator) -> np.ndarray:
    """(N * per_image, C, 7, 7) random patches lying wholly inside the image."""
    n, h, w, _ = level.shape
    windows = np.lib.stride_tricks.sliding_window_view(level, (PATCH, PATCH), axis=(1, 2))  # (n, h-6, w-6, C, 7, 7)
    tops = rng.integers(0, h - PATCH + 1, (n, per_image))
    lefts = rng.integers(0, w - PATCH + 1, (n, per_image))
    patches = windows[np.arange(n)[:, None], tops, lefts]  # (n, per_image, C, 7, 7)
    return patches.reshape(n * per_image, *patches.shape[2:])


def _normalise(desc: np.ndarray) -> np.ndarray:
    """Zero mean, unit variance per channel over all patches of the set; flattened descriptors."""
    desc = (desc - desc.mean(axis=(0, 2, 3), keepdims=True)) / (desc.std(axis=(0, 2, 3), keepdims=True) + 1e-8)
    return desc.reshape(len(desc), -1).astype(np.float32)


def sliced_wasserstein(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> float:
    """Mean over REPEATS x DIRECTIONS random unit directions of the sorted-projection L1 distance."""
    results = []
    for _ in range(REPEATS):
        dirs = rng.standard_normal((a.shape[1], DIRECTIONS)).astype(np.float32)
        dirs /= np.linalg.norm(dirs, axis=0, keepdims=True)
        # (directions, patches): each direction's projections contiguous, so the sorts run fast
        pa, pb = np.sort(dirs.T @ a.T, axis=1), np.sort(dirs.T @ b.T, axis=1)
        results.append(float(np.abs(pa - pb).mean()))
    return float(np.mean(results))


def swd(real: np.ndarray, fake: np.ndarray, seed: int = 0, per_image: int = PATCHES_PER_IMAGE) -> dict:
    """SWD x 1e3 per pyramid level (finest first) and their mean, between two uint8 image sets."""
    if len(real) != len(fake):
        n = min(len(real), len(fake))
        real, fake = real[:n], fake[:n]
    per_level = []
    for level_real, level_fake in zip(laplacian_pyramid(real), laplacian_pyramid(fake), strict=True):
        # The same patch positions and directions for both sets: the difference is content alone.
        a = _normalise(patch_descriptors(level_real, per_image, np.random.default_rng(seed)))
        b = _normalise(patch_descriptors(level_fake, per_image, np.random.default_rng(seed)))
        per_level.append(sliced_wasserstein(a, b, np.random.default_rng(seed + 1)) * 1e3)
    return {"levels": per_level, "mean": float(np.mean(per_level))}


register(
    Metric(
        "swd",
        order=10,
        lower_is_better=True,
        columns=("swd",),
        scalars=("swd",),
        epoch=lambda real, fake, train: {"swd": round(swd(real, fake)["mean"], 4)},
        per_set=swd,
        lines=lambda e: [f"SWD x1e3: {e['mean']:.2f} (levels {', '.join(f'{v:.2f}' for v in e['levels'])})"],
        brief=lambda e: f"SWD x1e3 {e['mean']:.2f}",
        sweep=lambda e, train: {"swd": (e or {}).get("mean"), "swd_train": (train or {}).get("mean")},
        sweep_columns=(
            SweepColumn(
                "SWD (train)",
                "---:",
                lambda c: num(c.get("swd")) + (f" ({num(c['swd_train'])})" if c.get("swd_train") is not None else ""),
            ),
        ),
        table_fields=("swd",),
    )
)
