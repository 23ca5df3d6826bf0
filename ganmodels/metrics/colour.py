"""Colour fidelity: how far the generated per-image mean colours are from the real ones.

SWD normalises each channel over the whole set before comparing patches, so a generator that paints
every image the same greyish colour loses little on it. This figure looks at colour alone: each
image's mean colour (per channel, in 0..255), then per channel the 1-D Wasserstein-1 distance between
the real and the generated distributions of those means, averaged over the channels. 0 for identical
sets; a colour collapse (every image one colour) costs about the real colours' spread.

`colour_spread` of a set is the mean over channels of the standard deviation of per-image mean colour.
"""

import numpy as np
from scipy.stats import wasserstein_distance


def mean_colours(images: np.ndarray, batch: int = 4096) -> np.ndarray:
    """(N, C) per-image mean of each channel in 0..255, read batch by batch (a memory map stays one)."""
    parts = [
        np.asarray(images[start : start + batch], np.float64).mean(axis=(1, 2))
        for start in range(0, len(images), batch)
    ]
    return np.concatenate(parts) if parts else np.zeros((0, images.shape[-1]))


def colour_distance(real_means: np.ndarray, fake_means: np.ndarray) -> float:
    """Mean over channels of the 1-D Wasserstein-1 distance between two sets of per-image mean colours."""
    return float(
        np.mean([wasserstein_distance(real_means[:, c], fake_means[:, c]) for c in range(real_means.shape[1])])
    )


def spread(means: np.ndarray) -> float:
    """Mean over channels of the standard deviation of per-image mean colour."""
    return float(means.std(axis=0).mean())


def colour_spread(images: np.ndarray) -> float:
    """The colour spread of a uint8 set (N, H, W, C), in 0..255."""
    return spread(mean_colours(images))


def colour_figure(real: np.ndarray, fake: np.ndarray) -> float:
    """The colour figure between two uint8 sets (N, H, W, C): lower is better, 0 for identical sets."""
    return colour_distance(mean_colours(real), mean_colours(fake))
