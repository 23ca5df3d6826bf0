"""train: fit the DCGAN on the cached array, checkpointing often and resuming exactly.

Checkpoints go to `run-dir/checkpoints/` through `tf.train.CheckpointManager`: at the end of every
epoch, every `checkpoint_every` steps if set, at least every 5 minutes of wall time, and at the end.
Each epoch ends by writing, in this order: the sample grid from fixed latents, the metrics row, and
the checkpoint. A run stopped anywhere, even by SIGKILL mid-epoch, resumes from the last checkpoint
and (with deterministic ops, the CPU default) finishes with bit-identical weights.
"""

import csv
import io
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from prefect import task
from rich.progress import TextColumn

from ganmodels.config import GanConfig
from ganmodels.data import epoch_dataset, steps_per_epoch
from ganmodels.runtime import Runtime, apply_runtime, resolve_runtime
from ganmodels.state import TrainingState
from ganmodels.tf import tf
from ganmodels.train_step import to_uint8
from tasks.atomic import atomic_path, write_bytes, write_json
from tasks.caching import step_options
from tasks.errors import UserError
from tasks.preprocess.task import PreprocessedData
from tasks.progress import Throttled, progress_bar, run_logger
from tasks.report.artifacts import TrainingProgress
from tasks.report.evaluate import QualityMonitor
from tasks.report.render import image_grid, sample_path, write_png
from tasks.train.options import TrainOptions

GRID_SAMPLES = 36
CHECKPOINT_SECONDS = 300
METRIC_FIELDS = ("epoch", "step", "d_loss", "g_loss", "d_extra", "g_extra", "swd", "ndb", "js", "seconds")


@dataclass(frozen=True)
class TrainedModel:
    """Where a finished training run left its outputs, and how far it got."""

    generator: Path
    checkpoints: Path
    samples: Path
    metrics: Path
    epochs: int
    steps: int
    steps_run: int  # in the call that produced this result; 0 when everything was already trained
    runtime: dict = field(default_factory=dict)
    extra_updates: dict = field(default_factory=dict)  # the balance rule's extra D and G updates, whole run
    generator_last: Path | None = None
    curves: Path | None = None
    best_epoch: int | None = None  # the epoch whose SWD was best, when quality was evaluated


def read_metrics(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def write_metrics(path: Path, rows: list[dict]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=METRIC_FIELDS, extrasaction="ignore", restval="")
    writer.writeheader()
    writer.writerows(rows)
    write_bytes(path, buf.getvalue().encode())


def check_compatible(ckpt_dir: Path, config: GanConfig, runtime: Runtime) -> list[str]:
    """Refuse a checkpoint of another architecture; return warnings for changes that only break exactness."""
    config_file = ckpt_dir / "config.json"
    if not config_file.exists():
        return []
    saved = json.loads(config_file.read_text())
    old, new = GanConfig.from_dict(saved.get("config", {})).to_dict(), config.to_dict()
    arch_changed = sorted(k for k, v in config.architecture().items() if old.get(k) != v)
    if arch_changed:
        detail = ", ".join(f"{k} {old.get(k)} -> {new[k]}" for k in arch_changed)
        raise UserError(
            f"--run-dir {ckpt_dir.parent} holds a model of another shape ({detail}); "
            "pass --restart to train from scratch there, or choose another --run-dir"
        )
    warnings = [f"{k} changed from {old.get(k)} to {v}" for k, v in new.items() if old.get(k) != v]
    old_rt = saved.get("runtime", {})
    for key in ("precision", "jit", "threads", "replicas", "deterministic"):
        if key in old_rt and old_rt[key] != getattr(runtime, key):
            warnings.append(f"{key} changed from {old_rt[key]} to {getattr(runtime, key)}")
    if warnings:
        warnings = [f"resuming with {'; '.join(warnings)}: the result will differ from an uninterrupted run"]
    return warnings


def save_generator(state: TrainingState, path: Path) -> Path:
    """The generator that samples were drawn from: the EMA one when the run keeps one."""
    with atomic_path(path) as tmp:
        state.models.sampler.save(tmp)
    return path


class CheckpointCadence:
    """Decides when to save mid-epoch: every N steps if asked, else every CHECKPOINT_SECONDS."""

    def __init__(self, every_steps: int | None):
        self.every_steps, self.last = every_steps, time.monotonic()

    def due(self, step: int) -> bool:
        if self.every_steps:
            return step % self.every_steps == 0
        return time.monotonic() - self.last >= CHECKPOINT_SECONDS

    def saved(self) -> None:
        self.last = time.monotonic()


def train_gan(data: PreprocessedData, config: GanConfig, options: TrainOptions, run_dir: Path) -> TrainedModel:
    """Train until `options.epochs` epochs are done in `run_dir`, continuing whatever is there."""
    log = run_logger()
    run_dir = Path(run_dir)
    ckpt_dir, samples_dir, metrics_path = run_dir / "checkpoints", run_dir / "samples", run_dir / "metrics.csv"
    images = np.load(data.npy, mmap_mode="r")
    if images.shape[1:] != (config.size, config.size, config.channels):
        raise UserError(f"{data.npy} holds {images.shape[1:]} images but the model expects size {config.size}")
    try:
        runtime = resolve_runtime(
            options.precision, options.jit, options.threads, options.deterministic, options.devices
        )
    except ValueError as exc:
        raise UserError(str(exc)) from None
    for warning in apply_runtime(runtime):
        log.warning(warning)
    if options.restart:
        for path in (ckpt_dir, samples_dir, run_dir / "tb"):
            shutil.rmtree(path, ignore_errors=True)
        for path in (metrics_path, run_dir / "generator.keras", run_dir / "curves.png"):
            path.unlink(missing_ok=True)
    for warning in check_compatible(ckpt_dir, config, runtime):
        log.warning(warning)

    state = TrainingState.build(config, runtime)
    manager = tf.train.CheckpointManager(state.checkpoint, str(ckpt_dir), max_to_keep=options.keep_checkpoints)
    if manager.latest_checkpoint:
        state.restore(manager.latest_checkpoint)
    write_json(
        ckpt_dir / "config.json",
        {"fingerprint": config.fingerprint(), "config": config.to_dict(), "runtime": runtime.to_dict()},
    )
    start_epoch, skip = int(state.epoch.numpy()), int(state.batch_in_epoch.numpy())
    if config.d_pretrain_steps > int(state.step.numpy()):
        log.info("steps 1-%d train D alone (--d-pretrain-steps)", config.d_pretrain_steps)
    if manager.latest_checkpoint:
        log.info(
            "resuming at step %d: epoch %d, batch %d (%s)",
            int(state.step.numpy()),
            start_epoch + 1,
            skip,
            manager.latest_checkpoint,
        )

    rows = [r for r in read_metrics(metrics_path) if int(r["epoch"]) <= start_epoch]
    quality = QualityMonitor(run_dir, images, state.checkpoint, options.eval_every, config.latent_dist)
    fixed_z = state.fixed_latents(GRID_SAMPLES)
    per_epoch = steps_per_epoch(len(images), config.batch_size, config.sampling)
    cadence = CheckpointCadence(options.checkpoint_every)
    throttled = Throttled(log)
    steps_run = 0
    curves = None  # drawn after each epoch; drawn once at the end only if no epoch ran here
    epochs = options.epochs
    distribute = state.models.strategy.experimental_distribute_dataset

    progress = TrainingProgress(run_dir, epochs * per_epoch)
    progress.update(int(state.step.numpy()), start_epoch, epochs, force=True)
    loss_col = TextColumn("d {task.fields[d_loss]:.3f}  g {task.fields[g_loss]:.3f}")
    with progress_bar(loss_col) as bar:
        total = max(epochs - start_epoch, 0) * per_epoch - skip
        job = bar.add_task("train", total=max(total, 0), d_loss=float("nan"), g_loss=float("nan"))
        for epoch in range(start_epoch + 1, epochs + 1):
            t0 = time.perf_counter()
            batches = epoch_dataset(
                images, config.batch_size, config.seed, epoch, skip if epoch == start_epoch + 1 else 0, config.sampling
            )
            for batch in distribute(batches):
                losses = state.train_batch(batch)
                steps_run += 1
                bar.update(job, advance=1, description=f"train epoch {epoch}/{epochs}", **losses)
                step = int(state.step.numpy())
                progress.update(step, epoch, epochs)
                if cadence.due(step) and int(state.batch_in_epoch.numpy()) < per_epoch:
                    manager.save(checkpoint_number=step)
                    cadence.saved()
            means = state.finish_epoch()
            grid = image_grid(to_uint8(state.models.generate(fixed_z)))
            write_png(sample_path(samples_dir, epoch), grid)
            row = {"epoch": epoch, "step": int(state.step.numpy()), **means}
            scores, improved = quality.epoch_end(epoch, state.models.sampler, row, grid)
            rows.append({**row, **scores, "seconds": round(time.perf_counter() - t0, 4)})
            write_metrics(metrics_path, rows)
            curves = quality.curves(rows)
            if improved:
                save_generator(state, run_dir / "generator.keras")
            manager.save(checkpoint_number=int(state.step.numpy()))
            cadence.saved()
            remaining = bar.tasks[0].time_remaining
            balance = f"  extra D {means['d_extra']} G {means['g_extra']}" if config.balance_margin is not None else ""
            throttled.info(
                "epoch %d/%d  step %d  d_loss %.3f  g_loss %.3f%s  %s left",
                epoch,
                epochs,
                int(state.step.numpy()),
                means["d_loss"],
                means["g_loss"],
                balance,
                f"{remaining:.0f}s" if remaining is not None else "?",
                force=epoch in (start_epoch + 1, epochs),
            )

    progress.update(int(state.step.numpy()), int(state.epoch.numpy()), epochs, force=True)
    last = save_generator(state, run_dir / "generator-last.keras")
    generator = run_dir / "generator.keras"
    if quality.best.epoch is None:  # nothing was evaluated: the final generator is the one
        with atomic_path(generator) as tmp:
            shutil.copyfile(last, tmp)
    elif not generator.exists():  # the best epoch's file was deleted: rebuild it from its checkpoint
        from tasks.report.generate import generator_from_checkpoint

        with atomic_path(generator) as tmp:
            generator_from_checkpoint(run_dir, "best").save(tmp)
    return TrainedModel(
        generator,
        ckpt_dir,
        samples_dir,
        metrics_path,
        int(state.epoch.numpy()),
        int(state.step.numpy()),
        steps_run,
        runtime.to_dict(),
        extra_updates=state.extra_updates(),
        generator_last=last,
        curves=curves or quality.curves(rows),
        best_epoch=quality.best.epoch,
    )


@task(name="train", task_run_name="train[{run_dir.name} to epoch {options.epochs}]", **step_options())
def train(data: PreprocessedData, config: GanConfig, options: TrainOptions, run_dir: Path) -> TrainedModel:
    """Prefect step: a trained generator in `run_dir`; a retry resumes from the last checkpoint."""
    return train_gan(data, config, options, run_dir)
