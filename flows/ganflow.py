"""The `ganflow` flow: acquire -> preprocess -> train -> render -> evaluate, then the run's summary.

Every step is a cached Prefect task, so a rerun with the same parameters repeats only what failed,
changed, or lost its output files.

Keras picks its backend once, when it is imported, and a worker imports this module before it knows the
flow's parameters: so nothing here imports Keras at module level (train and evaluate are imported where they run),
and the flow chooses the backend from its `backend` parameter first thing (`_chosen_backend`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect import flow, get_run_logger

from flows.flow_parameters import run_params, with_flow_parameters
from flows.params import RunParams
from flows.specs import run_specs
from tasks.acquire.sources.download import query_warning
from tasks.acquire.task import acquire
from tasks.caching import results_under
from tasks.disk_space import MB, space_for
from tasks.errors import UserError
from tasks.preprocess.task import preprocess
from tasks.report.artifacts import publish_run_artifacts
from tasks.report.render import render
from tasks.report.summary import StepResults, summarize
from tasks.run_folder import RunFolder
from tasks.train.epochs import epoch_target, nothing_to_train
from tasks.train.options import TrainSpec

if TYPE_CHECKING:
    from tasks.train.task import TrainedModel


@dataclass(frozen=True)
class RunResult:
    run_dir: Path
    gif: Path
    generator: Path
    summary: Path
    steps_trained: int
    states: dict[str, str]
    stopped: str = "epochs"  # or "budget": training ended on --max-minutes
    note: str = ""  # why nothing was trained, when the run folder had already reached --epochs


def _step(log: dict[str, dict[str, Any]], name: str, task, **kwargs) -> Any:
    """Run one task, record its wall time and final state name (Completed, Cached), return its result."""
    started = time.perf_counter()
    state = task(**kwargs, return_state=True)
    log[name] = {"state": state.name, "seconds": round(time.perf_counter() - started, 3)}
    return state.result()


@flow(name="ganflow", log_prints=True)
@with_flow_parameters  # flat parameters for the everyday options, the rest in `options` (flows/flow_parameters.py)
def ganflow(**parameters: Any) -> RunResult:
    """Train a DCGAN on a face dataset and render its progress as a GIF.

    Artifacts: training progress and the GIF (from the train step, kept current while it trains), and at
    the end the per-epoch metrics and quality tables, a markdown summary and the final GIF. The run folder
    is locked for the whole run: a second run on it stops at once with one line naming this one's PID.
    """
    params = _own_folder_per_deployment(run_params(parameters), parameters.get("run_dir"))
    _chosen_backend(params.backend)  # the options keep what was given: a sweep compares them with its children's
    run = RunFolder(params.run_dir)
    if params.restart:  # before the lock, which creates .lock: a refused --restart leaves no trace at all
        run.check_clearable()  # checked again under the lock, before anything is deleted (train's clear_training)
    with run.locked(), results_under(params.data_dir):  # cached results live with the data they describe
        return _run(params, run)


def _chosen_backend(asked: str | None) -> str:
    """Keras' backend for this run, set before anything imports Keras; one line when it cannot be."""
    from ganmodels.backend import BackendError, choose_backend

    try:
        chosen = choose_backend(asked)
    except BackendError as exc:
        raise UserError(str(exc)) from None
    _join_processes(chosen)
    return chosen


def _join_processes(backend: str) -> None:
    """With JAX_COORDINATOR_ADDRESS / JAX_NUM_PROCESSES / JAX_PROCESS_ID set, this process trains as one of
    several (docs/operations.md): join them before anything touches JAX; a wrong or missing value is one line."""
    from ganmodels import multihost

    if (wrong := multihost.problem(backend)) is not None:
        raise UserError(wrong)
    if multihost.requested():
        multihost.join_processes()


def _own_folder_per_deployment(params: RunParams, run_dir: Any) -> RunParams:
    """A deployment's run without a run_dir trains in runs/<deployment>/<default name>, so it never continues
    (or finds already trained) the folder that `ganflow run` with the same settings uses, nor another
    deployment's; the settings still name the folder inside, so a changed size starts a new one."""
    from prefect.runtime import deployment

    if run_dir is not None or not deployment.name:
        return params
    folder = Path("runs") / deployment.name / params.default_run_name()
    return params.model_copy(update={"run_dir": folder.expanduser().resolve()})


def _summary_written(run: RunFolder, summary: dict[str, Any]) -> Path:
    """summary.json, or one line when the run folder has no room left for it."""
    with space_for("--run-dir", run.root, "writing the summary", lambda: MB):
        return run.write_summary(**summary)


def _run(params: RunParams, run: RunFolder) -> RunResult:
    """The steps of one run, in order, each handed its spec; each result is cached in the data folder's store."""
    from tasks.report.evaluate import evaluate  # these import Keras: only once its backend is chosen

    specs, steps = run_specs(params), {}
    if warning := query_warning(params.source):
        get_run_logger().warning(warning)
    images = _step(steps, "acquire", acquire, spec=specs.acquire)
    data = _step(steps, "preprocess", preprocess, acquired=images, spec=specs.preprocess)
    training = _this_runs_target(specs.train)
    model = _step(steps, "train", _train_task(training), data=data, spec=training)
    steps_trained, note = _what_was_trained(steps, model, training)
    gif = _step(steps, "render", render, samples_dir=model.samples, gif_path=run.gif, epochs=model.epochs)
    quality = _step(steps, "evaluate", evaluate, trained=model, data=data, spec=specs.evaluate)

    results = StepResults(images, data, model, gif, quality, steps, steps_trained, note)
    summary = summarize(params.model_dump(mode="json"), run, results)
    path = _summary_written(run, summary)
    publish_run_artifacts(run, summary)
    states = {name: step["state"] for name, step in steps.items()}
    return RunResult(run.root, gif.path, model.generator, path, steps_trained, states, model.stopped, note)


def _this_runs_target(spec: TrainSpec) -> TrainSpec:
    """The train spec with --more-epochs counted from the run folder: the total this flow run trains to."""
    if not spec.more_epochs:
        return spec
    return spec.for_epochs(epoch_target(spec.run_dir, spec.more_epochs, spec.options.restart))


def _train_task(spec: TrainSpec):
    """The train step; with --restart its cached result is not reused (the folder starts again)."""
    from tasks.train.task import train

    return train.with_options(refresh_cache=True) if spec.options.restart else train


def _what_was_trained(steps: dict[str, dict[str, Any]], model: TrainedModel, spec: TrainSpec) -> tuple[int, str]:
    """The steps trained in this run, and why none when the run folder had already reached --epochs."""
    from tasks.train.loop import EPOCHS_DONE

    steps_trained = 0 if steps["train"]["state"] == "Cached" else model.steps_run
    note = ""
    if steps_trained == 0 and model.stopped == EPOCHS_DONE and model.epochs >= spec.options.epochs:
        note = nothing_to_train(spec.run_dir, model.epochs, spec.options.epochs)
        get_run_logger().warning(note)
    return steps_trained, note
