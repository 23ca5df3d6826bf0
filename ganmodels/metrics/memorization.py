"""Memorization check: is each generated image a near-copy of a training image?

For every generated image, the two nearest training images by L2 distance in pixel space, over the whole
training set in batches. A near-copy is far closer to one training image than to any other: its nearest
is under `NEAR_COPY_RATIO` times its second nearest (the ratio test). Distance alone misleads: a blurry
or average face is close to many faces at once (the mean face of the 100-face sample is closer to every
training face than real faces are to each other), so it scores as a "copy" by distance while its ratio
stays near 1. Real faces against the others of their own set are the yardstick (`real_near_copy_fraction`):
on the sample none of the 100 falls under 0.8; a training face with noise of std 20 of 255 falls under 0.52.
"""

import numpy as np

from ganmodels.metrics.registry import Metric, SweepColumn, register

NEAR_COPY_RATIO = 0.6  # nearest / second-nearest training distance under this: a near-copy


def _flat(images: np.ndarray) -> np.ndarray:
    return images.reshape(len(images), -1).astype(np.float32) / 255.0


def nearest(queries: np.ndarray, train: np.ndarray, exclude: np.ndarray | None = None, batch: int = 4096):
    """(distances, indices, second distances) of each query's nearest and second-nearest training image,
    reading `train` batch by batch. `exclude[k]` is a training index that query k may not match (itself, for
    real-to-real distances). With a single training image the second distance is inf."""
    q = _flat(queries)
    q_sq = (q**2).sum(1)
    best_d = np.full(len(q), np.inf, np.float32)
    second_d = np.full(len(q), np.inf, np.float32)
    best_i = np.zeros(len(q), np.int64)
    rows = np.arange(len(q))
    for start in range(0, len(train), batch):
        t = _flat(np.asarray(train[start : start + batch]))
        d2 = q_sq[:, None] + (t**2).sum(1)[None, :] - 2 * q @ t.T
        if exclude is not None:
            own = (exclude >= start) & (exclude < start + len(t))
            d2[np.flatnonzero(own), exclude[own] - start] = np.inf
        i = d2.argmin(1)
        d = np.sqrt(np.maximum(d2[rows, i], 0))
        d2[rows, i] = np.inf
        runner_up = np.sqrt(np.maximum(d2.min(1), 0)) if d2.shape[1] > 1 else np.full(len(q), np.inf, np.float32)
        better = d < best_d
        second_d = np.where(better, np.minimum(best_d, runner_up), np.minimum(second_d, d))
        best_d[better], best_i[better] = d[better], i[better] + start
    return best_d, best_i, second_d


def _near_copies(d: np.ndarray, second: np.ndarray) -> np.ndarray:
    return d < NEAR_COPY_RATIO * second


def memorization(fake: np.ndarray, train: np.ndarray, real_probe: int = 512, seed: int = 0) -> dict:
    """Near-copies among the generated images, beside the same figure for real images against their own set.

    Returns `near_copy_fraction` (generated images under `NEAR_COPY_RATIO` of the way to their second
    nearest training image), `real_near_copy_fraction` (real images against the other training images: what
    new faces of this set score, about 0), distance quantiles with `real_nn_median` (the typical distance
    between real faces) and `closer_than_real_fraction` (generated images nearer a training image than that:
    about half for new faces, near all for blurry ones, so no sign of copying on its own), and `closest`:
    (fake index, train index, distance) of the 8 closest pairs, for a side-by-side picture.
    """
    d, idx, second = nearest(fake, train)
    probe = np.sort(np.random.default_rng(seed).choice(len(train), min(real_probe, len(train)), replace=False))
    real_d, _, real_second = nearest(np.asarray(train[probe]), train, exclude=probe)
    yardstick = float(np.median(real_d))
    order = np.argsort(d)[:8]
    return {
        "near_copy_fraction": float(np.mean(_near_copies(d, second))),
        "real_near_copy_fraction": float(np.mean(_near_copies(real_d, real_second))),
        "near_copy_ratio": NEAR_COPY_RATIO,
        "nn_quantiles": {str(q): float(np.quantile(d, q)) for q in (0.0, 0.1, 0.5, 0.9)},
        "real_nn_median": yardstick,
        "closer_than_real_fraction": float(np.mean(d < yardstick)),
        "closest": [(int(i), int(idx[i]), float(d[i])) for i in order],
    }


def _lines(mem: dict) -> list[str]:
    """The check in words that cannot be read as an alarm when there is none: near-copies beside what real
    faces of the same set score, then the distances, with why being close is normal."""
    return [
        f"Memorization: {mem['near_copy_fraction']:.1%} of generated images are near-copies of a training image "
        f"(real faces against the rest of their set: {mem['real_near_copy_fraction']:.1%}; a near-copy is under "
        f"{mem['near_copy_ratio']:g}x as far from its nearest training image as from the next one)",
        f"  distance to the nearest training image: median {mem['nn_quantiles']['0.5']:.2f} for generated images, "
        f"{mem['real_nn_median']:.2f} between real faces; {mem['closer_than_real_fraction']:.0%} of generated images "
        "are nearer than that, as blurry or average-looking faces are (new real faces: about 50%): "
        "no sign of copying on its own",
    ]


register(
    Metric(
        "memorization",
        order=50,
        lower_is_better=True,
        once=lambda sets: memorization(sets.fake, sets.train),
        pairs="closest",  # the evaluate step's nearest-neighbour picture
        lines=_lines,
        sweep=lambda e, train: {"memorized": (e or {}).get("near_copy_fraction")},  # the share of near-copies
        sweep_columns=(
            SweepColumn(
                "near-copies", "---:", lambda c: f"{c['memorized']:.1%}" if c.get("memorized") is not None else "-"
            ),
        ),
        table_fields=("memorized",),
    )
)
