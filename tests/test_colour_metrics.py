"""Metrics that see colour: the colour figure, the histogram distance, and the best-checkpoint rule.

The constructed case is issue 16's: a generator whose colours collapse towards one greenish grey keeps
its shapes, and SWD (which normalises each channel over the set) barely notices.
"""

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from ganmodels.metrics.colour import colour_figure, colour_spread
from ganmodels.metrics.histogram import histogram_distance
from ganmodels.metrics.swd import swd
from tasks.train.best_so_far import BestSoFar

GREENISH = np.array([-15.0, 10.0, -10.0])
GREEN_CAST = np.array([-30.0, 25.0, -25.0])


def faces(n: int, seed: int) -> np.ndarray:
    """Smooth random shapes (the structure SWD sees) over a random colour per image (0..255 uint8)."""
    rng = np.random.default_rng(seed)
    shapes = gaussian_filter(rng.standard_normal((n, 32, 32)), (0, 1.5, 1.5))
    shapes = (shapes - shapes.mean()) / shapes.std()
    tint = rng.uniform(60, 195, (n, 1, 1, 3))
    return np.clip(tint + 50 * shapes[..., None], 0, 255).astype(np.uint8)


def recoloured(images: np.ndarray, keep: float, cast=(0.0, 0.0, 0.0)) -> np.ndarray:
    """Each image's shapes kept; its mean colour moved to `keep` of its distance from the set's mean colour,
    plus a global `cast`. keep 0: every image has the same mean colour (a full colour collapse)."""
    x = images.astype(np.float64)
    means = x.mean(axis=(1, 2), keepdims=True)
    centre = means.mean(axis=0, keepdims=True)
    return np.clip(x - means + centre + keep * (means - centre) + np.asarray(cast), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def sets():
    return faces(256, 0), faces(256, 1)


def test_identical_sets_score_zero(sets):
    real, _ = sets
    assert colour_figure(real, real) == 0.0
    assert histogram_distance(real, real) == 0.0
    assert colour_spread(real) > 30  # the real set is colourful (the issue measured 44 on its faces)


def test_a_colour_cast_is_invisible_to_swd_but_not_to_the_colour_figures(sets):
    real, other = sets
    cast = recoloured(other, keep=1.0, cast=GREEN_CAST)  # every image greener, spread kept
    swd_other, swd_cast = swd(real, other)["mean"], swd(real, cast)["mean"]
    assert abs(swd_cast - swd_other) < 0.03 * swd_other  # SWD barely moves (only where pixels clip)
    assert colour_figure(real, cast) > 3 * colour_figure(real, other)
    assert histogram_distance(real, cast) > 3 * histogram_distance(real, other)


def test_a_colour_collapse_is_large_on_the_colour_figures(sets):
    real, other = sets
    collapsed = recoloured(other, keep=0.0, cast=GREENISH)
    assert colour_spread(collapsed) < 0.05 * colour_spread(real)
    assert colour_figure(real, collapsed) > 4 * colour_figure(real, other)
    assert colour_figure(real, collapsed) > 0.5 * colour_spread(real)  # it costs about the real spread
    assert histogram_distance(real, collapsed) > 2 * histogram_distance(real, other)


def test_histogram_distance_is_a_total_variation_in_0_1():
    black, white = np.zeros((4, 8, 8, 1), np.uint8), np.full((4, 8, 8, 1), 255, np.uint8)
    assert histogram_distance(black, white) == 1.0
    half = np.concatenate([black[:2], white[:2]])
    assert histogram_distance(black, half) == pytest.approx(0.5)


def test_a_colour_collapse_cannot_win_best_over_a_colourful_generator_of_similar_swd(sets):
    real, other = sets
    early = np.clip(np.full_like(other, 128) + np.random.default_rng(3).normal(0, 40, other.shape), 0, 255)
    colourful = np.clip(other + np.random.default_rng(5).normal(0, 22, other.shape), 0, 255).astype(np.uint8)
    collapsed = recoloured(other, keep=0.4, cast=GREENISH)  # the case: spread 18 of 44, greenish grey

    def figures(fake):
        return swd(real, fake.astype(np.uint8))["mean"], colour_figure(real, fake.astype(np.uint8))

    first, good, bad = figures(early), figures(colourful), figures(collapsed)
    assert bad[0] <= good[0] <= 1.1 * bad[0]  # similar SWD, the collapse even a little better: SWD alone picks it
    assert bad[1] > 3 * good[1]
    for order in ((good, bad), (bad, good)):
        best = BestSoFar()
        best.offer(1, *first)
        for epoch, (s, c) in enumerate(order, 2):
            best.offer(epoch, s, c)
        assert (best.swd, best.colour) == good


def test_best_keeps_its_references_across_a_resume_and_reads_old_records():
    best = BestSoFar()
    assert best.offer(1, 50.0, 40.0) and best.offer(2, 30.0, 20.0)
    resumed = BestSoFar(**best.record())
    assert not resumed.offer(3, 31.0, 20.0) and resumed.offer(4, 20.0, 22.0) and resumed.epoch == 4
    old = BestSoFar(**{"epoch": 3, "swd": 20.0})  # best.json from before the colour figure
    assert not old.offer(4, 25.0, 10.0)  # 25/20 + 1 > 2: the old champion stays
    assert old.offer(5, 15.0, 10.0) and old.epoch == 5
