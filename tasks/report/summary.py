"""The run's summary.json: what ran, on which data, how long each step took, and where the outputs are."""

import json
from pathlib import Path
from typing import Any

from tasks.acquire.sources.download import redact_urls
from tasks.atomic import write_json


def write_summary(path: Path, **sections: Any) -> Path:
    """Write the sections as JSON (paths and dataclasses as plain values), atomically.

    Every URL in it is redacted (no user, password or query): the parameters quote `--source`, and a
    signed link's token must not outlive the download in a file anyone may read or publish.
    """
    return write_json(path, json.loads(redact_urls(json.dumps(sections, default=_plain))))


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if hasattr(value, "__dataclass_fields__"):
        return {k: getattr(value, k) for k in value.__dataclass_fields__}
    return str(value)
