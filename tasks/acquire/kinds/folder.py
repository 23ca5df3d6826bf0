"""folder: a local folder of image files, used where it is."""

from pathlib import Path

from tasks.acquire.kinds import Fetch, Source, SourceKind, register
from tasks.acquire.sources.folder import folder_fingerprint
from tasks.errors import UserError


def _parse(text: str) -> Source | None:
    path = Path(text).expanduser()
    return Source("folder", str(path.resolve())) if text and path.is_dir() else None


def _locate(source: Source, fetch: Fetch):
    folder = Path(source.location)
    if not folder.is_dir():
        raise UserError(f"--source: the folder {folder} is gone; pass an existing folder of images")
    return source, folder, f"folder:{folder}:{folder_fingerprint(folder)}"


register(
    SourceKind(
        "folder",
        order=50,
        parse=_parse,
        locate=_locate,
        display=lambda source: Path(source.location).name or "folder",
        cache_key=lambda source, data_dir: folder_fingerprint(Path(source.location)),
    )
)
