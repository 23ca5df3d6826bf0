"""What training tells the rest of the pipeline, as Keras-style callbacks: the loop calls them, they do the rest.

`on_step_end(loop, step, losses)` after every batch, `on_epoch_end(loop, epoch, logs)` after every epoch,
in list order; `logs` starts as the epoch's metrics row (epoch, step, mean losses) and each callback may
add to it (the sample grid, quality scores, whether the epoch is the best so far) for the ones after it.
The order of `default_callbacks` is the order files are written at an epoch's end: the sample grid, the
quality scores and best checkpoint, TensorBoard, the metrics row, the checkpoint, progress.gif when due; so a
run stopped between any two of them resumes from the previous checkpoint and writes them all again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ganmodels.metrics.registry import epoch_scalars
from ganmodels.pixels import to_uint8
from tasks.hashing import FileStamp
from tasks.pictures import image_grid, write_png
from tasks.progress import Throttled, run_logger
from tasks.progress_gif import LivePreview, render_gif, sample_frames
from tasks.quality import TRAINING_SUBSET, epoch_scores, real_subset
from tasks.run_folder import RunFolder
from tasks.train.best_so_far import BestSoFar
from tasks.train.checkpoints import Checkpoints
from tasks.train.curves import write_curves
from tasks.train.loop import INTERRUPTED, Callback, TrainingLoop
from tasks.train.progress_artifact import TrainingProgress

GRID_SAMPLES = 36
LIVE_GIF_SHARE = 0.01  # of training's wall time, at most, spent keeping progress.gif and its preview current


class SampleGrid(Callback):
    """The epoch's sample grid from fixed latents, as samples/epoch_NNNN.png and `logs["grid"]`."""

    def __init__(self, run: RunFolder):
        self.run = run

    def on_train_begin(self, loop: TrainingLoop) -> None:
        self.fixed_z = loop.state.fixed_latents(GRID_SAMPLES)

    def on_epoch_end(self, loop: TrainingLoop, epoch: int, logs: dict[str, Any]) -> None:
        logs["grid"] = image_grid(to_uint8(loop.state.models.generate(self.fixed_z)))
        write_png(self.run.sample(epoch), logs["grid"])

    def on_train_end(self, loop: TrainingLoop) -> None:
        if loop.mid_epoch:  # stopped inside an epoch: the weights reached, replaced when the epoch ends later
            loop.state.models.refresh_sampler()
            write_png(self.run.sample(loop.epoch), image_grid(to_uint8(loop.state.models.generate(self.fixed_z))))


class QualityMonitor(Callback):
    """Every `eval_every` epochs: each metric's per-epoch figures (SWD, colour...) into `logs`, against held-out images
    when the run holds some out, else against training images. With held-out images the colour figure
    against training images goes beside them (`colour_train`: cheap, the generated images are the same).
    A new best by `BestSoFar`'s rule (SWD and colour together) saves the best checkpoint and
    generator.keras. The best so far lives in checkpoints/best/, so a resumed run keeps its champion."""

    def __init__(
        self,
        run: RunFolder,
        images: np.ndarray,
        checkpoints: Checkpoints,
        eval_every: int,
        dist: str,
        held_out: np.ndarray | None = None,
    ):
        self.run, self.checkpoints, self.eval_every, self.dist = run, checkpoints, eval_every, dist
        real = held_out if held_out is not None else images
        self.real = real_subset(real, TRAINING_SUBSET) if eval_every else None
        self.train = real_subset(images, TRAINING_SUBSET) if eval_every and held_out is not None else None
        self.best = BestSoFar(**run.read_best())

    def on_epoch_end(self, loop: TrainingLoop, epoch: int, logs: dict[str, Any]) -> None:
        if not (self.eval_every and epoch % self.eval_every == 0):
            return
        scores = epoch_scores(self.real, loop.state.models.sampler, self.dist, self.train)
        logs.update(scores)
        if self.best.offer(epoch, scores["swd"], scores["colour"]):
            generator = FileStamp.of(loop.save_generator(self.run.generator))
            self.checkpoints.save_best(epoch, self.best.record(), generator)


def _summary_writer_module():
    """TensorFlow, which writes TensorBoard's event files: on the JAX backend it is imported on its own (no Keras
    on it), and where it is not installed (a JAX-only machine) tb/ is not written, said once."""
    from ganmodels.backend import current_backend

    if current_backend() == "tensorflow":
        from ganmodels.tf import tf

        return tf
    try:
        import tensorflow
    except ImportError:
        run_logger().warning("TensorFlow is not installed, so no TensorBoard files are written to tb/")
        return None
    return tensorflow


class TensorBoard(Callback):
    """Losses, quality scores and the sample grid per epoch, in tb/."""

    def __init__(self, run: RunFolder):
        self.tf = _summary_writer_module()
        self.writer = self.tf.summary.create_file_writer(str(run.tensorboard)) if self.tf else None

    def on_epoch_end(self, loop: TrainingLoop, epoch: int, logs: dict[str, Any]) -> None:
        if self.writer is None:
            return
        with self.writer.as_default(step=epoch):
            for key in ("d_loss", "g_loss", *epoch_scalars()):
                if key in logs:
                    self.tf.summary.scalar(key, float(logs[key]))
            self.tf.summary.image("samples", logs["grid"][None])
        self.writer.flush()


class MetricsLog(Callback):
    """metrics.csv (one row per epoch, rows past the resumed epoch dropped) and curves.png."""

    def __init__(self, run: RunFolder, start_epoch: int):
        self.run = run
        self.rows = [r for r in run.read_metrics() if int(r["epoch"]) <= start_epoch]
        self.started = time.perf_counter()

    def on_epoch_end(self, loop: TrainingLoop, epoch: int, logs: dict[str, Any]) -> None:
        row = {k: v for k, v in logs.items() if k != "grid"}
        self.rows.append({**row, "seconds": round(time.perf_counter() - self.started, 4)})
        self.run.write_metrics(self.rows)
        write_curves(self.rows, self.run.curves)
        self.started = time.perf_counter()

    def on_train_end(self, loop: TrainingLoop) -> None:
        if not self.run.metrics.exists():  # stopped before any epoch ended: the header, for the run's outputs
            self.run.write_metrics(self.rows)
        if self.rows and (loop.steps_run == 0 or not self.run.curves.exists()):  # a rerun redraws a damaged one
            write_curves(self.rows, self.run.curves)

    def on_train_begin(self, loop: TrainingLoop) -> None:
        self.started = time.perf_counter()


class LiveGif(Callback):
    """progress.gif and the UI's GIF preview kept current while training, from the sample grids.

    A render encodes every frame again, so its cost grows with the epochs (about 1.7 s for 300 frames of the
    sample): the next one waits until the time since the last one ended is `1 / share` times what that one
    cost, which keeps the total near `share` of training's wall time however long the run, plus the last
    render (1.4% measured on the sample: docs/performance.md).
    When training ends with grids the GIF has not shown, it is drawn once more: a finished call leaves the same
    one-frame-per-epoch GIF that the render step writes (so render's cached result stays valid). The GIF is a
    view: a failure to write it is one warning, and training goes on (the render step reports it at the end).
    """

    def __init__(self, run: RunFolder, share: float = LIVE_GIF_SHARE):
        self.run, self.share, self.preview = run, share, LivePreview(run.root)
        self.spent, self.renders, self.failed = 0.0, 0, False

    def on_train_begin(self, loop: TrainingLoop) -> None:
        self.ready_at, self.pending = time.perf_counter(), False

    def on_epoch_end(self, loop: TrainingLoop, epoch: int, logs: dict[str, Any]) -> None:
        self.pending = True
        if time.perf_counter() >= self.ready_at:
            self.render()

    def on_train_end(self, loop: TrainingLoop) -> None:
        if loop.stopped == INTERRUPTED:  # a user who pressed Ctrl-C waits for no GIF: the rerun draws it
            return
        if self.pending or loop.mid_epoch:  # SampleGrid drew the stopped epoch's grid
            self.render()

    def render(self) -> None:
        if self.failed or not sample_frames(self.run.samples):
            return
        started = time.perf_counter()
        try:
            render_gif(self.run.samples, self.run.gif)
        except OSError as exc:
            self.failed = True
            run_logger().warning("%s cannot be written while training (%s); training goes on", self.run.gif, exc)
            return
        self.preview.show(self.run.samples, self.run.gif)
        ended = time.perf_counter()
        self.spent, self.renders, self.pending = self.spent + ended - started, self.renders + 1, False
        self.ready_at = ended + (ended - started) / self.share


class Checkpointing(Callback):
    """A checkpoint when the cadence says so mid-epoch, and at every epoch's end."""

    def __init__(self, checkpoints: Checkpoints):
        self.checkpoints = checkpoints

    def on_step_end(self, loop: TrainingLoop, step: int, losses: dict[str, float]) -> None:
        self.checkpoints.save_if_due(loop.per_epoch)

    def on_epoch_end(self, loop: TrainingLoop, epoch: int, logs: dict[str, Any]) -> None:
        self.checkpoints.save()

    def on_train_end(self, loop: TrainingLoop) -> None:
        if loop.mid_epoch:  # stopped inside an epoch: keep the step it stopped at
            self.checkpoints.save()


@dataclass
class Progress(Callback):
    """The Prefect progress artifact, and a throttled log line per epoch (always the first and last)."""

    run: RunFolder
    balance: bool = False
    throttled: Throttled = field(default_factory=lambda: Throttled(run_logger()))

    def on_train_begin(self, loop: TrainingLoop) -> None:
        self.artifact = TrainingProgress(self.run.root, loop.epochs * loop.per_epoch)
        self.artifact.update(loop.step, loop.start_epoch, loop.epochs, force=True)

    def on_step_end(self, loop: TrainingLoop, step: int, losses: dict[str, float]) -> None:
        self.artifact.update(step, loop.epoch, loop.epochs)

    def on_epoch_end(self, loop: TrainingLoop, epoch: int, logs: dict[str, Any]) -> None:
        if "grid" in logs:  # drawn by SampleGrid: shown on the flow run's page while training
            self.artifact.newest_grid(logs["grid"], epoch, loop.epochs)
        balance = f"  extra D {logs['d_extra']} G {logs['g_extra']}" if self.balance else ""
        remaining = loop.time_remaining()
        self.throttled.info(
            "epoch %d/%d  step %d  d_loss %.3f  g_loss %.3f%s  %s left",
            epoch,
            loop.epochs,
            logs["step"],
            logs["d_loss"],
            logs["g_loss"],
            balance,
            f"{remaining:.0f}s" if remaining is not None else "?",
            force=epoch in (loop.start_epoch + 1, loop.epochs),
        )

    def on_train_end(self, loop: TrainingLoop) -> None:
        self.artifact.update(loop.step, int(loop.state.epoch.numpy()), loop.epochs, force=True)
