"""Safe extraction of a .zip or .tar(.gz/.bz2/.xz) archive into the cache.

An archive from elsewhere is untrusted input. Every entry is checked before it is written: an absolute
path, a `..` component, a symbolic or hard link, or a device or other special file makes the whole
archive refused (not silently skipped, so a damaged or hostile archive is noticed). The entry count and
the total uncompressed size are capped, against archive bombs. Files go into a temporary folder that is
renamed onto the target only when every entry is done, so an interrupted extraction never looks finished.
"""

import contextlib
import re
import shutil
import stat
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from tasks.atomic import atomic_dir
from tasks.errors import UserError
from tasks.progress import Throttled, progress_bar, run_logger

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
DEFAULT_MAX_BYTES = 20 * 10**9
DEFAULT_MAX_ENTRIES = 1_000_000
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class ExtractLimits:
    """Caps on what one archive may unpack to: generous for real datasets, fatal for archive bombs."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_entries: int = DEFAULT_MAX_ENTRIES


@dataclass(frozen=True)
class _Entry:
    """One archive member as the checks see it, with a way to read its bytes."""

    name: str
    kind: str  # "file", "dir", "symlink", "hardlink", "device", "other"
    size: int
    open: Callable[[], IO[bytes]]  # for files
    gate: Callable[[], None] = lambda: None  # the format's own safety check, after ours


def archive_stem(path: str | Path) -> str:
    """`faces.tar.gz` -> `faces`: the name without its archive suffix."""
    name = Path(path).name
    for suffix in sorted(ARCHIVE_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)] or name
    return Path(name).stem or name


def is_archive_name(path: str | Path) -> bool:
    return str(path).lower().endswith(ARCHIVE_SUFFIXES)


def extract_archive(archive: Path, dest: Path, limits: ExtractLimits = ExtractLimits()) -> Path:  # noqa: B008
    """Extract `archive` into `dest` once; a finished `dest` is reused. Raises UserError on anything unsafe."""
    archive, dest = Path(archive), Path(dest)
    if dest.is_dir():
        return dest
    entries = _reader(archive)
    try:
        with atomic_dir(dest) as tmp, contextlib.closing(entries()) as members:
            _extract_entries(members, archive, tmp, limits)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, RuntimeError, ValueError) as exc:
        raise UserError(f"--source: cannot extract {archive}: {exc}; check that the archive is complete") from None
    return dest


def _reader(archive: Path):
    """The entry iterator for the archive's real format (by content, not by name)."""
    if zipfile.is_zipfile(archive):
        return lambda: _zip_entries(archive)
    if tarfile.is_tarfile(archive):
        return lambda: _tar_entries(archive)
    raise UserError(
        f"--source: {archive} is not a .zip or .tar archive (by its content); "
        "pass a folder of images, a .zip or a .tar(.gz)"
    )


def _extract_entries(entries: Iterator[_Entry], archive: Path, target: Path, limits: ExtractLimits) -> None:
    """Check each entry, then write it under `target`; stop at the first one that breaks a rule or a cap."""
    log = Throttled(run_logger())
    count = total = 0
    with progress_bar() as bar:
        job = bar.add_task(f"extract {archive.name}", total=None)
        for entry in entries:
            count += 1
            if count > limits.max_entries:
                raise _refused(archive, f"has more than {limits.max_entries:,} entries", "--max-extract-entries")
            rel = safe_relative_path(entry.name, archive)
            _check_kind(entry, archive)
            entry.gate()
            total += entry.size
            if total > limits.max_bytes:
                raise _refused(archive, f"unpacks to more than {limits.max_bytes:,} bytes", "--max-extract-bytes")
            _write(entry, target, rel)
            bar.advance(job)
            log.info("extract %s: %d entries, %d bytes", archive.name, count, total)


def safe_relative_path(name: str, archive: Path) -> PurePosixPath:
    """The entry's path inside the target; refuse absolute paths, drive letters, `..` and NUL bytes."""
    raw = name.replace("\\", "/")
    if "\0" in raw:
        raise _unsafe(archive, name, "has a NUL byte in its name")
    if raw.startswith("/") or _DRIVE.match(raw):
        raise _unsafe(archive, name, "has an absolute path")
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise _unsafe(archive, name, "has a '..' component")
    return PurePosixPath(*parts)


def _check_kind(entry: _Entry, archive: Path) -> None:
    if entry.kind in ("symlink", "hardlink"):
        raise _unsafe(archive, entry.name, "is a symbolic link" if entry.kind == "symlink" else "is a hard link")
    if entry.kind == "device":
        raise _unsafe(archive, entry.name, "is a device or special file")
    if entry.kind not in ("file", "dir"):
        raise _unsafe(archive, entry.name, "is not a plain file or folder")


def _write(entry: _Entry, target: Path, rel: PurePosixPath) -> None:
    path = target.joinpath(*rel.parts)
    if entry.kind == "dir" or not rel.parts:
        path.mkdir(parents=True, exist_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with entry.open() as src, open(path, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)


def _zip_entries(archive: Path) -> Iterator[_Entry]:
    """Zip members; the central directory gives types and sizes before any data is read.

    `file_size` is the declared size; zipfile never returns more than that (it fails the CRC
    check instead), so summing it bounds what is written.
    """
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            yield _Entry(info.filename, _zip_kind(info), info.file_size, lambda info=info: zf.open(info))


def _zip_kind(info: zipfile.ZipInfo) -> str:
    mode = info.external_attr >> 16  # Unix mode, when the archiver recorded one
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        return "device"
    return "dir" if info.is_dir() else "file"


def _tar_entries(archive: Path) -> Iterator[_Entry]:
    """Tar members in one streaming pass (a .tar.gz is decompressed once)."""
    with tarfile.open(archive, "r:*") as tar:
        for member in tar:
            kind = _tar_kind(member)
            size = member.size if kind == "file" else 0
            yield _Entry(
                member.name, kind, size, lambda m=member: _member(tar, m), lambda m=member: _data_filter(m, archive)
            )


def _tar_kind(member: tarfile.TarInfo) -> str:
    if member.issym():
        return "symlink"
    if member.islnk():
        return "hardlink"
    if member.ischr() or member.isblk() or member.isfifo():
        return "device"
    return "dir" if member.isdir() else "file" if member.isreg() else "other"


def _data_filter(member: tarfile.TarInfo, archive: Path) -> None:
    """Python's own `data` extraction filter as a second gate; our checks give the clearer message first."""
    try:
        tarfile.data_filter(member, "/nonexistent-target")
    except tarfile.FilterError as exc:
        raise _unsafe(archive, member.name, f"is refused by the tar data filter ({type(exc).__name__})") from None


def _member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> IO[bytes]:
    stream = tar.extractfile(member)
    if stream is None:
        raise ValueError(f"cannot read {member.name!r}")
    return stream


def _unsafe(archive: Path, name: str, why: str) -> UserError:
    return UserError(
        f"--source: {archive.name} is refused: entry {name!r} {why}; "
        "only plain files and folders inside the archive can be extracted, and nothing was written outside the cache"
    )


def _refused(archive: Path, what: str, option: str) -> UserError:
    return UserError(f"--source: {archive.name} is refused: it {what}; raise {option} if this is expected")
