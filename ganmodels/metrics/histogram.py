"""Colour-histogram distance: per channel, the total-variation distance between the 32-bin histograms
of all pixel values of the real and the generated set, averaged over channels.

Total variation is half the L1 distance of the two normalised histograms: 0 for equal histograms, 1
when they share no bin. Unlike the colour figure (ganmodels/metrics/colour.py), which compares each
image's mean, it sees the whole distribution of pixel values, contrast included.
"""

import numpy as np

BINS = 32


def channel_histograms(images: np.ndarray, bins: int = BINS, batch: int = 4096) -> np.ndarray:
    """(C, bins) normalised histograms of the uint8 pixel values of each channel."""
    channels = images.shape[-1]
    counts = np.zeros((channels, bins), np.float64)
    for start in range(0, len(images), batch):
        chunk = np.asarray(images[start : start + batch], np.uint8).reshape(-1, channels)
        for c in range(channels):
            counts[c] += np.bincount(chunk[:, c] // (256 // bins), minlength=bins)
    return counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)


def histogram_distance(real: np.ndarray, fake: np.ndarray, bins: int = BINS) -> float:
    """Mean over channels of the total-variation distance between the sets' pixel histograms, in [0, 1]."""
    p, q = channel_histograms(real, bins), channel_histograms(fake, bins)
    return float(0.5 * np.abs(p - q).sum(axis=1).mean())
