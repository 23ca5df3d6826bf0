"""render: sample grids from fixed latents, and the animated GIF of training progress."""

import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import imageio.v3 as iio
import numpy as np
from PIL import Image
from prefect import task

from tasks.atomic import write_bytes
from tasks.caching import step_options
from tasks.disk_space import files_size, space_for
from tasks.errors import UserError
from tasks.hashing import FileStamp, stamps

FRAME_PATTERN = re.compile(r"epoch_(\d{4,})\.png$")
MIN_FRAME_SIDE = 200  # smaller grids are enlarged (nearest neighbour) so the faces stay visible
GIF_COLORS = 128  # per-frame palette; no dithering, which costs time and compresses badly


@dataclass(frozen=True)
class ProgressGif:
    path: Path
    frames: int
    stamps: tuple[FileStamp, ...] = ()  # the GIF as written: a cached result is reused only while it is intact


def image_grid(images: np.ndarray, gap: int = 2) -> np.ndarray:
    """(N, H, W, C) uint8 to one near-square grid image with thin dark gaps."""
    n, h, w, c = images.shape
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    grid = np.zeros((rows * (h + gap) + gap, cols * (w + gap) + gap, c), np.uint8)
    for i, img in enumerate(images):
        r, k = divmod(i, cols)
        grid[gap + r * (h + gap) : gap + r * (h + gap) + h, gap + k * (w + gap) : gap + k * (w + gap) + w] = img
    return grid


def encode_png(image: np.ndarray) -> bytes:
    """An RGB or gray uint8 image as PNG bytes."""
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(".png", image)
    if not ok:
        raise OSError(f"could not encode a {image.shape} image as PNG")
    return encoded.tobytes()


def write_png(path: Path, image: np.ndarray) -> Path:
    """Write an RGB or gray uint8 image as PNG, atomically."""
    return write_bytes(path, encode_png(image))


def read_rgb(path: Path) -> np.ndarray:
    """A PNG written by `write_png` as RGB uint8 (gray ones too)."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise OSError(f"could not read the image {path}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def fit_within(image: np.ndarray, max_side: int) -> np.ndarray:
    """Shrink (area filter) so that neither side exceeds `max_side`; smaller images are kept as they are."""
    scale = max_side / max(image.shape[:2])
    if scale >= 1:
        return image
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def sample_path(samples_dir: Path, epoch: int) -> Path:
    return Path(samples_dir) / f"epoch_{epoch:04d}.png"


def labelled_frame(grid: np.ndarray, label: str) -> np.ndarray:
    """Enlarge a grid (nearest neighbour keeps pixels crisp) and put `label` in a band above it."""
    rgb = grid if grid.ndim == 3 and grid.shape[2] == 3 else cv2.cvtColor(grid, cv2.COLOR_GRAY2RGB)
    scale = max(1, int(np.ceil(MIN_FRAME_SIDE / max(rgb.shape[:2]))))
    big = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    band = np.full((22, big.shape[1], 3), 24, np.uint8)
    cv2.putText(band, label, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return np.concatenate([band, big], axis=0)


def quantized(frame: np.ndarray, colors: int = GIF_COLORS) -> np.ndarray:
    """Reduce a frame to `colors` colours without dithering, so the GIF stays small and quick to write."""
    image = Image.fromarray(frame).quantize(colors, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    return np.asarray(image.convert("RGB"))


def sample_frames(samples_dir: Path) -> list[tuple[int, Path]]:
    """(epoch, path) of every sample grid, in epoch order."""
    found = []
    for path in Path(samples_dir).glob("epoch_*.png"):
        if m := FRAME_PATTERN.search(path.name):
            found.append((int(m.group(1)), path))
    return sorted(found)


def encode_gif(frames: list[np.ndarray], durations_ms: list[float]) -> bytes:
    """RGB uint8 frames as the bytes of a looping GIF, with small per-frame palettes."""
    frames = [quantized(f) for f in frames]
    if len(frames) == 1:  # Pillow's single-frame writer takes one duration, not a list
        return iio.imwrite("<bytes>", frames[0], extension=".gif", duration=durations_ms[0], loop=0)
    return iio.imwrite("<bytes>", np.stack(frames), extension=".gif", duration=durations_ms, loop=0)


def write_gif(frames: list[np.ndarray], path: Path, durations_ms: list[float]) -> Path:
    """Write RGB uint8 frames as a looping GIF, atomically."""
    return write_bytes(Path(path), encode_gif(frames, durations_ms))


def render_gif(samples_dir: Path, gif_path: Path, seconds_per_frame: float = 0.12) -> ProgressGif:
    """One frame per epoch, in order, each labelled with its epoch; the last frame lingers."""
    frames = sample_frames(samples_dir)
    if not frames:
        raise UserError(f"no sample grids (epoch_NNNN.png) in {samples_dir} to make a GIF from")
    images = [labelled_frame(cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB), f"epoch {e}") for e, p in frames]
    write_gif(images, gif_path, [seconds_per_frame * 1000] * (len(images) - 1) + [2000])
    return ProgressGif(Path(gif_path), len(images), stamps(gif_path))


def evenly_spaced(items: list, most: int) -> list:
    """At most `most` items spread evenly from first to last, both kept."""
    if len(items) <= most:
        return list(items)
    if most <= 1:
        return items[-1:]
    picks = np.linspace(0, len(items) - 1, most).round().astype(int)
    return [items[i] for i in sorted(set(picks))]


def preview_gif(samples_dir: Path, max_frames: int, max_side: int) -> tuple[bytes, int]:
    """A small GIF of the progress for the Prefect UI: at most `max_frames` epochs (first and last kept), each
    frame at most `max_side` pixels; returns the bytes and the number of frames."""
    frames = evenly_spaced(sample_frames(samples_dir), max_frames)
    images = [fit_within(labelled_frame(read_rgb(p), f"epoch {e}"), max_side) for e, p in frames]
    return encode_gif(images, [250] * (len(images) - 1) + [2000]), len(images)


@task(name="render", task_run_name="render[{gif_path.parent.name} {epochs} epochs]", **step_options())
def render(samples_dir: Path, gif_path: Path, epochs: int) -> ProgressGif:
    """Prefect step: the per-epoch sample grids as one animated GIF.

    `epochs` is part of the cache key only: a continued run has new frames to add.
    """
    frames = lambda: 2 * files_size([path for _, path in sample_frames(samples_dir)])  # noqa: E731
    with space_for("--run-dir", gif_path.parent, "writing the GIF", frames):
        return render_gif(samples_dir, gif_path)
