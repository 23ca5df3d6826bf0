"""Quality figures of generated images against real ones, as training (each `--eval-every` epochs) and the
evaluate step (the full set at the end) both score them: fixed real subsets and latents, so figures from
different epochs and runs compare.
"""

import numpy as np

from ganmodels.images import images_from, latent_shape
from ganmodels.latents import sample_latents
from ganmodels.metrics.colour import colour_distance, mean_colours, spread
from ganmodels.metrics.histogram import histogram_distance
from ganmodels.metrics.ndb import ndb_js
from ganmodels.metrics.swd import swd

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


def colour_scores(real: np.ndarray, fake: np.ndarray) -> dict[str, float]:
    """The colour figure, the colour-histogram distance, and both sets' colour spread (0..255)."""
    real_means, fake_means = mean_colours(real), mean_colours(fake)
    return {
        "figure": colour_distance(real_means, fake_means),
        "histogram": histogram_distance(real, fake),
        "spread_real": spread(real_means),
        "spread_fake": spread(fake_means),
    }


def epoch_scores(
    real: np.ndarray, generator, dist: str = "normal", train: np.ndarray | None = None
) -> dict[str, float]:
    """The cheap per-epoch figures: SWD (mean over levels), NDB/JS and the colour figures against `real`;
    with `train` (training images, when `real` are held-out ones) the colour figure against those too."""
    fake = generated(generator, len(real), dist)
    bins = ndb_js(real, fake, bins=min(20, max(2, len(real) // 10)))
    colour = colour_scores(real, fake)
    scores = {
        "swd": round(swd(real, fake)["mean"], 4),
        "ndb": bins["ndb"],
        "js": round(bins["js"], 5),
        "colour": round(colour["figure"], 4),
        "hist": round(colour["histogram"], 5),
        "spread_real": round(colour["spread_real"], 3),
        "spread_fake": round(colour["spread_fake"], 3),
    }
    if train is not None:
        scores["colour_train"] = round(colour_distance(mean_colours(train), mean_colours(fake)), 4)
    return scores


def set_figures(real: np.ndarray, fake: np.ndarray) -> dict:
    """SWD per level, NDB/JS and the colour figures of one real set against the generated images."""
    return {
        "images": len(real),
        "swd": swd(real, fake),
        "ndb": ndb_js(real, fake, bins=min(50, max(2, len(real) // 10))),
        "colour": colour_scores(real, fake),
    }
