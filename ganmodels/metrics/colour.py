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

from ganmodels.metrics.histogram import histogram_distance
from ganmodels.metrics.registry import Metric, SweepColumn, num, register


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


def colour_scores(real: np.ndarray, fake: np.ndarray) -> dict[str, float]:
    """The colour figure, the colour-histogram distance, and both sets' colour spread (0..255)."""
    real_means, fake_means = mean_colours(real), mean_colours(fake)
    return {
        "figure": colour_distance(real_means, fake_means),
        "histogram": histogram_distance(real, fake),
        "spread_real": spread(real_means),
        "spread_fake": spread(fake_means),
    }


def _epoch(real: np.ndarray, fake: np.ndarray, train: np.ndarray | None) -> dict[str, float]:
    """With `train` (training images, when `real` are held-out ones) the colour figure against those too."""
    colour = colour_scores(real, fake)
    scores = {
        "colour": round(colour["figure"], 4),
        "hist": round(colour["histogram"], 5),
        "spread_real": round(colour["spread_real"], 3),
        "spread_fake": round(colour["spread_fake"], 3),
    }
    if train is not None:
        scores["colour_train"] = round(colour_distance(mean_colours(train), mean_colours(fake)), 4)
    return scores


def _brief(e: dict) -> str:
    return (
        f"colour {e['figure']:.2f} (spread generated {e['spread_fake']:.1f}, real {e['spread_real']:.1f}), "
        f"histogram {e['histogram']:.3f}"
    )


def _sweep(e: dict | None, train: dict | None) -> dict:
    e = e or {}
    return {
        "colour": e.get("figure"),
        "hist": e.get("histogram"),
        "spread_real": e.get("spread_real"),
        "spread_fake": e.get("spread_fake"),
        "colour_train": (train or {}).get("figure"),
    }


def _with_train(c: dict) -> str:
    return num(c.get("colour")) + (f" ({num(c['colour_train'])})" if c.get("colour_train") is not None else "")


register(
    Metric(
        "colour",
        order=20,
        lower_is_better=True,
        columns=("colour", "colour_train", "hist", "spread_real", "spread_fake"),
        scalars=("colour", "hist", "spread_fake"),
        epoch=_epoch,
        per_set=colour_scores,
        brief=_brief,
        sweep=_sweep,
        sweep_columns=(
            SweepColumn("colour (train)", "---:", _with_train),
            SweepColumn("histogram", "---:", lambda c: num(c.get("hist"), 3)),
            SweepColumn(
                "colour spread",
                "---",
                lambda c: f"{num(c['spread_fake'], 1)} ({num(c.get('spread_real'), 1)})"
                if c.get("spread_fake")
                else "-",
            ),
        ),
    )
)
