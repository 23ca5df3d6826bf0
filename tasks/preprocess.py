"""preprocess: decode, crop and resize every image with OpenCV, cached as one uint8 `.npy`.

The cache lives under `data-dir/<key>/`, where the key hashes the source identity and the
preprocessing parameters, so runs that share both share the work. A file that cannot be used is
skipped and recorded in the manifest with its reason; it never stops the run.
"""

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from prefect import task
from prefect.cache_policies import INPUTS, TASK_SOURCE
from rich.progress import TextColumn

from tasks.acquire import AcquiredImages, list_images
from tasks.atomic import atomic_path, write_json
from tasks.caching import OutputsExist, step_options
from tasks.chunk_runners import chunk_map, map_in_process
from tasks.errors import UserError
from tasks.progress import Throttled, progress_bar, run_logger

CROPS = ("center",)
FORMAT_VERSION = 1  # bump when the output for the same inputs changes


@dataclass(frozen=True)
class PreprocessedData:
    """The cached array and what it holds."""

    npy: Path
    manifest: Path
    count: int
    skipped: int
    sha256: str


@dataclass(frozen=True)
class PreparedChunk:
    """One chunk of files, prepared: the usable images in file order, and why the others were skipped."""

    images: np.ndarray  # uint8 (n, size, size, channels)
    skipped: list[dict[str, str]]


# How chunks are run: called with prepare_chunk, the chunks and its options; yields results in chunk order.
ChunkMap = Callable[[Callable[..., PreparedChunk], list[list[Path]], dict[str, Any]], Iterable[PreparedChunk]]


class Unusable(Exception):
    """Why one file was skipped."""


def crop_square(image: np.ndarray, mode: str = "center") -> np.ndarray:
    """`center`: the largest square centred in the image."""
    if mode != "center":
        raise ValueError(f"unknown crop {mode!r}; choose from {CROPS}")
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return image[top : top + side, left : left + side]


def resize_square(image: np.ndarray, size: int) -> np.ndarray:
    """INTER_AREA when shrinking (no aliasing), INTER_CUBIC when enlarging a small image."""
    interpolation = cv2.INTER_AREA if image.shape[0] >= size else cv2.INTER_CUBIC
    return cv2.resize(image, (size, size), interpolation=interpolation)


def decode_image(path: Path, channels: int) -> np.ndarray:
    """Read any image OpenCV can decode as uint8 HxWxC, RGB or gray; raise Unusable otherwise."""
    try:
        raw = np.fromfile(path, dtype=np.uint8)  # np.fromfile handles non-ASCII names, cv2.imread does not
    except OSError as exc:
        raise Unusable(f"cannot read: {exc.strerror or exc}") from None
    if raw.size == 0:
        raise Unusable("empty file")
    flag = cv2.IMREAD_GRAYSCALE if channels == 1 else cv2.IMREAD_COLOR
    image = cv2.imdecode(raw, flag)
    if image is None:
        raise Unusable("not a decodable image")
    if channels == 1:
        return image[..., None]
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def prepare_image(path: Path, size: int, channels: int, crop: str) -> np.ndarray:
    """One file to one (size, size, channels) uint8 array."""
    image = resize_square(crop_square(decode_image(path, channels), crop), size)
    return image.reshape(size, size, channels)


def prepare_chunk(paths: list[Path], size: int, channels: int, crop: str) -> PreparedChunk:
    """Prepare a list of files: the unit of work a process, a thread or a Dask worker is given."""
    kept: list[np.ndarray] = []
    skipped: list[dict[str, str]] = []
    for path in paths:
        try:
            kept.append(prepare_image(path, size, channels, crop))
        except Unusable as exc:
            skipped.append({"file": str(path), "reason": str(exc)})
    images = np.stack(kept) if kept else np.zeros((0, size, size, channels), np.uint8)
    return PreparedChunk(images, skipped)


def split_chunks(files: list[Path], max_chunks: int = 64, min_size: int = 16, max_size: int = 1000) -> list[list[Path]]:
    """Consecutive runs of files: enough to spread over workers, each worth its scheduling, none too heavy."""
    size = min(max_size, max(min_size, -(-len(files) // max_chunks)))
    return [files[i : i + size] for i in range(0, len(files), size)]


def cache_key(identity: str, size: int, channels: int, crop: str) -> str:
    blob = json.dumps([identity, size, channels, crop, FORMAT_VERSION]).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _read_cache(manifest_path: Path) -> PreprocessedData | None:
    """A finished cache, or None: the manifest is written last, so its presence means complete."""
    try:
        m = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        return None
    npy = manifest_path.parent / m["array"]
    if not npy.exists():
        return None
    return PreprocessedData(npy, manifest_path, m["count"], len(m["skipped"]), m["sha256"])


def preprocess_images(
    acquired: AcquiredImages,
    size: int,
    channels: int,
    crop: str,
    data_dir: Path,
    map_chunks: ChunkMap = map_in_process,
) -> PreprocessedData:
    """Build (or reuse) the uint8 cache of `acquired` at `size` px with `channels` channels.

    `map_chunks` decides where the chunks are prepared; the result is the same bytes wherever they ran.
    """
    key = cache_key(acquired.identity, size, channels, crop)
    out_dir = Path(data_dir) / f"{acquired.source.name}-{size}px-c{channels}-{crop}-{key}"
    manifest_path = out_dir / "manifest.json"
    if cached := _read_cache(manifest_path):
        return cached

    files = list_images(acquired.images_dir)
    chunks = split_chunks(files)
    log = Throttled(run_logger())
    parts: list[np.ndarray] = []
    skipped: list[dict[str, str]] = []
    done = 0
    with progress_bar(TextColumn("{task.speed:>6.0f} img/s")) as bar:
        job = bar.add_task(f"preprocess {acquired.source.name}", total=len(files))
        options = {"size": size, "channels": channels, "crop": crop}
        for chunk, prepared in zip(chunks, map_chunks(prepare_chunk, chunks, options), strict=True):
            parts.append(prepared.images)
            skipped.extend(prepared.skipped)
            done += len(chunk)
            bar.advance(job, len(chunk))
            log.info("preprocess: %d/%d images", done, len(files))
    kept = np.concatenate(parts) if parts else np.zeros((0, size, size, channels), np.uint8)
    if not len(kept):
        raise UserError(
            f"--source: none of the {len(files)} image files in {acquired.images_dir} could be used "
            f"(first: {skipped[0]['file']}: {skipped[0]['reason']}); check that they are images"
        )

    npy = out_dir / "images.npy"
    with atomic_path(npy) as tmp:
        np.save(tmp, kept)
    sha = file_sha256(npy)
    write_json(
        manifest_path,
        {
            "source": {"kind": acquired.source.kind, "location": acquired.source.location},
            "identity": acquired.identity,
            "params": {"size": size, "channels": channels, "crop": crop, "format_version": FORMAT_VERSION},
            "array": npy.name,
            "shape": [len(kept), size, size, channels],
            "dtype": "uint8",
            "count": len(kept),
            "skipped": skipped,
            "sha256": sha,
        },
    )
    for item in skipped:
        run_logger().warning("skipped %s: %s", item["file"], item["reason"])
    return PreprocessedData(npy, manifest_path, len(kept), len(skipped), sha)


@task(
    name="preprocess",
    task_run_name="preprocess[{acquired.source.name} {size}px {crop}]",
    # Where the chunks run does not change the output, so it is not part of the cache key.
    **step_options(cache_policy=OutputsExist(base=INPUTS - "task_runner" - "dask_address" + TASK_SOURCE)),
)
def preprocess(
    acquired: AcquiredImages,
    size: int,
    channels: int,
    crop: str,
    data_dir: Path,
    task_runner: str = "default",
    dask_address: str | None = None,
) -> PreprocessedData:
    """Prefect step: the images as a cached uint8 array of shape (N, size, size, channels)."""
    with chunk_map(task_runner, dask_address) as map_chunks:
        return preprocess_images(acquired, size, channels, crop, data_dir, map_chunks)
