"""The `ganflow` flow: acquire -> preprocess -> train -> render -> evaluate, then the run's summary.

Every step is a cached Prefect task, so a rerun with the same parameters repeats only what failed,
changed, or lost its output files.

Keras picks its backend once, when it is imported, and a worker imports this module before it knows the
flow's parameters: so nothing here imports Keras at module level (train and evaluate are imported in `_run`),
and the flow chooses the backend from its `backend` parameter first thing (`_chosen_backend`).
"""

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger

from flows.flow_parameters import run_params, with_flow_parameters
from flows.params import RunParams
from tasks.acquire.sources.download import query_warning
from tasks.acquire.task import acquire
from tasks.caching import results_under
from tasks.disk_space import MB, space_for
from tasks.errors import UserError
from tasks.preprocess.task import preprocess
from tasks.report.artifacts import publish_run_artifacts
from tasks.report.render import render
from tasks.run_folder import RunFolder
from tasks.train.epochs import epoch_target, nothing_to_train


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
    params = params.model_copy(update={"backend": _chosen_backend(params.backend)})
    run = RunFolder(params.run_dir)
    if params.restart:  # before the lock, which creates .lock: a refused --restart leaves no trace at all
        run.check_clearable()  # checked again under the lock, before anything is deleted (train's clear_training)
    with run.locked(), results_under(params.data_dir):  # cached results live with the data they describe
        return _run(params, run)


def _chosen_backend(asked: str | None) -> str:
    """Keras' backend for this run, set before anything imports Keras; one line when it cannot be."""
    from ganmodels.backend import BackendError, choose_backend

    try:
        return choose_backend(asked)
    except BackendError as exc:
        raise UserError(str(exc)) from None


def _own_folder_per_deployment(params: RunParams, run_dir: Any) -> RunParams:
    """A deployment's run without a run_dir trains in runs/<deployment>/<default name>, so it never continues
    (or finds already trained) the folder that `ganflow run` with the same settings uses, nor another
    deployment's; the settings still name the folder inside, so a changed size starts a new one."""
    from prefect.runtime import deployment

    if run_dir is not None or not deployment.name:
        return params
    folder = Path("runs") / deployment.name / params.default_run_name()
    return params.model_copy(update={"run_dir": folder.expanduser().resolve()})


def _summary_written(run: RunFolder, **sections: Any) -> Path:
    """summary.json, or one line when the run folder has no room left for it."""
    with space_for("--run-dir", run.root, "writing the summary", lambda: MB):
        return run.write_summary(**sections)


def _run(params: RunParams, run: RunFolder) -> RunResult:
    """The steps of one run, in order; each result is cached in the data folder's result store."""
    from tasks.report.evaluate import evaluate  # these import Keras: only once its backend is chosen
    from tasks.train.loop import EPOCHS_DONE
    from tasks.train.task import train

    steps: dict[str, dict[str, Any]] = {}
    run_dir = run.root
    if warning := query_warning(params.source):
        get_run_logger().warning(warning)
    images = _step(
        steps,
        "acquire",
        acquire,
        source_text=params.source,
        data_dir=params.data_dir,
        sha256=params.sha256,
        max_extract_bytes=int(params.max_extract_bytes),
        max_extract_entries=params.max_extract_entries,
        auth_secret=params.http_auth_secret,
    )
    data = _step(
        steps,
        "preprocess",
        preprocess,
        acquired=images,
        size=params.size,
        channels=params.channels,
        crop=params.crop,
        data_dir=params.data_dir,
        dedupe=params.dedupe,
        min_side=params.min_side,
        max_pixels=params.max_pixels,
        workers=params.workers,
        task_runner=params.task_runner,
        dask_address=params.dask_address,
    )
    options = params.train_options()
    if params.more_epochs:
        options = replace(options, epochs=epoch_target(run_dir, params.more_epochs, params.restart))
    train_task = train.with_options(refresh_cache=True) if params.restart else train
    model = _step(
        steps,
        "train",
        train_task,
        data=data,
        config=params.gan_config(),
        options=options,
        run_dir=run_dir,
    )
    steps_trained = 0 if steps["train"]["state"] == "Cached" else model.steps_run
    note = ""
    if steps_trained == 0 and model.stopped == EPOCHS_DONE and model.epochs >= options.epochs:
        note = nothing_to_train(run_dir, model.epochs, options.epochs)
        get_run_logger().warning(note)
    gif = _step(steps, "render", render, samples_dir=model.samples, gif_path=run.gif, epochs=model.epochs)

    quality = _step(
        steps,
        "evaluate",
        evaluate,
        trained=model,
        npy=data.npy,
        run_dir=run_dir,
        count=params.eval_images,
        inception_weights=params.inception_weights,
    )

    summary = _summary_written(
        run,
        params=params,
        dataset={
            "count": data.count,
            "skipped": data.skipped,
            "skipped_by_reason": data.skipped_by_reason,
            "npy": data.npy,
            "manifest": data.manifest,
            "sha256": data.sha256,
            "source": images.identity,
            "holdout": model.split,
        },
        training={
            "epochs": model.epochs,
            "total_steps": model.steps,
            "steps_this_run": steps_trained,
            "runtime": model.runtime,
            "extra_updates": model.extra_updates,
            "stopped": model.stopped,
            "note": note,
        },
        quality={
            "best_epoch": model.best_epoch,
            "swd": quality.swd,
            "colour": quality.colour,
            "report": quality.report,
        },
        steps=steps,
        outputs={
            "gif": gif.path,
            "generator": model.generator,
            "samples": model.samples,
            "metrics": model.metrics,
            "checkpoints": model.checkpoints,
            "generator_last": model.generator_last,
            "curves": model.curves,
            "nearest": quality.nearest,
            "tensorboard": run.tensorboard,
        },
    )
    publish_run_artifacts(summary)
    return RunResult(
        run_dir,
        gif.path,
        model.generator,
        summary,
        steps_trained,
        {name: s["state"] for name, s in steps.items()},
        model.stopped,
        note,
    )
