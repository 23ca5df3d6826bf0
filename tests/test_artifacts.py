"""Artifacts are a view of a run in Prefect: nothing happens outside a run, and the summary says what matters."""

from pathlib import Path

from tasks.report.artifacts import TrainingProgress, artifact_key, publish_run_artifacts, summary_markdown


def test_outside_a_prefect_run_nothing_is_published(tmp_path):
    progress = TrainingProgress(tmp_path, total_steps=10)
    progress.update(5, 1, 2, force=True)
    assert progress.id is None
    assert publish_run_artifacts(tmp_path / "no-summary.json") is None  # not even read


def test_keys_are_what_prefect_accepts():
    assert artifact_key(Path("runs/CelebA_32px-c3-1a2b"), "metrics") == "ganflow-celeba-32px-c3-1a2b-metrics"


def test_summary_lists_skipped_files_final_losses_step_times_and_outputs():
    summary = {
        "dataset": {"source": "folder:/faces:abc", "count": 70, "skipped": 25, "manifest": "/data/x/manifest.json"},
        "training": {"epochs": 3, "total_steps": 30, "steps_this_run": 10},
        "steps": {"acquire": {"state": "Cached", "seconds": 0.01}, "train": {"state": "Completed", "seconds": 12.34}},
        "outputs": {"gif": "/r/progress.gif", "generator": "/r/generator.keras", "metrics": "/m", "checkpoints": "/c"},
    }
    skipped = [{"file": f"/faces/bad_{i}.jpg", "reason": "not a decodable image"} for i in range(25)]
    text = summary_markdown(summary, {"epoch": 3, "d_loss": 1.2, "g_loss": 0.8}, skipped)
    assert "images used: **70**, skipped: **25**" in text
    assert "`/faces/bad_19.jpg`: not a decodable image" in text and "bad_20" not in text
    assert "and 5 more, listed in `/data/x/manifest.json`" in text
    assert "final epoch: epoch 3, d_loss 1.2, g_loss 0.8" in text
    assert "| train | Completed | 12.3 |" in text
    assert "GIF: `/r/progress.gif`" in text and "generator: `/r/generator.keras`" in text
