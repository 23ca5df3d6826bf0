"""The `ganflow-sweep` flow: one `ganflow` run per point of a grid over run options, then one report.

Every child is a whole `ganflow` run with its own run folder under the sweep's folder and the sweep's one
`--data-dir`, so the data is acquired and preprocessed once. Where the children run:

- `deployment`: each child is a flow run of that deployment (`run_deployment`), so whichever worker of its
  work pool is free takes it, on any machine; the sweep waits for all of them.
- else `parallel` 1: here, one after another, as subflows of the sweep.
- else `parallel` N: here, N at once, each in its own `python -m flows.sweep` process (TensorFlow's
  thread pools and precision policy are per process, so children never share them).

A child whose run folder holds a summary of a finished run with exactly its options is reused; any other
(never started, failed, killed) runs again and resumes from its last checkpoint. So rerunning the sweep,
or `ganflow retry` of its flow run, reruns only what did not finish.
"""

import hashlib
import itertools
import json
import os
import re
import subprocess
import sys
import time
import typing
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect import flow
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from flows.option_checks import first_problem
from flows.params import RunParams
from ganmodels.flags import flag
from tasks.errors import UserError
from tasks.progress import run_logger
from tasks.report.sweep_artifacts import publish_sweep_artifacts
from tasks.report.sweep_report import ChildOutcome, child_finished, write_sweep_report
from tasks.run_folder import RunFolder

NOT_SWEPT = ("run_dir", "data_dir")  # every child has its own run folder and shares the one data cache
BUDGET_OPTIONS = ("epochs", "more_epochs", "max_minutes")  # not in the default folder name: more continues it
POLL_SECONDS = 2.0


class SweepChildrenFailed(UserError):
    """Some children did not finish; the report is written, and a rerun retries only those."""


def _field_value(name: str, value: Any) -> Any:
    """A grid value as the option's type expects it: click and the CLI give text, Literal fields want the choice."""
    annotation = RunParams.model_fields[name].annotation
    literal = annotation if typing.get_origin(annotation) is typing.Literal else None
    for arg in typing.get_args(annotation):
        if typing.get_origin(arg) is typing.Literal:
            literal = arg
    if literal is not None:
        return next((c for c in typing.get_args(literal) if str(c) == str(value)), value)
    return value


def _slug(value: Any) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", str(value)).strip("-") or "x"


@dataclass(frozen=True)
class Child:
    """One grid point: its values, its folder name and its full, validated run options."""

    name: str
    point: dict[str, Any]
    params: RunParams


class SweepParams(BaseModel):
    """Parameters of the `ganflow-sweep` flow."""

    model_config = ConfigDict(extra="forbid")

    options: dict[str, Any] = Field(
        default_factory=dict, description="Run options every child shares, as `ganflow run` takes them."
    )
    grid: dict[str, list[Any]] = Field(
        description="Run option -> its values; one child run per combination, in this order."
    )
    sweep_dir: Path | None = Field(
        None, description="Folder of the sweep: its report and one run folder per child. Default: runs/sweep-<hash>."
    )
    deployment: str | None = Field(
        None, description="Run each child as a flow run of this deployment (FLOW/NAME), on its work pool's workers."
    )
    parallel: int = Field(1, ge=1, le=64, description="Without a deployment: children run here, this many at once.")

    @model_validator(mode="after")
    def _check(self) -> "SweepParams":
        fields = RunParams.model_fields
        for where, names in (("options", self.options), ("grid", self.grid)):
            for name in names:
                if name not in fields:
                    raise ValueError(f"{where}: {name!r} is not a run option (see `ganflow run --help`)")
        if not self.grid:
            raise ValueError("give at least one --grid OPTION=V1,V2")
        for name, values in self.grid.items():
            if name in NOT_SWEPT:
                raise ValueError(
                    f"--grid {flag(name)}: each child gets its own run folder and shares one data cache"
                )
            if name in self.options:
                raise ValueError(f"{flag(name)} is given both as an option and in --grid; keep one")
            if not values:
                raise ValueError(f"--grid {flag(name)}= has no values; give V1,V2,...")
            if len({str(v) for v in values}) != len(values):
                raise ValueError(f"--grid {flag(name)} lists a value twice")
        if "run_dir" in self.options:
            raise ValueError("--run-dir: a sweep gives each child its own folder under --sweep-dir; use that instead")
        data_dir = Path(self.options.get("data_dir", RunParams.model_fields["data_dir"].default))
        self.options = {**self.options, "data_dir": str(data_dir.expanduser().resolve())}
        if self.sweep_dir is None:
            self.sweep_dir = Path("runs") / self.default_name()
        self.sweep_dir = self.sweep_dir.expanduser().resolve()
        self.children()  # every point validates here, before anything starts
        return self

    def default_name(self) -> str:
        """Same options and grid give the same folder; a larger budget or more epochs continues the sweep."""
        shared = {k: v for k, v in self.options.items() if k not in BUDGET_OPTIONS}
        identity = json.dumps({"options": shared, "grid": self.grid}, sort_keys=True, default=str)
        return f"sweep-{hashlib.sha256(identity.encode()).hexdigest()[:8]}"

    def children(self) -> list[Child]:
        """One child per combination of the grid's values, each validated as `ganflow run` would validate it."""
        names = list(self.grid)
        children: list[Child] = []
        for values in itertools.product(*(self.grid[n] for n in names)):
            point = {n: _field_value(n, v) for n, v in zip(names, values, strict=True)}
            name = "_".join(f"{_slug(n.replace('_', '-'))}-{_slug(v)}" for n, v in point.items())
            given = {k: _field_value(k, v) for k, v in self.options.items()}
            try:
                params = RunParams(**given, **point, run_dir=self.sweep_dir / name)
            except ValidationError as exc:
                option, message = first_problem(exc)
                where = f"{flag(option)}: " if option else ""
                at = ", ".join(f"{n}={v}" for n, v in point.items())
                raise ValueError(f"grid point {at}: {where}{message}") from None
            children.append(Child(name, point, params))
        return children


@dataclass(frozen=True)
class SweepResult:
    sweep_dir: Path
    report: Path
    markdown: Path
    picture: Path
    outcomes: dict[str, ChildOutcome]


def _child_json(child: Child) -> dict[str, Any]:
    """The child's options as its run's summary.json records them."""
    return child.params.model_dump(mode="json")


def _deployment_parameters(child: Child) -> dict[str, Any]:
    """The child's options as the flat `ganflow` flow parameters a deployment run takes."""
    from flows.flow_parameters import as_json, of_run

    return as_json(of_run(child.params))


def _run_here(child: Child) -> ChildOutcome:
    """The child as a subflow of the sweep, in this process."""
    from flows.flow_parameters import of_run
    from flows.ganflow import ganflow

    state = ganflow.with_options(flow_run_name=child.name)(**of_run(child.params), return_state=True)
    run_id = str(state.state_details.flow_run_id) if state.state_details.flow_run_id else None
    return ChildOutcome(child.name, "completed" if state.is_completed() else "failed", run_id, state.message or "")


def _run_in_process(child: Child, logs: Path) -> ChildOutcome:
    """The child as `python -m flows.sweep CHILD_JSON`, its output in the sweep's logs/ folder."""
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / f"{child.name}.log", "w") as log:
        code = subprocess.call(
            [sys.executable, "-m", "flows.sweep", json.dumps(_child_json(child))],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    message = "" if code == 0 else f"exit code {code}; see {logs / (child.name + '.log')}"
    return ChildOutcome(child.name, "completed" if code == 0 else "failed", None, message)


def _run_on_pool(children: list[Child], deployment: str) -> dict[str, ChildOutcome]:
    """Every child as a run of `deployment` at once (the pool's workers take them), then wait for all."""
    from prefect import get_client
    from prefect.deployments import run_deployment

    log = run_logger()
    started = {
        c.name: run_deployment(
            deployment,
            parameters=_deployment_parameters(c),
            flow_run_name=c.name,
            timeout=0,
            tags=["ganflow-sweep"],
        ).id
        for c in children
    }
    log.info("%d runs of %s scheduled; any worker of its pool takes them", len(started), deployment)
    outcomes: dict[str, ChildOutcome] = {}
    with get_client(sync_client=True) as client:
        while len(outcomes) < len(started):
            for name, run_id in started.items():
                if name in outcomes:
                    continue
                run = client.read_flow_run(run_id)
                if run.state is not None and run.state.is_final():
                    kind = "completed" if run.state.is_completed() else run.state.type.value.lower()
                    outcomes[name] = ChildOutcome(name, kind, str(run_id), run.state.message or "")
                    log.info("%s: %s", name, run.state.name)
            if len(outcomes) < len(started):
                time.sleep(POLL_SECONDS)
    return outcomes


@flow(name="ganflow-sweep", log_prints=True)
def ganflow_sweep(sweep: SweepParams) -> SweepResult:
    """Train one `ganflow` run per grid point and rank them in one report (sweep.json, sweep.md, sweep.png).

    Artifacts: the report's table and picture.
    """
    sweep = SweepParams.model_validate(sweep.model_dump())  # resolve folders where the sweep runs
    log = run_logger()
    children = sweep.children()
    with RunFolder(sweep.sweep_dir).locked():
        outcomes: dict[str, ChildOutcome] = {}
        todo = []
        for child in children:
            if child_finished(child.params.run_dir, _child_json(child)):
                outcomes[child.name] = ChildOutcome(child.name, "reused", None, "finished in an earlier sweep run")
            else:
                todo.append(child)
        log.info(
            "sweep %s: %d runs, %d finished before, %d to run",
            sweep.sweep_dir,
            len(children),
            len(children) - len(todo),
            len(todo),
        )
        if todo and sweep.deployment:
            outcomes.update(_run_on_pool(todo, sweep.deployment))
        elif sweep.parallel > 1:
            with ThreadPoolExecutor(sweep.parallel) as pool:
                done = pool.map(lambda c: _run_in_process(c, sweep.sweep_dir / "logs"), todo)
                outcomes.update({o.name: o for o in done})
        else:
            for child in todo:
                outcomes[child.name] = _run_here(child)
        ordered = [(c.name, c.point, c.params.run_dir, _child_json(c), outcomes[c.name]) for c in children]
        report = write_sweep_report(sweep.sweep_dir, sweep.model_dump(mode="json"), ordered)
    publish_sweep_artifacts(report)
    failed = [o for o in outcomes.values() if o.state not in ("completed", "reused")]
    if failed:
        names = ", ".join(f"{o.name} ({o.state})" for o in failed)
        raise SweepChildrenFailed(
            f"{len(failed)} of {len(children)} runs did not finish: {names}; the report is in {sweep.sweep_dir}. "
            "Run the same sweep again (or `ganflow retry` its flow run) to rerun only those"
        )
    return SweepResult(sweep.sweep_dir, report.json, report.markdown, report.picture, outcomes)


def _child_main(params_json: str) -> int:
    """`python -m flows.sweep JSON`: one child run in this process (the sweep's --parallel mode)."""
    from flows.flow_parameters import of_run
    from flows.ganflow import ganflow

    params = RunParams.model_validate(json.loads(params_json))
    state = ganflow.with_options(flow_run_name=params.run_dir.name)(**of_run(params), return_state=True)
    return 0 if state.is_completed() else 1


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.exit(_child_main(sys.argv[1]))
