"""archive: a local .zip/.tar(.gz) of images, extracted safely into data-dir/sources/."""

from pathlib import Path

from tasks.acquire.kinds import Fetch, Source, SourceKind, register
from tasks.acquire.sources.archive import archive_stem, extract_archive, is_archive_name
from tasks.acquire.sources.folder import file_fingerprint, pick_images_folder
from tasks.errors import UserError
from tasks.hashing import file_sha256


def _parse(text: str) -> Source | None:
    path = Path(text).expanduser()
    return Source("archive", str(path.resolve())) if text and path.is_file() and is_archive_name(path) else None


def _locate(source: Source, fetch: Fetch):
    archive = Path(source.location)
    if not archive.is_file():
        raise UserError(f"--source: the archive {archive} is gone; pass an existing .zip or .tar(.gz)")
    fingerprint = file_fingerprint(archive)
    if fetch.sha256 and (actual := file_sha256(archive)) != fetch.sha256:
        raise UserError(f"--sha256: {archive} has sha256 {actual}, not {fetch.sha256}; check the file and --sha256")
    dest = extract_archive(archive, fetch.data_dir / "sources" / f"{source.name}-{fingerprint[:12]}", fetch.limits)
    images = pick_images_folder(dest)
    return source, images, f"archive:{archive}:{fingerprint}:{images.relative_to(dest).as_posix()}"


def _key(source: Source, data_dir: Path) -> str | None:
    return file_fingerprint(Path(source.location)) if Path(source.location).is_file() else None


register(
    SourceKind(
        "archive",
        order=60,
        parse=_parse,
        locate=_locate,
        display=lambda source: archive_stem(source.location),
        cache_key=_key,
        sha256=True,
    )
)
