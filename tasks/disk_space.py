"""A full disk as one line: which folder, about how much room the step needs there, and what to do.

A step that runs out of space fails as a `UserError` (never retried: a retry two seconds later meets the
same full disk). Everything the steps write goes to a temporary name first (`tasks.atomic`), so nothing
half-written is ever taken for complete, and once space is freed the same command finishes the run.
"""

import errno
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from tasks.errors import UserError

NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})
# TensorFlow's checkpoint writer raises its own errors, which carry only the OS's text.
NO_SPACE_TEXTS = ("No space left on device", "Disk quota exceeded")
MB = 1024 * 1024


def is_out_of_space(exc: BaseException) -> bool:
    """An OS error, or TensorFlow's error for one, that says the disk (or the user's quota) is full."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return exc.errno in NO_SPACE
    return any(text in str(exc) for text in NO_SPACE_TEXTS)


def _megabytes(size: float) -> str:
    return f"{size / MB:.0f} MB" if size >= 10 * MB else f"{size / MB:.1f} MB"


def no_space_line(option: str, folder: Path, what: str, needs: int | None) -> str:
    """The one line: the folder, what was being written, about what it needs, what is free, what to do."""
    try:
        free = f"{_megabytes(shutil.disk_usage(folder).free)} free now"
    except OSError:
        free = "free space unknown"
    need = f"{what} needs about {_megabytes(needs)} there, {free}" if needs else f"{what}, {free}"
    return (
        f"{option} {folder}: No space left on device ({need}); free some space or choose another "
        f"{option}, then run the same command again: it goes on from where it stopped"
    )


@contextmanager
def space_for(option: str, folder: Path, what: str, needs: Callable[[], int | None]) -> Iterator[None]:
    """Turn running out of space in the block into one line; `needs` (bytes, or None when unknown) is only
    asked then, so a costly estimate costs nothing on the usual path."""
    try:
        yield
    except Exception as exc:
        if not is_out_of_space(exc):
            raise
        try:
            estimate = needs()
        except Exception:  # an estimate must never hide the real message
            estimate = None
        raise UserError(no_space_line(option, Path(folder), what, estimate)) from None


def files_size(paths: list[Path]) -> int:
    """Bytes the files take now; a missing one counts 0."""
    total = 0
    for path in paths:
        with suppress(OSError):
            total += path.stat().st_size
    return total
