"""The `ganflow` flow: acquire -> preprocess -> train -> render, then the run's summary.

Every step is a cached Prefect task, so a rerun with the same parameters repeats only what failed,
changed, or lost its output files.
"""

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect import flow

from flows.params import RunParams
from tasks.acquire import acquire
from tasks.preprocess import preprocess
from tasks.render import render
from tasks.summary import write_summary
from tasks.train import train


@dataclass(frozen=True)
class RunResult:
    run_dir: Path
    gif: Path
    generator: Path
    summary: Path
    steps_trained: int
    states: dict[str, str]


def _step(log: dict[str, dict[str, Any]], name: str, task, **kwargs) -> Any:
    """Run one task, record its wall time and final state name (Completed, Cached), return its result."""
    started = time.perf_counter()
    state = task(**kwargs, return_state=True)
    log[name] = {"state": state.name, "seconds": round(time.perf_counter() - started, 3)}
    return state.result()


@flow(name="ganflow", log_prints=True)
def ganflow(params: RunParams = RunParams()) -> RunResult:  # noqa: B008 - Prefect reads the default
    """Train a DCGAN on a face dataset and render its progress as a GIF."""
    steps: dict[str, dict[str, Any]] = {}
    run_dir = params.run_dir
    images = _step(
        steps,
        "acquire",
        acquire,
        source_text=params.source,
        data_dir=params.data_dir,
        sha256=params.sha256,
        max_extract_bytes=int(params.max_extract_bytes),
        max_extract_entries=params.max_extract_entries,
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
    )
    train_task = train.with_options(refresh_cache=True) if params.restart else train
    model = _step(
        steps,
        "train",
        train_task,
        data=data,
        config=params.gan_config(),
        options=params.train_options(),
        run_dir=run_dir,
    )
    gif = _step(
        steps, "render", render, samples_dir=model.samples, gif_path=run_dir / "progress.gif", epochs=model.epochs
    )

    steps_trained = 0 if steps["train"]["state"] == "Cached" else model.steps_run
    summary = write_summary(
        run_dir / "summary.json",
        params=params,
        dataset={
            "count": data.count,
            "skipped": data.skipped,
            "npy": data.npy,
            "manifest": data.manifest,
            "sha256": data.sha256,
            "source": images.identity,
        },
        training={
            "epochs": model.epochs,
            "total_steps": model.steps,
            "steps_this_run": steps_trained,
            "runtime": model.runtime,
            "extra_updates": model.extra_updates,
        },
        steps=steps,
        outputs={
            "gif": gif.path,
            "generator": model.generator,
            "samples": model.samples,
            "metrics": model.metrics,
            "checkpoints": model.checkpoints,
        },
    )
    return RunResult(
        run_dir, gif.path, model.generator, summary, steps_trained, {name: s["state"] for name, s in steps.items()}
    )
