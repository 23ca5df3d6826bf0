"""Prefect artifacts of a run: training progress, per-epoch metrics, the summary, and the GIF itself.

Each is keyed by the run folder's name, so the Prefect UI shows one history per run folder (a nightly
deployment that continues the same folder adds a version each night). Outside a Prefect run, as when a
step's plain function is called directly, every call here does nothing. A failure to publish is logged
and never fails the step: the files on disk are the record, artifacts are the view.

A browser does not open a file:// link from the UI's http page, and `create_image_artifact` needs an
http(s) URL, so the GIF and the newest sample grid are shown inline: a markdown artifact whose images are
data: URIs (the UI's markdown renderer shows them), a downscaled preview kept under `MAX_PREVIEW_BYTES`.
"""

import base64
import re
import time
from pathlib import Path
from typing import Any
from uuid import UUID

from tasks.api_watch import API
from tasks.preprocess.manifest import read_manifest
from tasks.progress import run_logger
from tasks.train.run_folder import RunFolder

MAX_TABLE_ROWS = 1000  # the newest epochs; metrics.csv holds them all
MAX_SKIPPED_LISTED = 20
MAX_PREVIEW_BYTES = 750_000  # the GIF preview and the grid together, before base64 (which adds a third)
PREVIEW_FRAMES = 40  # epochs in the GIF preview, spread from the first to the last
PREVIEW_SIDE = 320  # pixels, at most, of a preview frame or grid (a 6x6 grid of 32 px faces is 206)


def in_prefect_run() -> bool:
    from prefect.context import FlowRunContext, TaskRunContext

    return FlowRunContext.get() is not None or TaskRunContext.get() is not None


def artifact_key(run_dir: Path, kind: str) -> str:
    """Prefect keys allow lowercase letters, digits and dashes only."""
    slug = re.sub(r"[^a-z0-9-]+", "-", Path(run_dir).name.lower()).strip("-") or "run"
    return f"ganflow-{slug[:80]}-{kind}"


def _publish(what: str, create, **kwargs) -> UUID | None:
    if not in_prefect_run() or not API.reachable():  # a server gone away: skipped, and said once
        return None
    try:
        return create(**kwargs)
    except Exception as exc:  # the API is down or refused it: the run's files are still complete
        run_logger().warning("could not publish the %s artifact: %s", what, exc)
        return None


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

        from tasks.report.render import encode_png, fit_within, labelled_frame

        def publish() -> UUID:  # inside _publish: a grid that fails to encode is logged, never fails training
            png = encode_png(fit_within(labelled_frame(grid, f"epoch {epoch}"), PREVIEW_SIDE))
            return create_markdown_artifact(
                markdown=f"# Samples at epoch {epoch} of {epochs}\n\n![samples]({data_uri('image/png', png)})\n",
                key=self.grid_key,
                description=f"The newest sample grid while training (epoch {epoch}/{epochs})",
            )

        _publish("sample grid", publish)

    def update(self, step: int, epoch: int, epochs: int, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < self.every:
            return
        self.last = now
        percent = round(min(100.0, 100.0 * step / self.total), 1)
        description = f"epoch {epoch}/{epochs}, step {step}/{self.total}"
        if self.id is None:
            from prefect.artifacts import create_progress_artifact

            self.id = _publish(
                "progress", create_progress_artifact, progress=percent, key=self.key, description=description
            )
        else:
            from prefect.artifacts import update_progress_artifact

            _publish(
                "progress", update_progress_artifact, artifact_id=self.id, progress=percent, description=description
            )


def publish_run_artifacts(summary_path: Path) -> None:
    """The metrics table, the markdown summary and the GIF with the newest grid, all from the run's summary.json."""
    if not in_prefect_run():
        return
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    run = RunFolder(Path(summary_path).parent)
    summary, run_dir = run.read_summary(), run.root
    rows = metrics_rows(run)
    newest = f", the newest {MAX_TABLE_ROWS}" if len(rows) > MAX_TABLE_ROWS else ""
    _publish(
        "metrics table",
        create_table_artifact,
        table=rows[-MAX_TABLE_ROWS:] or [{"epoch": "none yet"}],
        key=artifact_key(run_dir, "metrics"),
        description=f"Per-epoch losses of {run_dir}{newest}",
    )
    _publish(
        "summary",
        create_markdown_artifact,
        markdown=summary_markdown(summary, rows[-1] if rows else None, _skipped(summary)),
        key=artifact_key(run_dir, "summary"),
        description=f"What the run in {run_dir} did",
    )
    _publish(
        "GIF",
        lambda: create_markdown_artifact(  # inside _publish: an image that fails to read is logged, not fatal
            markdown=progress_markdown(Path(summary["outputs"]["samples"]), Path(summary["outputs"]["gif"])),
            key=artifact_key(run_dir, "gif"),
            description="The progress GIF (a preview) and the newest sample grid",
        ),
    )


def data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def progress_markdown(samples_dir: Path, gif: Path, budget: int = MAX_PREVIEW_BYTES) -> str:
    """The GIF (fewer frames until it fits the budget) and the newest grid, inline, with where the files are."""
    from tasks.report.render import encode_png, fit_within, labelled_frame, preview_gif, read_rgb, sample_frames

    frames = sample_frames(samples_dir)
    if not frames:
        return f"# Progress\n\nNo sample grids yet in `{samples_dir}`.\n"
    epoch, newest = frames[-1]
    grid = encode_png(fit_within(labelled_frame(read_rgb(newest), f"epoch {epoch}"), PREVIEW_SIDE))
    most = PREVIEW_FRAMES
    animation, shown = preview_gif(samples_dir, most, PREVIEW_SIDE)
    while len(animation) + len(grid) > budget and shown > 2:  # fewer frames, in proportion to the excess
        most = max(2, min(shown - 1, int(shown * 0.9 * (budget - len(grid)) / len(animation))))
        animation, shown = preview_gif(samples_dir, most, PREVIEW_SIDE)
    of = f"{shown} of {len(frames)} epochs" if shown < len(frames) else f"all {len(frames)} epochs"
    return "\n".join(
        [
            f"# Progress of `{gif.parent.name}`",
            "",
            f"![progress GIF, {of}]({data_uri('image/gif', animation)})",
            "",
            f"A preview ({of}); the full GIF, one frame per epoch: `{gif}`",
            "",
            f"## Newest samples: epoch {epoch}",
            "",
            f"![samples at epoch {epoch}]({data_uri('image/png', grid)})",
            "",
            f"`{newest}`",
            "",
        ]
    )


def metrics_rows(run: RunFolder) -> list[dict[str, Any]]:
    """The run's metrics with numbers as numbers, for the table."""
    return [{k: _number(v) for k, v in row.items()} for row in run.read_metrics()]


def _number(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except (TypeError, ValueError):
            pass
    return text


def _skipped(summary: dict) -> list[dict[str, str]]:
    try:
        return (read_manifest(Path(summary["dataset"]["manifest"])) or {}).get("skipped", [])
    except (KeyError, TypeError):
        return []


def summary_markdown(summary: dict, last_metrics: dict | None, skipped: list[dict[str, str]]) -> str:
    """The run at a glance: data, final losses, time per step, and where the outputs are."""
    dataset, training, outputs = summary["dataset"], summary["training"], summary["outputs"]
    lines = [
        f"# ganflow run: `{Path(outputs['gif']).parent}`",
        "",
        "## Data",
        f"- source: `{dataset['source']}`",
        f"- images used: **{dataset['count']}**, skipped: **{dataset['skipped']}**",
    ]
    for item in skipped[:MAX_SKIPPED_LISTED]:
        lines.append(f"  - `{item['file']}`: {item['reason']}")
    if len(skipped) > MAX_SKIPPED_LISTED:
        lines.append(f"  - ... and {len(skipped) - MAX_SKIPPED_LISTED} more, listed in `{dataset['manifest']}`")
    lines += [
        "",
        "## Training",
        f"- epochs: **{training['epochs']}**, total steps: {training['total_steps']}, "
        f"trained this run: {training['steps_this_run']}",
    ]
    if training.get("stopped") == "budget":
        lines.append("- stopped on its time budget (--max-minutes); a larger budget or more epochs continues it")
    if last_metrics:
        lines.append("- final epoch: " + ", ".join(f"{k} {v}" for k, v in last_metrics.items() if v != ""))
    if quality := summary.get("quality"):
        lines += ["", "## Quality", f"- final SWD x1e3: **{quality['swd']:.2f}** (lower is better)"]
        if quality.get("colour") is not None:
            lines.append(f"- colour figure: **{quality['colour']:.2f}** of 255 (lower is better)")
        if held := (dataset.get("holdout") or {}).get("held_out"):
            lines.append(f"- scored against {held} held-out images, never trained on")
        if quality.get("best_epoch") is not None:
            lines.append(
                f"- best epoch by SWD and colour: **{quality['best_epoch']}** (its generator is `generator.keras`)"
            )
        lines.append(f"- full report: `{quality['report']}`")
    lines += ["", "## Steps", "", "| step | state | seconds |", "| --- | --- | ---: |"]
    lines += [f"| {name} | {s['state']} | {s['seconds']:.1f} |" for name, s in summary["steps"].items()]
    lines += [
        "",
        "## Outputs",
        f"- GIF: `{outputs['gif']}`",
        f"- generator: `{outputs['generator']}`",
        f"- metrics: `{outputs['metrics']}`",
        f"- checkpoints: `{outputs['checkpoints']}`",
    ]
    return "\n".join(lines) + "\n"
