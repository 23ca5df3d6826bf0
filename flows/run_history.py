"""Recent runs of the `ganflow` flow from the Prefect API, for `ganflow runs`.

`prefect flow-run ls` lists every flow's runs without their deployment; this shows ganflow's only, newest
first, with the deployment each came from and its run folder, so the id to pass to `ganflow retry` is easy
to pick and a Prefect run id leads to its files.
"""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

FLOW_NAME = "ganflow"


@dataclass(frozen=True)
class RunRow:
    id: str
    name: str
    deployment: str
    state: str
    started: datetime | None
    seconds: float | None
    message: str
    folder: str


def recent_runs(limit: int = 10, states: tuple[str, ...] = ()) -> list[RunRow]:
    """The newest `limit` runs (by expected start), optionally only those whose state type is in `states`."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    run_filter = None
    if states:
        state_types = [StateType(s.upper()) for s in states]
        run_filter = FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=state_types)))
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[FLOW_NAME])),
            flow_run_filter=run_filter,
            sort=FlowRunSort.EXPECTED_START_TIME_DESC,
            limit=limit,
        )
        ids = list({r.deployment_id for r in runs if r.deployment_id})
        deployments = {}
        if ids:
            found = client.read_deployments(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=ids)))
            deployments = {d.id: d.name for d in found}
    return [
        RunRow(
            id=str(r.id),
            name=r.name,
            deployment=deployments.get(r.deployment_id, "-") if r.deployment_id else "-",
            state=r.state.name if r.state else "?",
            started=r.start_time,
            seconds=r.total_run_time.total_seconds() if r.total_run_time else None,
            message=(r.state.message or "").splitlines()[0][:80] if r.state and r.state.message else "",
            folder=run_folder(r.parameters or {}),
        )
        for r in runs
    ]


def run_folder(parameters: dict[str, Any]) -> str:
    """The run folder a ganflow flow run wrote to, from its parameters: absolute for `ganflow run`'s runs; a
    deployment's relative folder is relative to the worker's checkout. "-" when they do not tell."""
    if parameters.get("run_dir"):
        return str(parameters["run_dir"])
    from flows.flow_parameters import run_params

    try:  # the default folder is named after the data and model settings
        return (Path("runs") / run_params(parameters).default_run_name()).as_posix()
    except Exception:  # parameters that only the worker's machine can check (a folder there, say)
        return "-"


def _flow_run(flow_run_id: str):
    """The flow run with this id as the API has it now; None when it is not an id or the API does not know it
    (`prefect flow-run retry` says why)."""
    from uuid import UUID

    from prefect import get_client

    try:
        run_id = UUID(flow_run_id)
    except ValueError:
        return None
    with get_client(sync_client=True) as client:
        try:
            return client.read_flow_run(run_id)
        except Exception:  # not found, or the API refused it
            return None


def gif_line(flow_run_id: str) -> str | None:
    """Where a retried `ganflow` run's GIF is, as the last line of `ganflow retry`; None when unknown.

    A run started with `ganflow run` has run again here, in its absolute folder. A deployment's run was
    scheduled again for a worker, whose checkout a relative folder is in.
    """
    run = _flow_run(flow_run_id)
    folder = run_folder(run.parameters or {}) if run is not None else "-"
    if folder == "-":
        return None
    from tasks.run_folder import RunFolder

    gif = RunFolder(Path(folder)).gif
    if run.deployment_id is None:
        return f"GIF: {gif.resolve()}"
    where = "" if gif.is_absolute() else " (in the worker's checkout)"
    return f"GIF, once the worker has run it: {gif.as_posix()}{where}"


def interrupted_line(flow_run_id: str) -> str | None:
    """For a retried run that Ctrl-C or SIGTERM stopped in training: the step reached and how to go on."""
    from tasks.train.interrupt import STOPPED_BY

    run = _flow_run(flow_run_id)
    message = (run.state.message or "") if run is not None and run.state is not None else ""
    if STOPPED_BY not in message:
        return None
    reached = message[message.index(STOPPED_BY) :].rstrip(".')\"")
    return f"Stopped: {reached}. The same command continues from there: ganflow retry {flow_run_id}"


def flow_name_of(flow_run_id: str) -> str | None:
    """The name of the flow a run belongs to (ganflow, ganflow-sweep), or None when the API does not know the id."""
    from prefect import get_client

    run = _flow_run(flow_run_id)
    if run is None:
        return None
    with get_client(sync_client=True) as client:
        try:
            return client.read_flow(run.flow_id).name
        except Exception:  # the API refused it: `prefect flow-run retry` says why
            return None


def format_runs(rows: list[RunRow]) -> str:
    """Aligned plain-text columns: readable in a terminal, easy to grep and to copy an id from."""
    header = ("ID", "NAME", "DEPLOYMENT", "STATE", "STARTED", "SECONDS", "FOLDER", "MESSAGE")
    table = [header] + [
        (
            r.id,
            r.name,
            r.deployment,
            r.state,
            r.started.strftime("%Y-%m-%d %H:%M:%S") if r.started else "-",
            f"{r.seconds:.0f}" if r.seconds is not None else "-",
            r.folder,
            r.message,
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in table)
