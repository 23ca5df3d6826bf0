"""Losses, metrics and source kinds come from registries: each built-in is one file, every list of them
(the --loss choices and help, metrics.csv's columns, TensorBoard, evaluation.json, `ganflow evaluate`, the
sweep report, what --source accepts) is read from the registry, and one new file adds one
(tests/plugin_metric.py, plugin_loss.py, plugin_source.py)."""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ganmodels.loss_functions import loss_help, loss_names
from ganmodels.metrics import registry as metric_registry
from tasks.acquire import kinds as source_kinds

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent


@pytest.fixture
def plugin_metric():
    """tests/plugin_metric.py registered for this test only, so no other test sees its column."""
    module = importlib.reload(importlib.import_module("plugin_metric"))
    yield module.BRIGHTNESS
    metric_registry._METRICS.entries.pop(module.BRIGHTNESS.name)


def test_the_built_ins_keep_their_order_and_words():
    assert loss_names() == ("bce", "lsgan", "hinge", "wgan-gp")
    assert loss_help() == (
        "GAN loss: bce (non-saturating), lsgan (least squares), hinge, or wgan-gp (Wasserstein with gradient "
        "penalty; use with --n-critic)."
    )
    assert [m.name for m in metric_registry.metrics()] == ["swd", "colour", "ndb", "ms_ssim", "memorization", "fid"]
    assert [k.kind for k in source_kinds.kinds()] == ["sample", "kaggle", "classic", "url", "folder", "archive"]


def test_a_step_s_code_identity_covers_every_registered_module():
    """The registries import their modules by discovery, not by name: the cache key still covers them."""
    from tasks.caching import _imported, _module_file

    def reached(module: str) -> set[str]:
        return _imported(module, _module_file(module))

    assert {"ganmodels.metrics.ndb", "ganmodels.metrics.fid"} <= reached("ganmodels.metrics.registry")
    assert "ganmodels.loss_functions.hinge" in reached("ganmodels.loss_functions")
    assert "tasks.acquire.kinds.url" in reached("tasks.acquire.kinds")
    assert {"ganmodels.dcgan", "ganmodels.numpy_mlp"} <= reached("ganmodels.networks")  # imported when built


def test_listing_losses_and_metrics_imports_no_tensorflow():
    code = (
        "import sys; from ganmodels.loss_functions import losses; from ganmodels.metrics.registry import metrics; "
        "losses(); metrics(); print('tensorflow' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_a_metric_from_one_file_reaches_every_list(plugin_metric, tmp_path):
    from tasks.quality import set_figures
    from tasks.report.evaluate import report_lines
    from tasks.report.sweep_report import markdown
    from tasks.run_folder import RunFolder, metric_fields

    assert metric_fields()[-2:] == ("brightness", "seconds")
    assert "brightness" in metric_registry.epoch_scalars()
    run = RunFolder(tmp_path)
    run.write_metrics([{"epoch": 1, "step": 2, "d_loss": 0.5, "g_loss": 0.7, "brightness": 3.5, "seconds": 1.0}])
    assert run.read_metrics()[0]["brightness"] == "3.5"

    real, fake = np.full((4, 8, 8, 3), 100, np.uint8), np.full((4, 8, 8, 3), 90, np.uint8)
    figures = set_figures(real, fake)
    assert figures["brightness"] == {"gap": 10.0}
    assert "Brightness gap: 10.00" in report_lines({**figures, "scored_against": "training"})

    record = {"name": "r", "point": {"seed": 0}, "state": "completed", "message": "", "brightness": 10.0}
    record.update({"swd": 1.0, "colour": 2.0})
    md = markdown({"sweep": {"sweep_dir": "s", "grid": {"seed": [0]}, "options": {}}, "children": [record],
                   "ranking": []}, "p.png")
    assert "| brightness gap |" in md and "| 10.00 |" in md


def test_a_source_kind_from_one_file_is_parsed_named_and_located(tmp_path):
    from tasks.acquire.task import acquire_images, parse_source, source_key

    module = importlib.reload(importlib.import_module("plugin_source"))
    try:
        source = parse_source("noise:6")
        assert (source.kind, source.name) == ("noise", "noise6")
        assert source_key("noise:6", tmp_path) == "noise"
        got = acquire_images("noise:6", tmp_path)
        assert got.num_files == 6 and got.identity == "noise:6"
        with pytest.raises(ValueError, match="noise:N"):
            parse_source("noise:many")
    finally:
        source_kinds._KINDS.entries.pop(module.NOISE.kind)


@pytest.mark.slow
def test_a_run_with_all_three_from_their_files(tmp_path):
    """One `ganflow sweep` in a process that loaded the three files: `--loss plus-minus` is accepted and
    trains, `--source noise:12` is acquired, and the metric is in metrics.csv, evaluation.json and the report."""
    sweep_dir = tmp_path / "sweep"
    args = ["sweep", "--source", "noise:12", "--loss", "plus-minus", "--grid", "seed=0", "--sweep-dir", str(sweep_dir)]
    args += ["--data-dir", str(tmp_path / "data"), "--size", "28", "--channels", "1", "--epochs", "1"]
    args += ["--batch-size", "4", "--latent-dim", "16", "--eval-images", "8"]
    code = (
        f"import sys; sys.path.insert(0, {str(TESTS)!r}); import plugin_metric, plugin_loss, plugin_source; "
        f"from flows.cli import main; sys.argv = ['ganflow', *{args!r}]; main()"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GANFLOW_STATE_DIR": str(tmp_path / "state")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    run_dir = sweep_dir / "seed-0"
    header = (run_dir / "metrics.csv").read_text().splitlines()[0].split(",")
    assert header[-2:] == ["brightness", "seconds"]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["params"]["loss"] == "plus-minus"
    evaluation = json.loads((run_dir / "evaluation.json").read_text())
    assert "gap" in evaluation["brightness"]
    assert "| brightness gap |" in (sweep_dir / "sweep.md").read_text()
    assert "brightness" in json.loads((sweep_dir / "sweep.json").read_text())["children"][0]
