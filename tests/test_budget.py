"""`--max-minutes`: training ends at a step boundary with a checkpoint, and a larger budget continues it."""

import json

import pytest

from flows.flow_parameters import of_run
from flows.ganflow import ganflow

pytestmark = pytest.mark.slow


def _checkpoint_steps(run_dir) -> list[int]:
    return sorted(int(p.name.split("-")[1].split(".")[0]) for p in (run_dir / "checkpoints").glob("ckpt-*.index"))


def test_budget_stops_at_a_step_with_a_checkpoint_and_a_larger_one_continues(params):
    params = params.model_copy(update={"epochs": 100_000, "batch_size": 2, "eval_every": 0, "eval_images": 8})
    first = ganflow(**of_run(params.model_copy(update={"max_minutes": 0.1})))
    run = params.run_dir
    summary = json.loads((run / "summary.json").read_text())
    training = summary["training"]
    assert first.stopped == "budget" and training["stopped"] == "budget"
    assert training["epochs"] < 100_000 and training["total_steps"] > 0
    # The newest checkpoint is the step training stopped at: nothing after the last step is lost.
    assert _checkpoint_steps(run)[-1] == training["total_steps"] == first.steps_trained
    assert (run / "progress.gif").exists() and (run / "evaluation.json").exists()
    assert summary["quality"]["swd"] > 0

    again = ganflow(**of_run(params.model_copy(update={"max_minutes": 0.1})))
    assert again.states["train"] == "Cached"  # the same budget is spent already

    longer = ganflow(**of_run(params.model_copy(update={"max_minutes": 0.2})))
    later = json.loads((run / "summary.json").read_text())["training"]
    assert longer.stopped == "budget" and longer.steps_trained > 0
    assert later["total_steps"] == training["total_steps"] + longer.steps_trained  # continued, not restarted
    assert _checkpoint_steps(run)[-1] == later["total_steps"]


def test_a_budget_larger_than_the_run_changes_nothing(params):
    result = ganflow(**of_run(params.model_copy(update={"max_minutes": 60})))
    assert result.stopped == "epochs" and result.steps_trained == 4
