"""Quality figures of generated images against real ones, as training (each `--eval-every` epochs) and the
evaluate step (the full set at the end) both score them: fixed real subsets and latents, so figures from
different epochs and runs compare.
"""

import numpy as np

from ganmodels.images import images_from, latent_shape
from ganmodels.latents import sample_latents
from ganmodels.metrics.registry import metrics

FULL_SUBSET = 2048
TRAINING_SUBSET = 256
EVAL_SEED = 1234  # latents and real subsets for evaluation; apart from the training streams


def real_subset(images: np.ndarray, count: int, seed: int = EVAL_SEED) -> np.ndarray:
    """A fixed random subset of real images (all of them when there are fewer)."""
    count = min(count, len(images))
    pick = np.sort(np.random.default_rng(seed).choice(len(images), count, replace=False))
    return np.asarray(images[pick])


def generated(generator, count: int, dist: str = "normal", seed: int = EVAL_SEED) -> np.ndarray:
    """`count` uint8 images from fixed latents of the generator's input shape and distribution."""
    return images_from(generator, sample_latents(count, latent_shape(generator), seed, dist=dist))


def epoch_scores(
    real: np.ndarray, generator, dist: str = "normal", train: np.ndarray | None = None
) -> dict[str, float]:
    """The cheap per-epoch figures of every metric that has them (ganmodels/metrics/registry.py) against
    `real`; `train` (training images, when `real` are held-out ones) for those that score against both."""
    fake = generated(generator, len(real), dist)
    scores: dict[str, float] = {}
    for metric in metrics():
        if metric.epoch is not None:
            scores.update(metric.epoch(real, fake, train))
    return scores


def set_figures(real: np.ndarray, fake: np.ndarray) -> dict:
    """The full figures of every per-set metric (SWD per level, the colour figures...) of one real set
    against the generated images."""
    return {"images": len(real), **{m.name: m.per_set(real, fake) for m in metrics() if m.per_set is not None}}
