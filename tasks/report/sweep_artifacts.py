"""The sweep's report as Prefect artifacts on the sweep's flow run: the markdown with its picture, and a table.

A markdown artifact cannot reach a file on the machine that ran the sweep, so the picture goes inline as
a `data:` URI (up to MAX_INLINE_BYTES; a larger one is named by its path instead). Outside a Prefect run
nothing is published; a failure to publish is logged, never raised: sweep.md on disk is the record.
"""

import base64

from ganmodels.metrics.registry import metrics
from tasks.prefect_artifacts import artifact_key, in_prefect_run
from tasks.progress import run_logger
from tasks.report.artifacts import shown
from tasks.report.sweep_report import SweepReport, markdown

MAX_INLINE_BYTES = 2_000_000
RUN_COLUMNS = ("name", "state", "stopped", "epochs", "steps", "wall_seconds")


def table_columns() -> tuple[str, ...]:
    """The runs table: each run's state, then the fields every metric puts there."""
    return (*RUN_COLUMNS, *(field for metric in metrics() for field in metric.table_fields))


def inline_png(report: SweepReport) -> str:
    """The picture as a data: URI, or its path when it is too large to inline."""
    data = report.picture.read_bytes()
    if len(data) > MAX_INLINE_BYTES:
        return str(report.picture)
    return "data:image/png;base64," + base64.b64encode(data).decode()


def publish_sweep_artifacts(report: SweepReport) -> None:
    if not in_prefect_run():
        return
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    sweep_dir = report.json.parent
    try:
        create_markdown_artifact(
            key=artifact_key(sweep_dir, "sweep"),
            markdown=markdown(report.data, inline_png(report)),
            description=f"Sweep report: {sweep_dir}",
        )
        rows = [
            {**{k: shown(c.get(k)) for k in table_columns()}, **{f"opt_{k}": v for k, v in c["point"].items()}}
            for c in report.data["children"]
        ]
        create_table_artifact(key=artifact_key(sweep_dir, "sweep-runs"), table=rows, description="Sweep runs")
    except Exception as exc:  # the API is down or refused it: the files on disk are complete
        run_logger().warning("could not publish the sweep artifacts: %s", exc)
