"""Quality in the pipeline: per-epoch scores, best checkpoint, curves, TensorBoard, the final report."""

import csv
import json
import re

import imageio.v3 as iio
import pytest

from flows.flow_parameters import of_run
from flows.ganflow import ganflow
from tasks.train.best_so_far import BestSoFar


def test_best_checkpoint_selection_on_a_made_up_sequence():
    best = BestSoFar()
    swds = [50.0, 30.0, 40.0, 20.0, 20.0, 25.0]
    wins = [epoch for epoch, swd in enumerate(swds, 1) if best.offer(epoch, swd, 10.0)]  # colour alike: SWD decides
    assert wins == [1, 2, 4] and (best.epoch, best.swd) == (4, 20.0)


@pytest.fixture
def params(params, make_faces):
    """The shared tiny run, on 16 faces for 3 epochs, with a 16-image final report."""
    return params.model_copy(update={"source": str(make_faces(16, "faces16")), "epochs": 3, "eval_images": 16})


@pytest.mark.slow
def test_a_run_measures_quality_and_keeps_the_best(params):
    result = ganflow(**of_run(params))
    run = params.run_dir
    with open(run / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"] and all(float(r["swd"]) > 0 for r in rows)
    assert all(float(r["colour"]) >= 0 and 0 <= float(r["hist"]) <= 1 and r["spread_fake"] != "" for r in rows)
    rule = BestSoFar()
    best_epoch = str([r["epoch"] for r in rows if rule.offer(int(r["epoch"]), float(r["swd"]), float(r["colour"]))][-1])
    summary = json.loads((run / "summary.json").read_text())
    assert str(summary["quality"]["best_epoch"]) == best_epoch
    assert json.loads((run / "checkpoints" / "best" / "best.json").read_text())["epoch"] == int(best_epoch)
    assert (run / "generator.keras").exists() and (run / "generator-last.keras").exists()
    assert iio.imread(run / "curves.png").ndim == 3
    assert list((run / "tb").glob("events.out.tfevents.*"))
    report = json.loads((run / "evaluation.json").read_text())
    assert report["images"] == 16 and set(report) >= {"swd", "ndb", "colour", "ms_ssim", "memorization", "fid"}
    assert report["scored_against"] == "training" and report["split"]["held_out"] == 0  # 16 images: none held out
    assert "skipped" in report["fid"]  # no InceptionV3 weights here, and it says so
    assert iio.imread(run / "nearest.png").shape[1] > 8 * 28
    assert result.states["evaluate"] == "Completed"


@pytest.mark.slow
def test_evaluation_can_be_turned_off(params):
    ganflow(**of_run(params.model_copy(update={"eval_every": 0})))
    with open(params.run_dir / "metrics.csv", newline="") as f:
        assert all(r["swd"] == "" for r in csv.DictReader(f))
    assert not (params.run_dir / "checkpoints" / "best" / "best.json").exists()
    assert (params.run_dir / "generator.keras").exists()


@pytest.mark.slow
def test_ganflow_evaluate_recomputes_a_run_and_a_checkpoint(params):
    from click.testing import CliRunner

    from flows.cli import cli

    ganflow(**of_run(params))
    (params.run_dir / "evaluation.json").unlink()
    out = CliRunner().invoke(cli, ["evaluate", "--run-dir", str(params.run_dir), "--num", "8"])
    assert out.exit_code == 0, out.output
    assert "SWD x1e3" in out.output and "FID/KID skipped" in out.output
    # A 2-epoch generator draws blurry faces: near-copies, with the real faces' figure beside them, then the
    # distance share with its reading, never that share alone as "memorization".
    assert re.search(r"Memorization: \d+\.\d% of generated images are near-copies .*\(real faces against the rest "
                     r"of their set: \d+\.\d%", out.output), out.output  # fmt: skip
    assert "no sign of copying on its own" in out.output and "closer to a training image than real" not in out.output
    assert json.loads((params.run_dir / "evaluation.json").read_text())["images"] == 8
    out = CliRunner().invoke(cli, ["evaluate", "--run-dir", str(params.run_dir), "--checkpoint", "best", "--num", "8"])
    assert out.exit_code == 0, out.output
    assert (params.run_dir / "evaluation-best.json").exists()
