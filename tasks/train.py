"""train: fit the DCGAN on the cached array, checkpointing every epoch and resuming when possible.

Each epoch ends by writing, in this order: the sample grid from fixed latents, the metrics row, and
the checkpoint. A run that stops anywhere resumes from the last checkpoint of the same config.
"""

import csv
import io
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from prefect import task
from rich.progress import TextColumn

from ganmodels.config import GanConfig
from ganmodels.data import epoch_batches, steps_per_epoch
from ganmodels.state import TrainingState
from ganmodels.tf import tf
from ganmodels.train_step import to_uint8
from tasks.atomic import atomic_path, write_bytes, write_json
from tasks.caching import step_options
from tasks.errors import UserError
from tasks.preprocess import PreprocessedData
from tasks.progress import Throttled, progress_bar, run_logger
from tasks.render import image_grid, sample_path, write_png

GRID_SAMPLES = 36
KEEP_CHECKPOINTS = 3
METRIC_FIELDS = ("epoch", "step", "d_loss", "g_loss", "seconds")


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


def read_metrics(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def write_metrics(path: Path, rows: list[dict]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=METRIC_FIELDS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    write_bytes(path, buf.getvalue().encode())


def restore_or_start(state: TrainingState, ckpt_dir: Path, config: GanConfig) -> tf.train.CheckpointManager:
    """Resume from the latest checkpoint written under the same config; refuse a different one."""
    config_file = ckpt_dir / "config.json"
    if config_file.exists():
        saved = json.loads(config_file.read_text())
        if saved.get("fingerprint") != config.fingerprint():
            changed = sorted(k for k, v in config.to_dict().items() if saved.get("config", {}).get(k) != v)
            raise UserError(
                f"--run-dir {ckpt_dir.parent} holds a run trained with a different configuration "
                f"({', '.join(changed)} differ); pick another --run-dir or delete that folder"
            )
    else:
        write_json(config_file, {"fingerprint": config.fingerprint(), "config": config.to_dict()})
    manager = tf.train.CheckpointManager(state.checkpoint, str(ckpt_dir), max_to_keep=KEEP_CHECKPOINTS)
    if manager.latest_checkpoint:
        state.checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
    return manager


def save_generator(state: TrainingState, path: Path) -> Path:
    with atomic_path(path) as tmp:
        state.models.generator.save(tmp)
    return path


def train_gan(data: PreprocessedData, config: GanConfig, epochs: int, run_dir: Path) -> TrainedModel:
    """Train until `epochs` epochs are done in `run_dir`, continuing whatever is already there."""
    run_dir = Path(run_dir)
    ckpt_dir, samples_dir, metrics_path = run_dir / "checkpoints", run_dir / "samples", run_dir / "metrics.csv"
    images = np.load(data.npy, mmap_mode="r")
    if images.shape[1:] != (config.size, config.size, config.channels):
        raise UserError(f"{data.npy} holds {images.shape[1:]} images but the model expects size {config.size}")

    state = TrainingState.build(config)
    manager = restore_or_start(state, ckpt_dir, config)
    start_epoch = int(state.epoch.numpy())
    rows = [r for r in read_metrics(metrics_path) if int(r["epoch"]) <= start_epoch]
    fixed_z = state.fixed_latents(GRID_SAMPLES)
    per_epoch = steps_per_epoch(len(images), config.batch_size)
    log = Throttled(run_logger())
    if start_epoch:
        run_logger().info("resuming from epoch %d (step %d) in %s", start_epoch, int(state.step.numpy()), ckpt_dir)

    steps_run = 0
    losses = {"d_loss": float("nan"), "g_loss": float("nan")}
    loss_col = TextColumn("d {task.fields[d_loss]:.3f}  g {task.fields[g_loss]:.3f}")
    with progress_bar(loss_col) as bar:
        job = bar.add_task("train", total=(epochs - start_epoch) * per_epoch, **losses)
        for epoch in range(start_epoch + 1, epochs + 1):
            t0 = time.perf_counter()
            for batch in epoch_batches(images, config.batch_size, config.seed, epoch):
                losses = state.train_step(batch)
                state.step.assign_add(1)
                steps_run += 1
                bar.update(job, advance=1, description=f"train epoch {epoch}/{epochs}", **losses)
            state.epoch.assign(epoch)
            write_png(sample_path(samples_dir, epoch), image_grid(to_uint8(state.models.generate(fixed_z))))
            rows.append(
                {
                    "epoch": epoch,
                    "step": int(state.step.numpy()),
                    **losses,
                    "seconds": round(time.perf_counter() - t0, 4),
                }
            )
            write_metrics(metrics_path, rows)
            manager.save(checkpoint_number=epoch)
            remaining = bar.tasks[0].time_remaining
            log.info(
                "epoch %d/%d  step %d  d_loss %.3f  g_loss %.3f  %s left",
                epoch,
                epochs,
                int(state.step.numpy()),
                losses["d_loss"],
                losses["g_loss"],
                f"{remaining:.0f}s" if remaining is not None else "?",
                force=epoch in (start_epoch + 1, epochs),
            )

    generator = save_generator(state, run_dir / "generator.keras")
    return TrainedModel(
        generator, ckpt_dir, samples_dir, metrics_path, int(state.epoch.numpy()), int(state.step.numpy()), steps_run
    )


@task(name="train", **step_options())
def train(data: PreprocessedData, config: GanConfig, epochs: int, run_dir: Path) -> TrainedModel:
    """Prefect step: a trained generator in `run_dir`; a retry resumes from the last checkpoint."""
    return train_gan(data, config, epochs, run_dir)
