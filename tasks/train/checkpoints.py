"""Checkpoints of a run folder, over `tf.train.CheckpointManager`: when to save, whether one fits, loading.

- Cadence: at the end of every epoch, every `--checkpoint-every` steps if set, else at least every
  CHECKPOINT_SECONDS of wall time.
- Compatibility: a checkpoint of another architecture, or of other data, is refused with one line that
  offers `--restart`; other changes only warn that exactness is lost.
- Best: a one-deep manager in `checkpoints/best/` holds the full state of the best epoch (BestSoFar's rule).
- Loading: `latest` (newest first, falling back to older ones), `best`, or a checkpoint PATH (prefix).
  A checkpoint that fails to restore is named in one warning line and the next older one is tried; the
  ones that failed are deleted by training (never by generate or evaluate), so that the manager's list
  holds only checkpoints that restore. If none restores, one line says so and suggests `--restart`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from ganmodels.config import GanConfig
from ganmodels.networks import build_generator
from ganmodels.runtime import Runtime, dtype_policy
from ganmodels.sampler_stats import refresh_sampler_stats
from ganmodels.state import TrainingState
from ganmodels.tf import keras, tf
from tasks.errors import UserError
from tasks.hashing import FileStamp
from tasks.progress import run_logger
from tasks.run_folder import RunFolder

CHECKPOINT_SECONDS = 300
# What a damaged or foreign checkpoint raises while it is read (a truncated data file: IndexError).
RESTORE_ERRORS = (IndexError, ValueError, AssertionError, OSError, tf.errors.OpError)
DATA_FIELDS = ("source", "size", "channels", "crop", "sha256")


def training_space(config: GanConfig, keep: int) -> int:
    """About the bytes training needs in the run folder: `keep` checkpoints, the best one and one being
    written (weights, Adam's two slots, the EMA copy), and two saved generators."""
    models = TrainingState.build(config).models
    generator = sum(w.nbytes for w in models.generator.get_weights())
    both = generator + sum(w.nbytes for w in models.discriminator.get_weights())
    checkpoint = 3 * both + (generator if models.ema_generator is not None else 0)
    return (keep + 2) * checkpoint + 2 * generator


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


def check_compatible(run: RunFolder, config: GanConfig, runtime: Runtime, data: dict) -> list[str]:
    """Refuse a run folder of another architecture or other data; return warnings for changes that only
    break exactness."""
    saved = run.read_config()
    if saved is None:
        return []
    old, new = GanConfig.from_dict(saved.get("config", {})).to_dict(), config.to_dict()
    arch_changed = sorted(k for k, v in config.architecture().items() if old.get(k) != v)
    if arch_changed:
        detail = ", ".join(f"{k} {old.get(k)} -> {new[k]}" for k in arch_changed)
        raise UserError(
            f"--run-dir {run.root} holds a model of another shape ({detail}); "
            "pass --restart to train from scratch there, or choose another --run-dir"
        )
    old_data = saved.get("data") or {}  # folders from before the record have none: taken as they are
    data_changed = [k for k in DATA_FIELDS if k in old_data and old_data[k] != data.get(k)]
    if data_changed:
        detail = ", ".join(f"{k} {_short(old_data[k])} -> {_short(data.get(k))}" for k in data_changed)
        raise UserError(
            f"--run-dir {run.root} was trained on other data ({detail}); "
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


def _short(value) -> str:
    text = str(value)
    return text[:12] if len(text) == 64 else text  # a sha256: its first digits say enough


def _newest_first(directory: Path) -> list[str]:
    state = tf.train.get_checkpoint_state(str(directory))
    return list(reversed(state.all_model_checkpoint_paths)) if state else []


def _forget(directory: Path, bad: list[str], good: list[str]) -> None:
    """Delete checkpoints that failed to restore and point the manager's state file at the good ones."""
    for prefix in bad:
        for path in Path(prefix).parent.glob(Path(prefix).name + ".*"):
            path.unlink(missing_ok=True)
    if good:
        tf.compat.v1.train.update_checkpoint_state(
            str(directory), good[0], all_model_checkpoint_paths=list(reversed(good))
        )
    else:
        (Path(directory) / "checkpoint").unlink(missing_ok=True)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def restore_newest(directory: Path, restore: Callable[[str], None], what: str, forget: bool = False) -> str | None:
    """Restore the newest checkpoint in `directory` that restores (None when there is none).

    `restore(prefix)` loads one, raising on damage. Each failure is one warning line; with `forget` (training,
    which writes checkpoints) the failed ones are deleted. None restoring is one line that suggests `--restart`.
    """
    candidates = _newest_first(directory)
    log = run_logger()
    for i, prefix in enumerate(candidates):
        try:
            restore(prefix)
        except RESTORE_ERRORS as exc:
            older = "trying the one before it" if i + 1 < len(candidates) else "no older one is left"
            log.warning("checkpoint %s does not restore (%s); %s", prefix, _reason(exc), older)
            continue
        if i:
            log.info("%s continues from %s, the newest checkpoint that restores", what, Path(prefix).name)
            if forget:
                _forget(directory, candidates[:i], candidates[i:])
        return prefix
    if candidates:
        raise UserError(
            f"none of the {len(candidates)} checkpoints in {directory} restores; pass --restart to train "
            "from scratch there, or choose another --run-dir"
        )
    return None


class Checkpoints:
    """The run's checkpoint managers (latest and best) over one `TrainingState`."""

    def __init__(self, run: RunFolder, state: TrainingState, keep: int, every_steps: int | None = None):
        self.run, self.state = run, state
        self.manager = tf.train.CheckpointManager(state.checkpoint, str(run.checkpoints), max_to_keep=keep)
        self.best = tf.train.CheckpointManager(state.checkpoint, str(run.best_checkpoints), max_to_keep=1)
        self.cadence = CheckpointCadence(every_steps)

    @staticmethod
    def restore_state(run: RunFolder, build: Callable[[], TrainingState]) -> tuple[TrainingState, str | None]:
        """A training state from the newest checkpoint that restores (a fresh one when there is none).

        A failed restore may have loaded part of a state, so each try starts from a newly built one.
        """
        holder: dict[str, TrainingState] = {}

        def restore(prefix: str) -> None:
            holder["state"] = build()
            holder["state"].restore(prefix)

        prefix = restore_newest(run.checkpoints, restore, "training", forget=True)
        return (holder["state"] if prefix else build()), prefix

    def save(self) -> None:
        self.manager.save(checkpoint_number=int(self.state.step.numpy()))
        self.cadence.saved()

    def save_if_due(self, per_epoch: int) -> None:
        """Mid-epoch: save when the cadence says so (the epoch's end saves anyway)."""
        if self.cadence.due(int(self.state.step.numpy())) and int(self.state.batch_in_epoch.numpy()) < per_epoch:
            self.save()

    def save_best(self, epoch: int, record: dict, generator: FileStamp) -> None:
        """The best epoch's full state, and its record (BestSoFar.record) with the stamp of the
        generator.keras written for it."""
        self.best.save(checkpoint_number=epoch)
        self.run.write_best(record, generator)


def _generator_loader(run: RunFolder) -> Callable[[str], keras.Model]:
    """Loads the generator's weights from one checkpoint into a generator built from the recorded config.

    A run with EMA samples from its EMA generator, so that is the one loaded, as in generator.keras.
    Raises one of RESTORE_ERRORS when the checkpoint is damaged.
    """
    recorded = run.read_config()
    if recorded is None:
        raise UserError(f"--run-dir {run.root}: no checkpoint record; is it a ganflow run folder?")
    precision = recorded.get("runtime", {}).get("precision", "fp32")
    config = GanConfig.from_dict(recorded["config"])

    def load(prefix: str) -> keras.Model:
        with dtype_policy("mixed_bfloat16" if precision == "bf16" else "float32"):
            generator = build_generator(config)
        saved = {name.split("/")[0] for name, _ in tf.train.list_variables(prefix)}
        key = "ema_generator" if config.ema is not None and "ema_generator" in saved else "generator"
        tf.train.Checkpoint(**{key: generator}).restore(prefix).expect_partial().assert_existing_objects_matched()
        if _mid_epoch(prefix):  # epoch-end checkpoints hold the statistics the run drew with; mid-epoch ones lag
            refresh_sampler_stats(generator, config)
        return generator

    return load


def generator_from_checkpoint(run: RunFolder, which: str) -> keras.Model:
    """Rebuild the generator from the run's recorded config and load only its weights from a checkpoint.

    `which`: latest (falling back to older ones), best, or a checkpoint prefix.
    """
    load = _generator_loader(run)
    holder: dict[str, keras.Model] = {}

    def restore(prefix: str) -> None:
        holder["generator"] = load(prefix)

    if which == "latest":
        if restore_newest(run.checkpoints, restore, "--checkpoint latest") is None:
            raise UserError(f"--checkpoint latest: no checkpoint in {run.checkpoints}; train first with `ganflow run`")
        return holder["generator"]
    if which == "best":
        prefix = tf.train.latest_checkpoint(str(run.best_checkpoints))
        if not prefix:
            raise UserError(
                f"--checkpoint best: no best checkpoint in {run.best_checkpoints}; it is kept only when the run "
                "evaluates quality during training. Use --checkpoint latest instead"
            )
    else:
        prefix = str(Path(which).expanduser())
        if not Path(f"{prefix}.index").exists():
            raise UserError(f"--checkpoint {which}: no checkpoint at that prefix (expected {prefix}.index)")
    try:
        restore(prefix)
    except RESTORE_ERRORS as exc:
        raise UserError(
            f"--checkpoint {which}: {prefix} does not restore ({_reason(exc)}); try --checkpoint latest"
        ) from None
    return holder["generator"]


def best_generator(run: RunFolder) -> keras.Model | None:
    """For training, which puts back a damaged or lost generator.keras: the best epoch's generator, from its
    checkpoint; None when there is no best checkpoint; one line suggesting `--restart` when it does not restore."""
    prefix = tf.train.latest_checkpoint(str(run.best_checkpoints))
    if not prefix:
        return None
    try:
        return _generator_loader(run)(prefix)
    except RESTORE_ERRORS as exc:
        raise UserError(
            f"{run.generator} cannot be rebuilt: the best checkpoint {prefix} does not restore ({_reason(exc)}); "
            "pass --restart to train from scratch there, or choose another --run-dir"
        ) from None


def _mid_epoch(prefix: str) -> bool:
    try:
        return int(tf.train.load_variable(prefix, "batch_in_epoch/.ATTRIBUTES/VARIABLE_VALUE")) > 0
    except (tf.errors.NotFoundError, ValueError):
        return False
