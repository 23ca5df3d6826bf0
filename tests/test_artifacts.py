"""Artifacts are a view of a run in Prefect: nothing happens outside a run, and the summary says what matters."""

from pathlib import Path

from tasks.prefect_artifacts import artifact_key
from tasks.report.artifacts import publish_run_artifacts, summary_markdown
from tasks.run_folder import RunFolder
from tasks.train.progress_artifact import TrainingProgress


def test_outside_a_prefect_run_nothing_is_published(tmp_path):
    progress = TrainingProgress(tmp_path, total_steps=10)
    progress.update(5, 1, 2, force=True)
    assert progress.id is None
    assert publish_run_artifacts(RunFolder(tmp_path), {}) is None  # not even looked at


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


def test_the_gif_and_newest_grid_are_inline_images_within_the_budget(tmp_path):
    """A file:// link does not open from the UI's http page: the images travel in the markdown, small enough."""
    import base64
    import re

    import imageio.v3 as iio
    import numpy as np

    from tasks.pictures import image_grid, write_png
    from tasks.progress_gif import progress_markdown, sample_path

    rng = np.random.default_rng(0)
    for epoch in range(1, 121):  # noise compresses worst
        write_png(sample_path(tmp_path, epoch), image_grid((rng.random((36, 32, 32, 3)) * 255).astype(np.uint8)))
    budget = 400_000
    text = progress_markdown(tmp_path, tmp_path / "progress.gif", budget=budget)
    images = dict(re.findall(r"!\[[^\]]*\]\(data:image/(gif|png);base64,([A-Za-z0-9+/=]+)\)", text))
    gif, png = (base64.b64decode(images[kind]) for kind in ("gif", "png"))
    assert len(gif) + len(png) <= budget
    frames = iio.imread(gif, index=None, extension=".gif")
    assert 2 <= len(frames) < 120 and f"({len(frames)} of 120 epochs)" in text
    assert iio.imread(png, extension=".png").shape[0] >= 200  # the newest grid, enlarged to be seen
    assert "Newest samples: epoch 120" in text and str(tmp_path / "progress.gif") in text


def test_a_run_without_grids_says_so(tmp_path):
    from tasks.progress_gif import progress_markdown

    assert "No sample grids yet" in progress_markdown(tmp_path, tmp_path / "progress.gif")


def test_tables_and_the_summary_show_meaningful_digits_and_no_empty_columns(tmp_path):
    """metrics.csv keeps every digit; what a person reads (the UI's tables, the summary) does not, and the
    columns go in two tables that fit the UI's page: losses and time, quality scores."""
    from tasks.report.artifacts import metrics_rows, split_columns
    from tasks.run_folder import RunFolder

    run = RunFolder(tmp_path)
    header = {"epoch": 1, "step": 6, "d_loss": 0.42064355810483295, "g_loss": 1.7357797423998516, "d_extra": 0}
    scores = {"swd": 208.3945, "js": 0.0005778612, "colour_train": "", "spread_real": 19.821, "seconds": 7.6143}
    rows = [{**header, "g_extra": 0, **scores}, {**header, "epoch": 2, "g_extra": 0, **scores, "swd": ""}]
    run.write_metrics(rows)
    assert "0.42064355810483295" in run.metrics.read_text()  # the data keeps them
    shown = metrics_rows(run)
    assert shown[0] == {"epoch": 1, "step": 6, "d_loss": 0.421, "g_loss": 1.74, "swd": 208.0, "js": 0.000578,
                        "spread_real": 19.8, "seconds": 7.61}  # fmt: skip
    losses, quality, reference = split_columns(shown)
    assert losses == [{"epoch": e, "step": 6, "d_loss": 0.421, "g_loss": 1.74, "seconds": 7.61} for e in (1, 2)]
    assert quality == [{"epoch": 1, "swd": 208.0, "js": 0.000578}]  # only the evaluated epoch
    assert reference == "; real images: spread_real 19.8"
    summary = {
        "dataset": {"source": "sample", "count": 100, "skipped": 0},
        "training": {"epochs": 1, "total_steps": 6, "steps_this_run": 6},
        "steps": {},
        "outputs": {"gif": "/r/progress.gif", "generator": "/g", "metrics": "/m", "checkpoints": "/c"},
    }
    text = summary_markdown(summary, rows[0], [])
    assert "d_loss 0.421, g_loss 1.74" in text and "0.42064" not in text
