"""The run folder: every path in it, its records, the marker that says it is ganflow's, and its lock.

This module is the only one that spells a file name of the run folder or parses its files
(tests/test_layout.py checks it). Others ask a `RunFolder` for `metrics`, `samples`, `read_summary()`...

    run-dir/
      .ganflow-run             the marker (JSON: format, created); `--restart` deletes only where it is
      .lock                    held by the flow for its whole life (fcntl); holds the holder's PID
      metrics.csv              one row per finished epoch (metric_fields())
      summary.json             what the last run did, on which data, where the outputs are
      generator.keras          the generator of the best epoch by SWD and colour (the last one when not evaluated)
      generator-last.keras     the generator of the last epoch
      progress.gif, curves.png, nearest.png, evaluation*.json
      samples/epoch_NNNN.png   one sample grid per epoch, from fixed latents
      checkpoints/             the checkpoints (tasks/train/checkpoints.py names them): TensorFlow's ckpt-N.index/.data
                               files and its `checkpoint` state file, or on JAX ckpt-N.npz files
        config.json            the config record: the Keras backend trained on, model config, runtime, data identity
                               (with the held-out split)
        best/                  the best epoch's checkpoint, and best.json (its epoch, SWD, colour figure,
                               score, and the size and sha256 of the generator.keras written for it)
      tb/                      TensorBoard event files

The lock (for sweeps and anything else that runs a flow on a folder): `with RunFolder(d).locked(): ...`
raises `RunFolderBusy` at once, naming the holder's PID, when another process holds it. The kernel drops
the lock when its holder dies, even by kill -9, so a lock is never stale.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import fcntl
import io
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganmodels.metrics.registry import epoch_columns
from tasks.atomic import read_json, write_bytes, write_json
from tasks.errors import UserError
from tasks.hashing import FileStamp
from tasks.redaction import redact_urls

MARKER_FORMAT = 1
LOSS_FIELDS = ("epoch", "step", "d_loss", "g_loss", "d_extra", "g_extra")


def metric_fields() -> tuple[str, ...]:
    """metrics.csv's columns: the losses, every metric's per-epoch figures (ganmodels/metrics/registry.py),
    and the epoch's seconds."""
    return (*LOSS_FIELDS, *epoch_columns(), "seconds")


class RunFolderBusy(UserError):
    """Another process holds the run folder's lock."""


class NotARunFolder(UserError):
    """A destructive action was asked for in a folder without ganflow's marker."""


@dataclass(frozen=True)
class RunFolder:
    """Paths and records of one run folder; it never creates anything until asked to write."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    # Paths -----------------------------------------------------------------------------------------
    @property
    def marker(self) -> Path:
        return self.root / ".ganflow-run"

    @property
    def lock_file(self) -> Path:
        return self.root / ".lock"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.csv"

    @property
    def summary(self) -> Path:
        return self.root / "summary.json"

    @property
    def generator(self) -> Path:
        return self.root / "generator.keras"

    @property
    def generator_last(self) -> Path:
        return self.root / "generator-last.keras"

    @property
    def gif(self) -> Path:
        return self.root / "progress.gif"

    @property
    def curves(self) -> Path:
        return self.root / "curves.png"

    @property
    def nearest(self) -> Path:
        return self.root / "nearest.png"

    def evaluation(self, name: str = "evaluation") -> Path:
        return self.root / f"{name}.json"

    @property
    def samples(self) -> Path:
        return self.root / "samples"

    def sample(self, epoch: int) -> Path:
        return self.samples / f"epoch_{epoch:04d}.png"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def config_record(self) -> Path:
        return self.checkpoints / "config.json"

    @property
    def best_checkpoints(self) -> Path:
        return self.checkpoints / "best"

    @property
    def best_record(self) -> Path:
        return self.best_checkpoints / "best.json"

    @property
    def tensorboard(self) -> Path:
        return self.root / "tb"

    # The marker --------------------------------------------------------------------------------------
    def is_run_folder(self) -> bool:
        """ganflow's marker is here, or (a folder from before the marker) its config record is."""
        return self.marker.is_file() or self.config_record.is_file()

    def mark(self) -> None:
        """Say "this is a ganflow run folder"; kept once written."""
        if not self.marker.is_file():
            write_json(self.marker, {"format": MARKER_FORMAT, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")})

    def check_clearable(self) -> None:
        """Refuse `--restart` in a folder that holds files but not ganflow's marker.

        A folder that does not exist or holds nothing yet has nothing to delete; anything else
        without the marker is refused, so a mistyped --run-dir never costs a user their files.
        """
        if not self.root.exists() or not any(p for p in self.root.iterdir() if p != self.lock_file):
            return
        if not self.is_run_folder():
            raise NotARunFolder(
                f"--restart: {self.root} is not a ganflow run folder (no {self.marker.name} in it), so nothing "
                "there is deleted; check --run-dir, or choose a new one"
            )

    def clear_training(self) -> None:
        """`--restart`: delete what training wrote, only in a folder that carries the marker."""
        self.check_clearable()
        for path in (self.checkpoints, self.samples, self.tensorboard):
            shutil.rmtree(path, ignore_errors=True)
        for path in (self.metrics, self.generator, self.generator_last, self.curves):
            path.unlink(missing_ok=True)

    # The lock ----------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def locked(self) -> Iterator[RunFolder]:
        """Hold the folder's exclusive lock for the block; another holder means `RunFolderBusy` at once."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
                raise RunFolderBusy(
                    f"--run-dir {self.root} is in use by another ganflow run (pid {self._holder(fd)}); wait for "
                    "it to finish, or choose another --run-dir"
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            yield self
        finally:
            os.close(fd)  # releases the lock; the file stays, empty locks cost nothing

    @staticmethod
    def _holder(fd: int) -> str:
        for _ in range(50):  # the holder writes its PID right after locking
            text = os.pread(fd, 32, 0).decode(errors="replace").strip()
            if text:
                return text
            time.sleep(0.01)
        return "unknown"

    # Records -----------------------------------------------------------------------------------------
    def read_metrics(self) -> list[dict[str, str]]:
        """metrics.csv's rows as text, in epoch order; [] when there is none."""
        try:
            with open(self.metrics, newline="") as f:
                return list(csv.DictReader(f))
        except FileNotFoundError:
            return []

    def write_metrics(self, rows: list[dict]) -> Path:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=metric_fields(), extrasaction="ignore", restval="")
        writer.writeheader()
        writer.writerows(rows)
        return write_bytes(self.metrics, buf.getvalue().encode())

    def trained_epochs(self) -> int:
        """Epochs finished here, as metrics.csv records them; 0 for a new or unreadable folder."""
        try:
            return max((int(row["epoch"]) for row in self.read_metrics()), default=0)
        except (OSError, KeyError, ValueError, TypeError):
            return 0

    def read_config(self) -> dict[str, Any] | None:
        """The config record (model config, runtime, data identity); None when training never started here."""
        return read_json(self.config_record) or None

    def recorded_data(self) -> dict[str, Any] | None:
        """The config record's data identity (with the held-out split); None when training never started
        here, {} for a folder from before the record kept one."""
        saved = self.read_config()
        return None if saved is None else saved.get("data") or {}

    def recorded_backend(self) -> str | None:
        """The Keras backend the folder's checkpoints were written on; None when training never started here,
        tensorflow for a folder from before the record kept one."""
        saved = self.read_config()
        return None if saved is None else saved.get("backend", "tensorflow")

    def write_config(
        self, config: dict, runtime: dict, data: dict, fingerprint: str, backend: str = "tensorflow"
    ) -> Path:
        record = {"fingerprint": fingerprint, "backend": backend, "config": config, "runtime": runtime, "data": data}
        return write_json(self.config_record, record)

    def read_best(self) -> dict[str, Any]:
        """The best-checkpoint rule's record (BestSoFar.record); empty when quality was never evaluated here."""
        return {k: v for k, v in read_json(self.best_record).items() if k != "generator"}

    def best_generator_stamp(self) -> FileStamp | None:
        """generator.keras as it was written for the best epoch; None when the record holds no stamp."""
        return FileStamp.from_record(self.generator, read_json(self.best_record).get("generator"))

    def write_best(self, record: dict[str, Any], generator: FileStamp | None = None) -> Path:
        """best.json: the best epoch and what the best-checkpoint rule needs to go on (BestSoFar.record),
        with the stamp of the generator.keras written for it."""
        record = record | ({"generator": generator.record()} if generator else {})
        return write_json(self.best_record, record)

    def write_summary(self, **sections: Any) -> Path:
        """summary.json from the sections (paths and dataclasses as plain values), atomically.

        Every URL in it is redacted (no user, password or query): the parameters quote `--source`, and a
        signed link's token must not outlive the download in a file anyone may read or publish.
        """
        return write_json(self.summary, summary_record(**sections))

    def read_summary(self) -> dict[str, Any]:
        """summary.json, or a one-line error saying the folder holds no finished run."""
        summary = read_json(self.summary)
        if not summary:
            raise UserError(
                f"--run-dir {self.root}: no readable {self.summary.name}; use a folder that `ganflow run` finished"
            )
        return summary


def summary_record(**sections: Any) -> dict[str, Any]:
    """summary.json's content from its sections: paths and dataclasses as plain values, every URL redacted."""
    return json.loads(redact_urls(json.dumps(sections, default=_plain)))


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if hasattr(value, "__dataclass_fields__"):
        return {k: getattr(value, k) for k in value.__dataclass_fields__}
    return str(value)
