"""train: fit the DCGAN on the cached array, checkpointing often and resuming exactly.

`train_gan` is a short loop: batches through the train step, then at every step's and epoch's end the
callbacks (tasks/train/callbacks.py) write what the rest of the pipeline reads: sample grids, quality
scores and the best checkpoint, TensorBoard, metrics.csv, checkpoints, the progress artifact. The run
folder's files are named by tasks/train/run_folder.py, checkpoints handled by tasks/train/checkpoints.py.
A run stopped anywhere, even by SIGKILL mid-epoch, resumes from the last checkpoint that restores and
(with deterministic ops, the CPU default) finishes with bit-identical weights.
"""

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from prefect import task
from rich.progress import Progress, TextColumn

from ganmodels.config import GanConfig
from ganmodels.data import epoch_dataset, steps_per_epoch
from ganmodels.runtime import Runtime, apply_runtime, resolve_runtime
from ganmodels.state import TrainingState
from tasks.atomic import atomic_path
from tasks.caching import step_options
from tasks.disk_space import space_for
from tasks.errors import UserError
from tasks.hashing import FileStamp, stamps
from tasks.preprocess.manifest import data_identity
from tasks.preprocess.split import Split
from tasks.preprocess.task import PreprocessedData
from tasks.progress import progress_bar, run_logger
from tasks.train import callbacks as cb
from tasks.train.budget import EPOCHS_DONE, TimeBudget
from tasks.train.checkpoints import Checkpoints, best_generator, check_compatible, training_space
from tasks.train.options import TrainOptions
from tasks.train.run_folder import RunFolder


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
    best_epoch: int | None = None  # the best epoch by BestSoFar's rule, when quality was evaluated
    split: dict = field(default_factory=dict)  # the held-out split trained with (Split.record)
    stopped: str = EPOCHS_DONE  # why training ended: EPOCHS_DONE, or budget.BUDGET_SPENT (--max-minutes)
    stamps: tuple[FileStamp, ...] = ()  # the generators and curves as written: a cached result needs them intact


def sooner(*seconds: float | None) -> float | None:
    """The smallest of the known remaining times (never below 0); None when none is known."""
    known = [max(s, 0.0) for s in seconds if s is not None]
    return min(known) if known else None


class TrainingLoop:
    """Epochs of batches through the train step, from wherever the state stands, with callbacks."""

    def __init__(self, state: TrainingState, images: np.ndarray, epochs: int, callbacks: list[cb.Callback]):
        self.state, self.images, self.epochs, self.callbacks = state, images, epochs, callbacks
        self.per_epoch = steps_per_epoch(len(images), state.config.batch_size, state.config.sampling)
        self.start_epoch, self.skip = int(state.epoch.numpy()), int(state.batch_in_epoch.numpy())
        self.epoch, self.steps_run = self.start_epoch, 0
        self.stopped = EPOCHS_DONE  # a callback's `stop(reason)` ends training at the next step boundary
        self.budget_left: Callable[[], float] | None = None  # seconds until a budget (TimeBudget) ends training
        self.bar: Progress | None = None

    @property
    def step(self) -> int:
        return int(self.state.step.numpy())

    @property
    def mid_epoch(self) -> bool:
        """Training stopped inside an epoch: its end-of-epoch callbacks did not run."""
        return int(self.state.batch_in_epoch.numpy()) > 0

    def stop(self, reason: str) -> None:
        """End training after the current step; `on_train_end` still runs (see `mid_epoch`)."""
        self.stopped = reason

    def run(self) -> None:
        cfg, distribute = self.state.config, self.state.models.strategy.experimental_distribute_dataset
        for callback in self.callbacks:
            callback.on_train_begin(self)
        loss_col = TextColumn("d {task.fields[d_loss]:.3f}  g {task.fields[g_loss]:.3f}")
        with progress_bar(loss_col) as self.bar:
            total = max(max(self.epochs - self.start_epoch, 0) * self.per_epoch - self.skip, 0)
            job = self.bar.add_task("train", total=total, d_loss=float("nan"), g_loss=float("nan"))
            for epoch in range(self.start_epoch + 1, self.epochs + 1):
                self.epoch = epoch
                skip = self.skip if epoch == self.start_epoch + 1 else 0
                for batch in distribute(
                    epoch_dataset(self.images, cfg.batch_size, cfg.seed, epoch, skip, cfg.sampling)
                ):
                    losses = self.state.train_batch(batch)
                    self.steps_run += 1
                    self.bar.update(job, advance=1, description=f"train epoch {epoch}/{self.epochs}", **losses)
                    for callback in self.callbacks:
                        callback.on_step_end(self, self.step, losses)
                    if self.stopped != EPOCHS_DONE:
                        break
                if self.mid_epoch and self.stopped != EPOCHS_DONE:
                    break
                logs = {"epoch": epoch, "step": self.step, **self.state.finish_epoch()}
                self.state.models.refresh_sampler()  # BatchNorm statistics that fit the sampler's weights
                for callback in self.callbacks:
                    callback.on_epoch_end(self, epoch, logs)
                if self.stopped != EPOCHS_DONE:
                    break
        if int(self.state.epoch.numpy()) >= self.epochs:  # the budget ran out with the very last step
            self.stopped = EPOCHS_DONE
        for callback in self.callbacks:
            callback.on_train_end(self)

    def time_remaining(self) -> float | None:
        """Seconds until training ends: the bar's estimate for the epochs asked, or the budget's end if sooner."""
        estimate = self.bar.tasks[0].time_remaining if self.bar and self.bar.tasks else None
        return sooner(estimate, self.budget_left() if self.budget_left is not None else None)

    def save_generator(self, path: Path) -> Path:
        """The generator that samples were drawn from: the EMA one when the run keeps one."""
        with atomic_path(path) as tmp:
            self.state.models.refresh_sampler().save(tmp)
        return path


def _runtime(options: TrainOptions) -> Runtime:
    try:
        return resolve_runtime(options.precision, options.jit, options.threads, options.deterministic, options.devices)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _split(run: RunFolder, total: int, holdout: float) -> Split:
    """The held-out split this run folder trains with: the one it recorded when it started, so a resumed
    run never trains on images it held out (nor scores on ones it trained on); a new folder takes `holdout`."""
    asked = Split.of(total, holdout)
    data = run.recorded_data()
    if data is None:
        return asked
    recorded = data.get("holdout")
    kept = Split.from_record(recorded, total)
    if kept.total != total:  # other data: check_compatible refuses it with its own line
        return asked
    if kept.held_out != asked.held_out:
        before = "was started before held-out splits" if recorded is None else f"holds out {kept.held_out} images"
        run_logger().warning(
            "--run-dir %s %s; it keeps that split (--holdout %g would hold out %d); pass --restart for a new one",
            run.root,
            before,
            holdout,
            asked.held_out,
        )
    return kept


def train_gan(data: PreprocessedData, config: GanConfig, options: TrainOptions, run_dir: Path) -> TrainedModel:
    """Train until `options.epochs` epochs are done in `run_dir`, continuing whatever is there."""
    log, run = run_logger(), RunFolder(run_dir)
    images = np.load(data.npy, mmap_mode="r")
    if images.shape[1:] != (config.size, config.size, config.channels):
        raise UserError(f"{data.npy} holds {images.shape[1:]} images but the model expects size {config.size}")
    runtime = _runtime(options)
    for warning in apply_runtime(runtime):
        log.warning(warning)
    if options.restart:
        run.clear_training()
    run.mark()
    split = _split(run, len(images), options.holdout)
    data_id = {**data_identity(data.manifest), "holdout": split.record()}
    for warning in check_compatible(run, config, runtime, data_id):
        log.warning(warning)

    state, resumed_from = Checkpoints.restore_state(run, lambda: TrainingState.build(config, runtime))
    run.write_config(config.to_dict(), runtime.to_dict(), data_id, config.fingerprint())
    if config.d_pretrain_steps > int(state.step.numpy()):
        log.info("steps 1-%d train D alone (--d-pretrain-steps)", config.d_pretrain_steps)
    if resumed_from:
        epoch, batch = int(state.epoch.numpy()), int(state.batch_in_epoch.numpy())
        log.info(
            "resuming at step %d: epoch %d, batch %d (%s)", int(state.step.numpy()), epoch + 1, batch, resumed_from
        )

    checkpoints = Checkpoints(run, state, options.keep_checkpoints, options.checkpoint_every)
    training = split.training(images)  # held-out images never reach the training loop
    quality = cb.QualityMonitor(
        run, training, checkpoints, options.eval_every, config.latent_dist, split.held_out_images(images)
    )
    callbacks = [
        cb.SampleGrid(run),
        quality,
        cb.TensorBoard(run),
        cb.MetricsLog(run, int(state.epoch.numpy())),
        cb.Checkpointing(checkpoints),
        cb.Progress(run, balance=config.balance_margin is not None),
    ]
    if options.max_minutes is not None:
        callbacks.append(TimeBudget(options.max_minutes))
    loop = TrainingLoop(state, training, options.epochs, callbacks)
    loop.run()
    if loop.stopped != EPOCHS_DONE:
        log.info(
            "stopped on the time budget (--max-minutes %g) at step %d, epoch %d of %d; a run with a larger "
            "budget or more epochs continues from here",
            options.max_minutes,
            loop.step,
            int(state.epoch.numpy()),
            options.epochs,
        )

    last = loop.save_generator(run.generator_last)
    if quality.best.epoch is None:  # nothing was evaluated: the final generator is the one
        with atomic_path(run.generator) as tmp:
            shutil.copyfile(last, tmp)
    else:
        _keep_best_generator(run, last)
    curves = run.curves if run.curves.exists() else None
    return TrainedModel(
        run.generator,
        run.checkpoints,
        run.samples,
        run.metrics,
        int(state.epoch.numpy()),
        int(state.step.numpy()),
        loop.steps_run,
        runtime.to_dict(),
        extra_updates=state.extra_updates(),
        generator_last=last,
        curves=curves,
        best_epoch=quality.best.epoch,
        split=split.record(),
        stopped=loop.stopped,
        stamps=stamps(run.generator, last, curves),
    )


def _keep_best_generator(run: RunFolder, last: Path) -> None:
    """Put back generator.keras when it no longer holds the bytes written for the best epoch (or is gone).

    It is rebuilt from the best checkpoint, without training; with no best checkpoint left it becomes the
    last epoch's generator. A best checkpoint that does not restore is one line suggesting `--restart`.
    """
    stamp = run.best_generator_stamp()
    if stamp is not None and stamp.problem() is None:
        return
    generator = best_generator(run)
    if generator is None:
        with atomic_path(run.generator) as tmp:
            shutil.copyfile(last, tmp)
        run_logger().warning("%s: no best checkpoint is left, so it is the last epoch's generator now", run.generator)
        return
    with atomic_path(run.generator) as tmp:
        generator.save(tmp)
    best = run.read_best()
    run.write_best(best, FileStamp.of(run.generator))
    run_logger().info(
        "%s rebuilt from the best checkpoint (epoch %s), without training", run.generator, best.get("epoch")
    )


@task(name="train", task_run_name="train[{run_dir.name} to epoch {options.epochs}]", **step_options())
def train(data: PreprocessedData, config: GanConfig, options: TrainOptions, run_dir: Path) -> TrainedModel:
    """Prefect step: a trained generator in `run_dir`; a retry resumes from the last checkpoint."""
    with space_for("--run-dir", run_dir, "training", lambda: training_space(config, options.keep_checkpoints)):
        return train_gan(data, config, options, run_dir)
