"""`--epochs` is the total a run folder trains to: a run that finds it reached says so, and how to go on."""

import json

import pytest

from flows.flow_parameters import of_run
from flows.ganflow import ganflow

pytestmark = pytest.mark.slow


def test_a_folder_at_or_past_epochs_says_why_nothing_was_trained_and_how_to_continue(params, caplog):
    first = ganflow(**of_run(params))  # 2 epochs
    assert first.steps_trained == 4 and first.note == ""

    caplog.set_level("WARNING")
    again = ganflow(**of_run(params))  # the same command: train is cached
    assert again.steps_trained == 0
    assert again.note.startswith(f"Nothing to train: {params.run_dir} is already at epoch 2, and --epochs 2 is reached")
    assert "a larger --epochs (e.g. --epochs 4), --more-epochs N for N more, or another --run-dir" in again.note
    assert again.note in [r.getMessage() for r in caplog.records]  # in the run's log too (the Prefect UI shows it)

    fewer = ganflow(**of_run(params.model_copy(update={"epochs": 1})))  # a total below what the folder holds
    assert fewer.steps_trained == 0 and fewer.states["train"] == "Completed"
    assert "is already at epoch 2, and --epochs 1 (a total, not a number to add) is reached" in fewer.note
    training = json.loads((params.run_dir / "summary.json").read_text())["training"]
    assert training["note"] == fewer.note  # and in the summary artifact

    from click.testing import CliRunner

    from flows.cli import cli

    typed = ["--source", params.source, "--size", "28", "--channels", "1", "--batch-size", "4", "--latent-dim", "16"]
    folders = ["--run-dir", str(params.run_dir), "--data-dir", str(params.data_dir)]
    out = CliRunner().invoke(cli, ["run", *typed, *folders, "--epochs", "1"])
    assert out.exit_code == 0, out.output
    assert f"{fewer.note}; outputs in {params.run_dir}" in out.output  # the last words, not "Trained 0 steps"
    assert "Trained 0 steps" not in out.output

    more = ganflow(**of_run(params.model_copy(update={"epochs": 3})))
    assert more.steps_trained == 2 and more.note == ""
