"""sha256 of files, read in blocks: downloads are verified and caches are named by it."""

import hashlib
from pathlib import Path

BLOCK = 1 << 20


def file_sha256(path: Path | str) -> str:
    """Hex sha256 of a file's bytes, in constant memory."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(BLOCK), b""):
            h.update(block)
    return h.hexdigest()
