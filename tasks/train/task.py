"""train: fit the DCGAN on the cached array, checkpointing often and resuming exactly.

`train_gan` is a short loop: batches through the train step, then at every step's and epoch's end the
callbacks (tasks/train/callbacks.py) write what the rest of the pipeline reads: sample grids, quality
scores and the best checkpoint, TensorBoard, metrics.csv, checkpoints, the live progress.gif, the progress
artifact. The run folder's files are named by tasks/run_folder.py, checkpoints handled by
tasks/train/checkpoints.py.
A run stopped anywhere, even by SIGKILL mid-epoch, resumes from the last checkpoint that restores and
(with deterministic ops, the CPU default) finishes with bit-identical weights.
"""

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from prefect import task

from ganmodels.backend import current_backend
from ganmodels.config import GanConfig
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
from tasks.progress import run_logger
from tasks.run_folder import RunFolder
from tasks.train import callbacks as cb
from tasks.train.budget import TimeBudget
from tasks.train.checkpoints import Checkpoints, best_generator, check_compatible, training_space
from tasks.train.loop import EPOCHS_DONE, INTERRUPTED, Callback, TrainingLoop
from tasks.train.options import TrainOptions, TrainSpec


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
    stopped: str = EPOCHS_DONE  # why training ended: EPOCHS_DONE, or loop.BUDGET_SPENT (--max-minutes)
    stamps: tuple[FileStamp, ...] = ()  # the generators and curves as written: a cached result needs them intact


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


def _restore(run: RunFolder, config: GanConfig, runtime: Runtime, data_id: dict) -> TrainingState:
    """The training state from the last checkpoint that restores (or a new one), with the config recorded."""
    log = run_logger()
    state, resumed_from = Checkpoints.restore_state(run, lambda: TrainingState.build(config, runtime))
    run.write_config(config.to_dict(), runtime.to_dict(), data_id, config.fingerprint(), current_backend())
    if config.d_pretrain_steps > int(state.step.numpy()):
        log.info("steps 1-%d train D alone (--d-pretrain-steps)", config.d_pretrain_steps)
    if resumed_from:
        epoch, batch = int(state.epoch.numpy()), int(state.batch_in_epoch.numpy())
        log.info(
            "resuming at step %d: epoch %d, batch %d (%s)", int(state.step.numpy()), epoch + 1, batch, resumed_from
        )
    return state


def _callbacks(
    run: RunFolder,
    config: GanConfig,
    options: TrainOptions,
    state: TrainingState,
    checkpoints: Checkpoints,
    quality: cb.QualityMonitor,
) -> list[Callback]:
    """The callbacks in the order their files are written at an epoch's end (tasks/train/callbacks.py)."""
    callbacks = [
        cb.SampleGrid(run),
        quality,
        cb.TensorBoard(run),
        cb.MetricsLog(run, int(state.epoch.numpy())),
        cb.Checkpointing(checkpoints),
        cb.LiveGif(run),
        cb.Progress(run, balance=config.balance_margin is not None),
    ]
    if options.max_minutes is not None:
        callbacks.append(TimeBudget(options.max_minutes))
    return callbacks


def _report_stop(loop: TrainingLoop, options: TrainOptions) -> None:
    """A signal's stop ends the task in one line (its checkpoint is written); the budget's is logged."""
    epoch = int(loop.state.epoch.numpy())
    if loop.stopped == INTERRUPTED:  # the checkpoint of the step reached is written (on_train_end)
        raise loop.signals.interrupted(loop.step, epoch, int(loop.state.batch_in_epoch.numpy()), loop.per_epoch)
    if loop.stopped != EPOCHS_DONE:
        run_logger().info(
            "stopped on the time budget (--max-minutes %g) at step %d, epoch %d of %d; a run with a larger "
            "budget or more epochs continues from here",
            options.max_minutes,
            loop.step,
            epoch,
            options.epochs,
        )


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

    state = _restore(run, config, runtime, data_id)
    checkpoints = Checkpoints(run, state, options.keep_checkpoints, options.checkpoint_every)
    training = split.training(images)  # held-out images never reach the training loop
    quality = cb.QualityMonitor(
        run, training, checkpoints, options.eval_every, config.latent_dist, split.held_out_images(images)
    )
    loop = TrainingLoop(state, training, options.epochs, _callbacks(run, config, options, state, checkpoints, quality))
    loop.run()
    _report_stop(loop, options)

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


@task(name="train", task_run_name="train[{spec.run_dir.name} to epoch {spec.options.epochs}]", **step_options())
def train(data: PreprocessedData, spec: TrainSpec) -> TrainedModel:
    """Prefect step: a trained generator in the spec's run folder; a retry resumes from the last checkpoint."""
    needs = lambda: training_space(spec.config, spec.options.keep_checkpoints)  # noqa: E731
    with space_for("--run-dir", spec.run_dir, "training", needs):
        return train_gan(data, spec.config, spec.options, spec.run_dir)
