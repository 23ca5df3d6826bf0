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
- Formats, one per backend: TensorFlow's `ckpt-N.index`/`.data-*` files (a `tf.train.Checkpoint` of the
  state), JAX's `ckpt-N.npz` (the state's `to_arrays()`, written atomically; the newest `keep` are kept, as the
  manager does). N is the step (the epoch in `best/`). A folder holds the format of the backend it records
  (tasks/run_folder.py); the listing goes by the files found, so generate and evaluate read a JAX run's
  generator on either backend; a TensorFlow checkpoint is read on TensorFlow only (one line says so).
"""

from __future__ import annotations

import re
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ganmodels import multihost
from ganmodels.backend import current_backend
from ganmodels.config import GanConfig
from ganmodels.lazy_tf import tf
from ganmodels.networks import build_generator
from ganmodels.runtime import Runtime, dtype_policy
from ganmodels.sampler_stats import refresh_sampler_stats
from ganmodels.state import TrainingState
from ganmodels.state_arrays import load_generator_arrays
from tasks.atomic import atomic_path
from tasks.errors import UserError
from tasks.hashing import FileStamp
from tasks.progress import run_logger
from tasks.run_folder import RunFolder

CHECKPOINT_SECONDS = 300
NPZ = ".npz"  # JAX's checkpoint files: ckpt-<N>.npz
_NPZ_NAME = re.compile(r"ckpt-(\d+)\.npz")
DATA_FIELDS = ("source", "size", "channels", "crop", "sha256")


def restore_errors() -> tuple[type[BaseException], ...]:
    """What a damaged or foreign checkpoint raises while it is read (a truncated TF data file: IndexError; a
    truncated .npz: BadZipFile or EOFError; an array missing or of another shape: KeyError or ValueError)."""
    errors = (IndexError, ValueError, KeyError, AssertionError, OSError, EOFError, zipfile.BadZipFile)
    if "tensorflow" in sys.modules:  # TensorFlow's own read errors, when it is loaded (it is for TF checkpoints)
        errors += (sys.modules["tensorflow"].errors.OpError,)
    return errors


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
    check_backend(run, current_backend())
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


def check_backend(run: RunFolder, backend: str) -> None:
    """Refuse to continue a run folder on another Keras backend than it was trained on: its checkpoints are in
    that backend's format, and the trajectory would not be the same anyway."""
    recorded = run.recorded_backend()
    if recorded is not None and recorded != backend:
        raise UserError(
            f"--run-dir {run.root} was trained on {recorded}; continue it with --backend {recorded}, or pass "
            f"--restart to train it from scratch on {backend}, or choose another --run-dir"
        )


def _short(value) -> str:
    text = str(value)
    return text[:12] if len(text) == 64 else text  # a sha256: its first digits say enough


def _npz_newest_first(directory: Path) -> list[str]:
    found = [(int(m.group(1)), p) for p in Path(directory).glob("ckpt-*.npz") if (m := _NPZ_NAME.fullmatch(p.name))]
    return [str(p) for _, p in sorted(found, reverse=True)]


def _newest_first(directory: Path) -> list[str]:
    """The checkpoints in `directory`, newest first: .npz files (JAX) when there are any, else TensorFlow's."""
    if npz := _npz_newest_first(directory):
        return npz
    if not (Path(directory) / "checkpoint").is_file():
        return []
    _tensorflow_only(str(directory))
    state = tf.train.get_checkpoint_state(str(directory))
    return list(reversed(state.all_model_checkpoint_paths)) if state else []


def _latest(directory: Path) -> str | None:
    """The newest checkpoint in `directory` (TensorFlow's: only when its files are there); None if none."""
    if npz := _npz_newest_first(directory):
        return npz[0]
    if not (Path(directory) / "checkpoint").is_file():
        return None
    _tensorflow_only(str(directory))
    return tf.train.latest_checkpoint(str(directory))


def read_arrays(path: str) -> dict[str, np.ndarray]:
    """A .npz checkpoint's arrays, read whole (a damaged file raises one of restore_errors())."""
    with np.load(path, allow_pickle=False) as saved:
        return {name: saved[name] for name in saved.files}


class ArrayCheckpoints:
    """JAX's checkpoint folder: ckpt-<N>.npz files of `to_arrays()`, each written atomically, the newest `keep` kept."""

    def __init__(self, directory: Path, keep: int):
        self.directory, self.keep = Path(directory), keep

    def save(self, arrays: dict[str, np.ndarray], number: int) -> str:
        path = self.directory / f"ckpt-{number}{NPZ}"
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez(f, **arrays)
        for old in _npz_newest_first(self.directory)[self.keep :]:
            Path(old).unlink(missing_ok=True)
        for stale in self.directory.glob(f".ckpt-*.tmp{NPZ}"):  # half-written by a process killed while saving
            stale.unlink(missing_ok=True)  # (the run folder's lock means no other process is writing one now)
        return str(path)


def _forget(directory: Path, bad: list[str], good: list[str]) -> None:
    """Delete checkpoints that failed to restore and point the manager's state file at the good ones."""
    for prefix in bad:
        if prefix.endswith(NPZ):
            Path(prefix).unlink(missing_ok=True)
            continue
        for path in Path(prefix).parent.glob(Path(prefix).name + ".*"):
            path.unlink(missing_ok=True)
    if bad and bad[0].endswith(NPZ):  # .npz folders have no state file
        return
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
        except restore_errors() as exc:
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


def _drop_what_other_processes_lack(directory: Path) -> None:
    """Across several processes (ganmodels/multihost.py) all continue from the newest checkpoint every one
    of them holds: a process killed just after a save the others had not finished drops its newer ones."""
    if multihost.processes() == 1:
        return
    found = {int(m.group(1)): p for p in Path(directory).glob("ckpt-*.npz") if (m := _NPZ_NAME.fullmatch(p.name))}
    common = multihost.newest_in_all(list(found))
    newer = [path for step, path in found.items() if common is None or step > common]
    if newer:
        run_logger().warning(
            "not every process holds %s: continuing from %s", ", ".join(p.name for p in sorted(newer)),
            f"ckpt-{common}.npz" if common is not None else "the start",
        )  # fmt: skip
    for path in newer:
        path.unlink()


def _writer(state: TrainingState, directory: Path, keep: int) -> Callable[[int], object]:
    """Saves the state as checkpoint number N in `directory`, in the format of the backend it runs on."""
    if current_backend() == "tensorflow":
        manager = tf.train.CheckpointManager(state.checkpoint, str(directory), max_to_keep=keep)
        return lambda number: manager.save(checkpoint_number=number)
    files = ArrayCheckpoints(directory, keep)
    return lambda number: files.save(state.to_arrays(), number)


def load_state(state: TrainingState, checkpoint: str) -> None:
    """Restore `state` from one checkpoint of either format (raising one of restore_errors() on damage)."""
    if checkpoint.endswith(NPZ):
        state.load_arrays(read_arrays(checkpoint))
    else:
        _tensorflow_only(checkpoint)
        state.restore(checkpoint)


def _tensorflow_only(where: str) -> None:
    """TensorFlow's checkpoints are read through TensorFlow's Keras: on another backend, one line says so."""
    if (backend := current_backend()) != "tensorflow":
        raise UserError(
            f"{where} holds TensorFlow checkpoints, which Keras reads on TensorFlow only; run this on TensorFlow "
            f"(without KERAS_BACKEND={backend}), or read the run's generator.keras, which either backend reads"
        )


class Checkpoints:
    """The run's checkpoints (latest and best) over one `TrainingState`, in its backend's format."""

    def __init__(self, run: RunFolder, state: TrainingState, keep: int, every_steps: int | None = None):
        self.run, self.state = run, state
        self._save = _writer(state, run.checkpoints, keep)
        self._save_best = _writer(state, run.best_checkpoints, 1)
        self.cadence = CheckpointCadence(every_steps)

    @staticmethod
    def restore_state(run: RunFolder, build: Callable[[], TrainingState]) -> tuple[TrainingState, str | None]:
        """A training state from the newest checkpoint that restores (a fresh one when there is none).

        A failed restore may have loaded part of a state, so each try starts from a newly built one.
        """
        holder: dict[str, TrainingState] = {}

        def restore(prefix: str) -> None:
            holder["state"] = build()
            load_state(holder["state"], prefix)

        _drop_what_other_processes_lack(run.checkpoints)
        prefix = restore_newest(run.checkpoints, restore, "training", forget=True)
        return (holder["state"] if prefix else build()), prefix

    def save(self) -> None:
        self._save(int(self.state.step.numpy()))
        self.cadence.saved()

    def save_if_due(self, per_epoch: int) -> None:
        """Mid-epoch: save when the cadence says so (the epoch's end saves anyway)."""
        if self.cadence.due(int(self.state.step.numpy())) and int(self.state.batch_in_epoch.numpy()) < per_epoch:
            self.save()

    def save_best(self, epoch: int, record: dict, generator: FileStamp) -> None:
        """The best epoch's full state, and its record (BestSoFar.record) with the stamp of the
        generator.keras written for it."""
        self._save_best(epoch)
        self.run.write_best(record, generator)


def _load_npz_generator(generator, path: str, ema: bool) -> bool:
    """The generator's weights (the EMA ones when the run keeps them) from a .npz checkpoint; True when it was
    written mid-epoch."""
    arrays = read_arrays(path)
    key = "ema_generator" if ema and "ema_generator/0000" in arrays else "generator"
    load_generator_arrays(generator, arrays, key)
    return int(np.asarray(arrays.get("counters/batch_in_epoch", 0))) > 0


def _generator_loader(run: RunFolder) -> Callable[[str], object]:
    """Loads the generator's weights from one checkpoint into a generator built from the recorded config.

    A run with EMA samples from its EMA generator, so that is the one loaded, as in generator.keras.
    Raises one of restore_errors() when the checkpoint is damaged.
    """
    recorded = run.read_config()
    if recorded is None:
        raise UserError(f"--run-dir {run.root}: no checkpoint record; is it a ganflow run folder?")
    precision = recorded.get("runtime", {}).get("precision", "fp32")
    config = GanConfig.from_dict(recorded["config"])

    def load(prefix: str):
        if not prefix.endswith(NPZ):
            _tensorflow_only(prefix)
        with dtype_policy("mixed_bfloat16" if precision == "bf16" else "float32"):
            generator = build_generator(config)
        if prefix.endswith(NPZ):
            mid_epoch = _load_npz_generator(generator, prefix, config.ema is not None)
        else:
            saved = {name.split("/")[0] for name, _ in tf.train.list_variables(prefix)}
            key = "ema_generator" if config.ema is not None and "ema_generator" in saved else "generator"
            tf.train.Checkpoint(**{key: generator}).restore(prefix).expect_partial().assert_existing_objects_matched()
            mid_epoch = _mid_epoch(prefix)
        if mid_epoch:  # epoch-end checkpoints hold the statistics the run drew with; mid-epoch ones lag
            refresh_sampler_stats(generator, config)
        return generator

    return load


def generator_from_checkpoint(run: RunFolder, which: str):
    """Rebuild the generator from the run's recorded config and load only its weights from a checkpoint.

    `which`: latest (falling back to older ones), best, or a checkpoint prefix.
    """
    load = _generator_loader(run)
    holder: dict[str, object] = {}

    def restore(prefix: str) -> None:
        holder["generator"] = load(prefix)

    if which == "latest":
        if restore_newest(run.checkpoints, restore, "--checkpoint latest") is None:
            raise UserError(f"--checkpoint latest: no checkpoint in {run.checkpoints}; train first with `ganflow run`")
        return holder["generator"]
    if which == "best":
        prefix = _latest(run.best_checkpoints)
        if not prefix:
            raise UserError(
                f"--checkpoint best: no best checkpoint in {run.best_checkpoints}; it is kept only when the run "
                "evaluates quality during training. Use --checkpoint latest instead"
            )
    else:
        prefix = str(Path(which).expanduser())
        if not (Path(prefix).is_file() if prefix.endswith(NPZ) else Path(f"{prefix}.index").exists()):
            raise UserError(
                f"--checkpoint {which}: no checkpoint at that prefix (expected {prefix}.index, or a ckpt-N{NPZ} file)"
            )
    try:
        restore(prefix)
    except restore_errors() as exc:
        raise UserError(
            f"--checkpoint {which}: {prefix} does not restore ({_reason(exc)}); try --checkpoint latest"
        ) from None
    return holder["generator"]


def best_generator(run: RunFolder):
    """For training, which puts back a damaged or lost generator.keras: the best epoch's generator, from its
    checkpoint; None when there is no best checkpoint; one line suggesting `--restart` when it does not restore."""
    prefix = _latest(run.best_checkpoints)
    if not prefix:
        return None
    try:
        return _generator_loader(run)(prefix)
    except restore_errors() as exc:
        raise UserError(
            f"{run.generator} cannot be rebuilt: the best checkpoint {prefix} does not restore ({_reason(exc)}); "
            "pass --restart to train from scratch there, or choose another --run-dir"
        ) from None


def _mid_epoch(prefix: str) -> bool:
    try:
        return int(tf.train.load_variable(prefix, "batch_in_epoch/.ATTRIBUTES/VARIABLE_VALUE")) > 0
    except (tf.errors.NotFoundError, ValueError):
        return False
