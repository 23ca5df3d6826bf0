"""The training step's Prefect progress artifact, with the newest sample grid inline while it trains."""

import time
from pathlib import Path
from typing import Any
from uuid import UUID

from tasks.pictures import encode_png, fit_within, labelled_frame
from tasks.prefect_artifacts import PREVIEW_SIDE, artifact_key, data_uri, in_prefect_run, publish


class TrainingProgress:
    """A progress artifact: percent of the steps to the target epoch, and the epoch; updated every few seconds.

    While training, the newest sample grid too (`newest_grid`), as a markdown artifact with the grid inline:
    after the first epoch, then at most every `grid_every_seconds`, so a long run adds a few versions only.
    """

    def __init__(self, run_dir: Path, total_steps: int, every_seconds: float = 5.0, grid_every_seconds: float = 60.0):
        self.total, self.every, self.last = max(total_steps, 1), every_seconds, 0.0
        self.key = artifact_key(run_dir, "training")
        self.id: UUID | None = None
        self.grid_key, self.grid_every, self.grid_last = artifact_key(run_dir, "samples"), grid_every_seconds, None

    def newest_grid(self, grid: Any, epoch: int, epochs: int) -> None:
        """Show this epoch's sample grid (RGB or gray uint8) on the flow run's page, if it is time to."""
        now = time.monotonic()
        if not in_prefect_run() or (self.grid_last is not None and now - self.grid_last < self.grid_every):
            return
        self.grid_last = now
        from prefect.artifacts import create_markdown_artifact

        def grid_artifact() -> UUID:  # inside publish: a grid that fails to encode is logged, never fails training
            png = encode_png(fit_within(labelled_frame(grid, f"epoch {epoch}"), PREVIEW_SIDE))
            return create_markdown_artifact(
                markdown=f"# Samples at epoch {epoch} of {epochs}\n\n![samples]({data_uri('image/png', png)})\n",
                key=self.grid_key,
                description=f"The newest sample grid while training (epoch {epoch}/{epochs})",
            )

        publish("sample grid", grid_artifact)

    def update(self, step: int, epoch: int, epochs: int, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < self.every:
            return
        self.last = now
        percent = round(min(100.0, 100.0 * step / self.total), 1)
        description = f"epoch {epoch}/{epochs}, step {step}/{self.total}"
        if self.id is None:
            from prefect.artifacts import create_progress_artifact

            self.id = publish(
                "progress", create_progress_artifact, progress=percent, key=self.key, description=description
            )
        else:
            from prefect.artifacts import update_progress_artifact

            publish(
                "progress", update_progress_artifact, artifact_id=self.id, progress=percent, description=description
            )
