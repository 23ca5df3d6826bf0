"""Prefect artifacts of a finished run: per-epoch metrics, the summary, and the GIF itself.

Each is keyed by the run folder's name, so the Prefect UI shows one history per run folder (a nightly
deployment that continues the same folder adds a version each night). Outside a Prefect run, as when a
step's plain function is called directly, every call here does nothing. A failure to publish is logged
and never fails the step: the files on disk are the record, artifacts are the view.

A browser does not open a file:// link from the UI's http page, and `create_image_artifact` needs an
http(s) URL, so the GIF and the newest sample grid are shown inline: a markdown artifact whose images are
data: URIs (the UI's markdown renderer shows them), a downscaled preview (tasks/progress_gif.py).
"""

import math
from pathlib import Path
from typing import Any

from tasks.prefect_artifacts import artifact_key, in_prefect_run, publish
from tasks.preprocess.manifest import read_manifest
from tasks.progress_gif import markdown_in_place, progress_markdown
from tasks.run_folder import RunFolder

MAX_TABLE_ROWS = 1000  # the newest epochs; metrics.csv holds them all
MAX_SKIPPED_LISTED = 20
def publish_run_artifacts(run: RunFolder, summary: dict[str, Any]) -> None:
    """The metrics table, the markdown summary and the GIF with the newest grid, from the run's summary
    (tasks/report/summary.py: summary.json's content) and its metrics."""
    if not in_prefect_run():
        return
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    run_dir = run.root
    rows = metrics_rows(run)
    newest = f", the newest {MAX_TABLE_ROWS}" if len(rows) > MAX_TABLE_ROWS else ""
    losses, quality, reference = split_columns(rows[-MAX_TABLE_ROWS:])
    publish(
        "metrics table",
        create_table_artifact,
        table=losses or [{"epoch": "none yet"}],
        key=artifact_key(run_dir, "metrics"),
        description=f"Per-epoch losses of {run_dir}{newest}",
    )
    if quality:  # not with --eval-every 0
        publish(
            "quality table",
            create_table_artifact,
            table=quality,
            key=artifact_key(run_dir, "quality"),
            description=f"Quality per evaluated epoch of {run_dir}{newest} (lower is better){reference}",
        )
    publish(
        "summary",
        create_markdown_artifact,
        markdown=summary_markdown(summary, rows[-1] if rows else None, _skipped(summary)),
        key=artifact_key(run_dir, "summary"),
        description=f"What the run in {run_dir} did",
    )
    gif, samples, key = (
        Path(summary["outputs"]["gif"]),
        Path(summary["outputs"]["samples"]),
        artifact_key(run_dir, "gif"),
    )
    # Inside publish: an image that fails to read is logged, not fatal. The card training showed is updated.
    publish("GIF", lambda: markdown_in_place(key, progress_markdown(samples, gif)))


SHOWN_DIGITS = 3  # significant digits of a float in what people read; metrics.csv keeps them all


def metrics_rows(run: RunFolder) -> list[dict[str, Any]]:
    """The run's metrics as a person reads them: numbers as numbers, floats to `SHOWN_DIGITS` significant
    digits, and no column that says nothing (empty in every row, or the balance rule's zeros when it is off)."""
    rows = [{k: shown(_number(v)) for k, v in row.items()} for row in run.read_metrics()]
    silent = {k for k in (rows[0] if rows else {}) if all(r.get(k) in ("", None) for r in rows)}
    silent |= {k for k in ("d_extra", "g_extra") if rows and all(r.get(k) in (0, "", None) for r in rows)}
    return [{k: v for k, v in row.items() if k not in silent} for row in rows]


LOSS_COLUMNS = ("epoch", "step", "d_loss", "g_loss", "d_extra", "g_extra", "seconds")
REFERENCE_COLUMNS = ("spread_real",)  # the same in every row: said once, in the table's description


def split_columns(rows: list[dict[str, Any]]) -> tuple[list[dict], list[dict], str]:
    """The metrics rows as two tables that fit the UI's page: losses and time, and the quality scores of
    the epochs that were evaluated; plus the real images' figures that every row repeats, as text."""
    losses = [{k: v for k, v in row.items() if k in LOSS_COLUMNS} for row in rows]
    scored = [row for row in rows if row.get("swd") not in ("", None)]
    quality = [{k: v for k, v in row.items() if k == "epoch" or k not in (*LOSS_COLUMNS, *REFERENCE_COLUMNS)}
               for row in scored]  # fmt: skip
    quality = [row for row in quality if len(row) > 1]
    refs = [f"{k} {scored[-1][k]}" for k in REFERENCE_COLUMNS if scored and scored[-1].get(k) not in ("", None)]
    return losses, quality, f"; real images: {', '.join(refs)}" if refs else ""


def shown(value: Any, digits: int = SHOWN_DIGITS) -> Any:
    """A float rounded to `digits` significant digits (0.42064355810483295 -> 0.421); anything else as it is."""
    if isinstance(value, float) and math.isfinite(value) and value != 0:
        return float(f"{value:.{digits}g}")
    return value


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
    if training.get("note"):
        lines.append(f"- {training['note']}")
    if training.get("stopped") == "budget":
        lines.append("- stopped on its time budget (--max-minutes); a larger budget or more epochs continues it")
    if last_metrics:
        lines.append("- final epoch: " + ", ".join(f"{k} {shown(v)}" for k, v in last_metrics.items() if v != ""))
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
