"""The whole flow on tiny data, against the session's real Prefect server."""

import json
import shutil

import imageio.v3 as iio
import numpy as np
import pytest

from flows.flow_parameters import of_run, run_params
from flows.ganflow import ganflow
from flows.params import RunParams
from tasks.errors import UserError

STEPS = ("acquire", "preprocess", "train", "render", "evaluate")


@pytest.mark.slow
def test_full_run_then_cached_rerun_then_continue(params):
    first = ganflow(**of_run(params))
    run = params.run_dir
    assert first.states == dict.fromkeys(STEPS, "Completed")
    assert first.steps_trained == 4  # 8 images / batch 4 = 2 steps per epoch, 2 epochs

    npys = list(params.data_dir.glob("*/images.npy"))
    assert len(npys) == 1 and np.load(npys[0]).shape == (8, 28, 28, 1)
    assert (run / "checkpoints" / "checkpoint").exists()
    assert sorted(p.name for p in (run / "samples").glob("*.png")) == ["epoch_0001.png", "epoch_0002.png"]
    assert iio.improps(run / "progress.gif", index=None).shape[0] == 2
    assert (run / "generator.keras").exists()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["dataset"]["count"] == 8 and summary["dataset"]["skipped"] == 0
    assert summary["dataset"]["skipped_by_reason"] == {}
    assert summary["outputs"]["gif"] == str(run / "progress.gif")
    assert set(summary["steps"]) == set(STEPS) and all(s["seconds"] >= 0 for s in summary["steps"].values())
    assert summary["params"]["epochs"] == 2
    assert [int(r.split(",")[0]) for r in (run / "metrics.csv").read_text().splitlines()[1:]] == [1, 2]

    again = ganflow(**of_run(params))
    assert again.states == dict.fromkeys(STEPS, "Cached")
    assert again.steps_trained == 0
    assert json.loads((run / "summary.json").read_text())["training"]["steps_this_run"] == 0

    more = ganflow(**of_run(params.model_copy(update={"epochs": 3})))
    assert more.states == {
        "acquire": "Cached",
        "preprocess": "Cached",
        "train": "Completed",
        "render": "Completed",
        "evaluate": "Completed",
    }
    assert more.steps_trained == 2  # only the new epoch: training resumed from the checkpoint
    assert iio.improps(run / "progress.gif", index=None).shape[0] == 3


@pytest.mark.slow
def test_a_failed_late_step_is_the_only_one_rerun(params):
    gif = params.run_dir / "progress.gif"
    gif.mkdir(parents=True)  # a folder where the GIF should go: render fails
    with pytest.raises(OSError):
        ganflow(**of_run(params))
    assert (params.run_dir / "generator.keras").exists()  # earlier steps finished

    gif.rmdir()
    rerun = ganflow(**of_run(params))
    assert rerun.states == {
        "acquire": "Cached",
        "preprocess": "Cached",
        "train": "Cached",
        "render": "Completed",
        "evaluate": "Completed",
    }
    assert gif.is_file()


@pytest.mark.slow
def test_deleted_outputs_are_recomputed_not_returned_stale(params):
    ganflow(**of_run(params))
    shutil.rmtree(params.data_dir)  # the preprocessed cache is gone
    (params.run_dir / "generator.keras").unlink()
    result = ganflow(**of_run(params))
    assert result.states["preprocess"] == "Completed"
    assert result.states["train"] == "Completed" and result.steps_trained == 0  # resumed, nothing left to do
    assert list(params.data_dir.glob("*/images.npy"))
    assert (params.run_dir / "generator.keras").exists()


@pytest.mark.slow
def test_more_epochs_trains_that_many_more_every_run(params):
    given = params.model_dump(exclude_none=True, exclude={"epochs"})  # --more-epochs replaces --epochs
    nightly = RunParams.model_validate({**given, "more_epochs": 1})
    first = ganflow(**of_run(nightly))
    second = ganflow(**of_run(nightly))  # the same parameters, as a schedule passes them: not served from cache
    assert first.steps_trained == second.steps_trained == 2 and second.states["train"] == "Completed"
    assert [int(r.split(",")[0]) for r in (params.run_dir / "metrics.csv").read_text().splitlines()[1:]] == [1, 2]


@pytest.mark.slow
def test_invalid_parameters_are_rejected_with_the_field_name(prefect_server, tmp_path):
    from prefect.exceptions import ParameterTypeError

    with pytest.raises(ValueError, match="size"):
        RunParams(size=30)
    with pytest.raises(ValueError, match="epochs"):
        RunParams(epochs=0)
    with pytest.raises(ValueError, match=r"dask_address\n.*--task-runner dask"):
        RunParams(dask_address="tcp://127.0.0.1:8786")
    with pytest.raises(ValueError, match=r"dask_address\n.*not a Dask scheduler address"):
        RunParams(task_runner="dask", dask_address="127.0.0.1:8786")
    # Through the flow, as a deployment or the UI passes them: refused before any task, naming the parameter.
    with pytest.raises(ParameterTypeError, match=r"size: Input should be 28, 32 or 64"):
        ganflow(size=30, data_dir=tmp_path / "data")
    with pytest.raises(ParameterTypeError, match=r"options\.latent_dim: Input should be greater than or equal to 1"):
        ganflow(options={"latent_dim": 0}, data_dir=tmp_path / "data")
    with pytest.raises(UserError, match=r"^parameter source: .*neither a known source"):
        ganflow(source=str(tmp_path / "missing"), data_dir=tmp_path / "data")
    with pytest.raises(UserError, match=r"^parameter options\.sha256: .* is not a sha256"):
        ganflow(options={"sha256": "abc"}, data_dir=tmp_path / "data")
    assert not (tmp_path / "data").exists()


def test_the_default_parameters_resolve_where_the_run_starts(tmp_path, monkeypatch):
    """The flow's defaults keep folders relative, so a deployment form never shows the deployer's paths."""
    properties = ganflow.parameters.properties
    assert properties["run_dir"]["default"] is None and properties["data_dir"]["default"] == "data"
    monkeypatch.chdir(tmp_path)
    resolved = run_params(ganflow.validate_parameters({}))
    assert resolved.data_dir == tmp_path / "data" and resolved.run_dir.parent == tmp_path / "runs"
