"""sha256 of files, read in blocks: downloads are verified, caches are named by it, and outputs are stamped.

`FileStamp` is the one record of "this file, as it was written": its size and sha256. A step's result
carries a stamp for each file it hands on, and the cache policy (tasks/caching.py) reuses the result only
while every stamp still matches, so a file damaged in place (same size, other bytes) is never passed on.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BLOCK = 1 << 20


def file_sha256(path: Path | str) -> str:
    """Hex sha256 of a file's bytes, in constant memory."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(BLOCK), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class FileStamp:
    """A file's size and sha256 when it was written; `problem()` says whether it still holds those bytes."""

    path: Path
    size: int
    sha256: str

    @classmethod
    def of(cls, path: Path | str) -> FileStamp:
        """Stamp the file as it is now (just after it was written)."""
        path = Path(path)
        return cls(path, path.stat().st_size, file_sha256(path))

    @classmethod
    def from_record(cls, path: Path | str, record: Any) -> FileStamp | None:
        """The stamp kept in a JSON record by `record()`; None when the record holds none."""
        if not isinstance(record, dict) or not isinstance(record.get("bytes"), int) or "sha256" not in record:
            return None
        return cls(Path(path), record["bytes"], str(record["sha256"]))

    def record(self) -> dict[str, Any]:
        """The stamp as a JSON record (the path is the record's business)."""
        return {"bytes": self.size, "sha256": self.sha256}

    def problem(self) -> str | None:
        """How the file differs from its stamp (gone, other size, other bytes), or None when it is intact."""
        try:
            size = os.stat(self.path).st_size
        except OSError:
            return "it is missing"
        if size != self.size:
            return f"it has {size} bytes, {self.size} were written"
        if file_sha256(self.path) != self.sha256:
            return "its sha256 differs from the one written"
        return None

    def cache_problem(self) -> str | None:
        """For the cache policy: the file and what is wrong with it, or None."""
        what = self.problem()
        return f"{self.path} changed since it was written ({what})" if what else None


def stamps(*paths: Path | None) -> tuple[FileStamp, ...]:
    """Stamps of the files that exist among `paths` (None and missing ones are skipped)."""
    return tuple(FileStamp.of(p) for p in paths if p is not None and Path(p).exists())
