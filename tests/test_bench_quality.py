"""bench/quality.py's summary of a sweep: each recipe's held-out figures as mean and spread over seeds."""

import pytest
from bench_scripts import bench_script


def _child(recipe: str, seed: int, swd: float | None, colour: float, js: float) -> dict:
    return {
        "point": {"recipe": recipe, "seed": seed},
        "swd": swd,
        "colour": colour,
        "js": js,
        "scored_against": "held-out",
    }


def test_figures_by_recipe_take_mean_and_spread_over_the_seeds_that_finished():
    bench = bench_script("quality")
    report = {
        "children": [
            _child("ganflow", 0, 10.0, 4.0, 0.1),
            _child("ganflow", 1, 14.0, 6.0, 0.3),
            _child("seed-celeb32", 0, 30.0, 20.0, 0.5),
            _child("seed-celeb32", 1, None, 99.0, 9.9),  # did not finish: left out
        ]
    }
    rows = bench.figures_by_recipe(report)
    assert rows["ganflow"]["runs"] == 2 and rows["ganflow"]["against"] == ["held-out"]
    assert rows["ganflow"]["swd_mean"] == 12.0 and rows["ganflow"]["swd_sd"] == pytest.approx(2.8284, 1e-4)
    assert rows["ganflow"]["colour_mean"] == 5.0 and rows["ganflow"]["js_mean"] == pytest.approx(0.2)
    assert rows["seed-celeb32"]["runs"] == 1 and rows["seed-celeb32"]["colour_sd"] == 0.0
    assert bench._ratio(rows["seed-celeb32"]["colour_mean"], rows["ganflow"]["colour_mean"]) == 4.0
