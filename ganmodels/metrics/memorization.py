"""Memorization check: is each generated image a near-copy of a training image?

For every generated image, the nearest training image by L2 distance in pixel space, over the whole
training set in batches. The yardstick is the typical distance from a real image to its nearest
*other* real image: generated images much closer than that to a training image are likely copies.
"""

import numpy as np

from ganmodels.metrics.registry import Metric, SweepColumn, register


def _flat(images: np.ndarray) -> np.ndarray:
    return images.reshape(len(images), -1).astype(np.float32) / 255.0


def nearest(queries: np.ndarray, train: np.ndarray, exclude: np.ndarray | None = None, batch: int = 4096):
    """(distances, indices) of each query's nearest training image, reading `train` batch by batch.

    `exclude[k]` is a training index that query k may not match (itself, for real-to-real distances).
    """
    q = _flat(queries)
    q_sq = (q**2).sum(1)
    best_d = np.full(len(q), np.inf, np.float32)
    best_i = np.zeros(len(q), np.int64)
    for start in range(0, len(train), batch):
        t = _flat(np.asarray(train[start : start + batch]))
        d2 = q_sq[:, None] + (t**2).sum(1)[None, :] - 2 * q @ t.T
        if exclude is not None:
            own = (exclude >= start) & (exclude < start + len(t))
            d2[np.flatnonzero(own), exclude[own] - start] = np.inf
        i = d2.argmin(1)
        d = np.sqrt(np.maximum(d2[np.arange(len(q)), i], 0))
        better = d < best_d
        best_d[better], best_i[better] = d[better], i[better] + start
    return best_d, best_i


def memorization(fake: np.ndarray, train: np.ndarray, real_probe: int = 512, seed: int = 0) -> dict:
    """Nearest-neighbour distances of generated images, against real-to-real ones.

    Returns distance quantiles, `real_nn_median` (the yardstick), `copy_fraction` (generated images
    closer to a training image than that), and `closest`: (fake index, train index, distance) of the
    8 closest pairs, for a side-by-side picture.
    """
    d, idx = nearest(fake, train)
    probe = np.sort(np.random.default_rng(seed).choice(len(train), min(real_probe, len(train)), replace=False))
    real_d, _ = nearest(np.asarray(train[probe]), train, exclude=probe)
    yardstick = float(np.median(real_d))
    order = np.argsort(d)[:8]
    return {
        "nn_quantiles": {str(q): float(np.quantile(d, q)) for q in (0.0, 0.1, 0.5, 0.9)},
        "real_nn_median": yardstick,
        "copy_fraction": float(np.mean(d < yardstick)),
        "closest": [(int(i), int(idx[i]), float(d[i])) for i in order],
    }


def _lines(e: dict) -> list[str]:
    return [
        f"Memorization: {e['copy_fraction']:.1%} of generated images are closer to a training image "
        f"than real images are to each other (median {e['real_nn_median']:.2f})"
    ]


register(
    Metric(
        "memorization",
        order=50,
        lower_is_better=True,
        once=lambda sets: memorization(sets.fake, sets.train),  # its "closest" pairs: the evaluate step's picture
        lines=_lines,
        sweep=lambda e, train: {"memorized": (e or {}).get("copy_fraction")},
        sweep_columns=(
            SweepColumn(
                "memorized", "---:", lambda c: f"{c['memorized']:.1%}" if c.get("memorized") is not None else "-"
            ),
        ),
        table_fields=("memorized",),
    )
)
