"""The preprocess cache's manifest: the one record of what a cache folder holds, and its verification.

The manifest is written last, so its presence means the array is complete; its `bytes` and `sha256`
say which bytes. Before a cached array is reused, its size and sha256 are checked against them (in
blocks, ~0.6 s per GB here: see docs/run-folder.md). A mismatch is one warning line and the cache is
rebuilt, never used. Results are remembered per file state (inode, size, mtime) within a process, so
the cache policy and the step that follows it hash a file once.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tasks.hashing import file_sha256
from tasks.progress import run_logger

MANIFEST_NAME = "manifest.json"
ARRAY_NAME = "images.npy"

_checked: dict[tuple, str | None] = {}  # (path, inode, size, mtime_ns, sha256) -> problem, or None when intact


def read_manifest(manifest_path: Path) -> dict[str, Any] | None:
    """The manifest's record, or None when it is missing or unreadable (then the cache is built again)."""
    try:
        record = json.loads(Path(manifest_path).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def array_path(manifest_path: Path, record: dict[str, Any]) -> Path:
    return Path(manifest_path).parent / record.get("array", ARRAY_NAME)


def problem(npy: Path, record: dict[str, Any]) -> str | None:
    """What is wrong with the cached array compared with its manifest, or None when it is intact."""
    try:
        st = os.stat(npy)
    except OSError:
        return "it is missing"
    key = (str(npy), st.st_ino, st.st_size, st.st_mtime_ns, record.get("sha256"))
    if key not in _checked:
        _checked[key] = _compare(npy, st.st_size, record)
    return _checked[key]


def _compare(npy: Path, size: int, record: dict[str, Any]) -> str | None:
    expected = record.get("bytes")
    if expected is not None and size != expected:
        return f"it has {size} bytes, the manifest says {expected}"
    if file_sha256(npy) != record.get("sha256"):
        return "its sha256 differs from the manifest's"
    return None


def verified(manifest_path: Path, warn: bool = True) -> dict[str, Any] | None:
    """The manifest of an intact cache; None when there is none or it does not match (a warning line then)."""
    record = read_manifest(manifest_path)
    if record is None:
        return None
    npy = array_path(manifest_path, record)
    if (what := problem(npy, record)) is None:
        return record
    if warn and npy.exists():
        run_logger().warning("cache %s is damaged (%s); it is rebuilt, not used", npy, what)
    return None


def discard(manifest_path: Path) -> None:
    """Remove a damaged cache's manifest and array, so that it is built again (under the folder's lock)."""
    record = read_manifest(manifest_path) or {}
    Path(manifest_path).unlink(missing_ok=True)
    array_path(manifest_path, record).unlink(missing_ok=True)


def data_identity(manifest_path: Path) -> dict[str, Any]:
    """What a run trained on: source identity, size, channels, crop, and the array's sha256."""
    record = read_manifest(manifest_path) or {}
    params = record.get("params", {})
    return {
        "source": record.get("identity"),
        "size": params.get("size"),
        "channels": params.get("channels"),
        "crop": params.get("crop"),
        "sha256": record.get("sha256"),
    }
