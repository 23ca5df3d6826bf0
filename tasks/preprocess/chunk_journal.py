"""An append-only record of finished chunks, so a killed preprocess resumes where it stopped.

One JSON line names the job (so a journal never resumes a different one), then one line per chunk,
appended after the chunk's rows are in the output file. A kill can cut only the last line short; it
is ignored, and so is anything after a gap. Each line carries the CRC-32 of its rows, so rows that
never reached the disk (a power cut) are caught and written again.
"""

import json
from pathlib import Path
from typing import Any

from tasks.atomic import atomic_path


class ChunkJournal:
    """The finished chunks of one job, in order, as dicts with at least `chunk` and `rows`."""

    def __init__(self, path: Path, job: dict[str, Any]):
        self.path, self.job = Path(path), job

    def load(self) -> list[dict[str, Any]]:
        """The records of chunks 0, 1, 2, ... finished by an earlier run of this same job."""
        try:
            lines = self.path.read_text().splitlines()
        except (OSError, UnicodeDecodeError):
            return []
        records = []
        for number, line in enumerate(lines):
            try:
                record = json.loads(line)
            except ValueError:
                break
            if number == 0:
                if record != {"job": self.job}:
                    return []
                continue
            if not isinstance(record, dict) or record.get("chunk") != len(records):
                break
            records.append(record)
        return records

    def start(self, records: list[dict[str, Any]]) -> None:
        """Begin the journal afresh with `records` (those still valid), replacing what was there."""
        with atomic_path(self.path) as tmp:
            tmp.write_text("".join(json.dumps(r) + "\n" for r in [{"job": self.job}, *records]))

    def append(self, record: dict[str, Any]) -> None:
        """Record one more finished chunk (one short write, so a kill leaves at most a partial last line)."""
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
