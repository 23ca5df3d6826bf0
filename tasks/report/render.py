"""render: the per-epoch sample grids as the run's animated GIF (made by tasks/progress_gif.py)."""

from pathlib import Path

from prefect import task

from tasks.caching import step_options
from tasks.disk_space import files_size, space_for
from tasks.progress_gif import ProgressGif, render_gif, sample_frames


@task(name="render", task_run_name="render[{gif_path.parent.name} {epochs} epochs]", **step_options())
def render(samples_dir: Path, gif_path: Path, epochs: int) -> ProgressGif:
    """Prefect step: the per-epoch sample grids as one animated GIF.

    `epochs` is part of the cache key only: a continued run has new frames to add.
    """
    frames = lambda: 2 * files_size([path for _, path in sample_frames(samples_dir)])  # noqa: E731
    with space_for("--run-dir", gif_path.parent, "writing the GIF", frames):
        return render_gif(samples_dir, gif_path)
