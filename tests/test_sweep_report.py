"""The sweep report's colour columns: each run's colour figures beside SWD, each configuration's colour
mean and spread beside its SWD ranking (on records as `child_record` writes them; no training)."""

import pytest

from tasks.report.sweep_report import markdown, ranking


def _record(name: str, point: dict, swd: float, colour: float, swd_train: float, colour_train: float) -> dict:
    return {
        "name": name,
        "point": point,
        "state": "completed",
        "message": "",
        "options": {"seed": point["seed"]},
        "swd": swd,
        "colour": colour,
        "hist": 0.125,
        "spread_real": 44.0,
        "spread_fake": 18.0,
        "scored_against": "held-out",
        "swd_train": swd_train,
        "colour_train": colour_train,
        "ndb": 3,
        "ndb_bins": 20,
        "js": 0.01,
        "epochs": 2,
        "steps": 10,
        "wall_seconds": 1.0,
    }


def test_the_ranking_and_the_runs_table_show_the_colour_figures():
    records = [
        _record("a0", {"recipe": "a", "seed": 0}, 10.0, 20.0, 9.0, 19.0),
        _record("a1", {"recipe": "a", "seed": 1}, 12.0, 30.0, 11.0, 29.0),
        _record("b0", {"recipe": "b", "seed": 0}, 20.0, 5.0, 19.0, 4.0),
    ]
    rows = ranking(records)
    assert [r["configuration"] for r in rows] == ["recipe=a", "recipe=b"]
    assert rows[0]["colour_mean"] == pytest.approx(25.0) and rows[0]["colour_sd"] == pytest.approx(7.0711, 1e-4)
    assert rows[1]["colour_mean"] == 5.0 and rows[1]["colour_sd"] == 0.0
    sweep = {"sweep_dir": "s", "grid": {"recipe": ["a", "b"], "seed": [0, 1]}, "options": {}}
    md = markdown({"sweep": sweep, "children": records, "ranking": rows}, "sweep.png")
    assert "| colour mean | SD |" in md and "| 25.00 | 7.07 |" in md
    assert "| 10.00 (9.00) | 20.00 (19.00) | 0.125 | 18.0 (44.0) |" in md  # held-out (training) side by side
