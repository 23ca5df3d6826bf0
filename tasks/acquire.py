"""acquire: turn `--source` into a local folder of image files, with an identity for caching.

Sources here: `sample` (the first 100 faces of scikit-image's LFW subset, which ships in its wheel,
so no network is needed) and a local folder, searched recursively.
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path

from prefect import task
from prefect.cache_policies import INPUTS, TASK_SOURCE, CachePolicy

from tasks.atomic import atomic_dir
from tasks.caching import OutputsExist, step_options
from tasks.errors import UserError

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
SAMPLE_COUNT = 100  # rows 0..99 of lfw_subset() are faces; the rest are not


@dataclass(frozen=True)
class Source:
    """A parsed `--source`: what kind it is and where."""

    kind: str  # "sample" or "folder"
    location: str = ""

    @property
    def name(self) -> str:
        """A short label for folder names and messages."""
        return "sample" if self.kind == "sample" else (Path(self.location).name or "folder")


@dataclass(frozen=True)
class AcquiredImages:
    """A local folder of images plus the identity that says which data it is."""

    source: Source
    images_dir: Path
    identity: str
    num_files: int


def parse_source(text: str) -> Source:
    """Validate `--source` early, with a message that says what would work instead."""
    text = (text or "").strip()
    if text == "sample":
        return Source("sample")
    path = Path(text).expanduser()
    if not path.exists():
        raise ValueError(f"{text!r} is neither 'sample' nor an existing folder of images")
    if not path.is_dir():
        raise ValueError(f"{text!r} is a file; pass a folder of images (or 'sample')")
    return Source("folder", str(path.resolve()))


def list_images(folder: Path) -> list[Path]:
    """Image files under `folder`, recursively, in a sorted and stable order.

    Extensions match in any case; hidden files and folders and macOS `__MACOSX` litter are ignored.
    """
    folder = Path(folder)
    found = []
    for path in folder.rglob("*"):
        rel = path.relative_to(folder).parts
        if any(part.startswith(".") or part == "__MACOSX" for part in rel):
            continue
        if path.suffix.lower() in IMAGE_EXTENSIONS and not path.is_dir():
            found.append(path)
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def folder_fingerprint(folder: Path) -> str:
    """Hash of the image files' relative paths, sizes and modification times: changes when the data does."""
    h = hashlib.sha256()
    for path in list_images(folder):
        try:
            st = path.stat()
            size, mtime = st.st_size, st.st_mtime_ns
        except OSError:
            size, mtime = -1, -1
        h.update(f"{path.relative_to(folder).as_posix()}\0{size}\0{mtime}\n".encode())
    return h.hexdigest()[:16]


def write_sample(dest: Path) -> Path:
    """Write the sample faces once as PNG files, so they take the same decode path as any folder."""
    if dest.is_dir() and len(list_images(dest)) == SAMPLE_COUNT:
        return dest
    import cv2
    from skimage import data

    faces = data.lfw_subset()[:SAMPLE_COUNT]  # float in [0, 1], 25x25 grayscale
    with atomic_dir(dest) as tmp:
        for i, face in enumerate(faces):
            cv2.imwrite(str(tmp / f"face_{i:03d}.png"), (face * 255).round().astype("uint8"))
    return dest


def acquire_images(source_text: str, data_dir: Path) -> AcquiredImages:
    """Make the source available as a local folder and describe it."""
    try:
        source = parse_source(source_text)
    except ValueError as exc:
        raise UserError(f"--source: {exc}") from None
    if source.kind == "sample":
        folder = write_sample(Path(data_dir) / "sources" / "lfw-sample")
        identity = f"sample:skimage-lfw_subset:{SAMPLE_COUNT}"
    else:
        folder = Path(source.location)
        identity = f"folder:{folder}:{folder_fingerprint(folder)}"
    files = list_images(folder)
    if not files:
        raise UserError(
            f"--source: no image files ({', '.join(sorted(IMAGE_EXTENSIONS))}) found in {folder}; "
            "point it at a folder of face images, or use 'sample'"
        )
    return AcquiredImages(source, folder, identity, len(files))


@dataclass
class _SourceContents(CachePolicy):
    """Part of acquire's cache key: a folder's contents, so an edited folder is acquired again."""

    def compute_key(self, task_ctx, inputs, flow_parameters, **kwargs) -> str | None:
        try:
            source = parse_source(inputs.get("source_text", ""))
        except ValueError:
            return None
        return folder_fingerprint(Path(source.location)) if source.kind == "folder" else source.kind


@task(name="acquire", **step_options(cache_policy=OutputsExist(base=INPUTS + TASK_SOURCE + _SourceContents())))
def acquire(source_text: str, data_dir: Path) -> AcquiredImages:
    """Prefect step: the source as a local folder of images."""
    return acquire_images(source_text, data_dir)
