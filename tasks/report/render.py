"""render: sample grids from fixed latents, and the animated GIF of training progress."""

import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import imageio.v3 as iio
import numpy as np
from PIL import Image
from prefect import task

from tasks.atomic import atomic_path, write_bytes
from tasks.caching import step_options
from tasks.errors import UserError

FRAME_PATTERN = re.compile(r"epoch_(\d{4,})\.png$")
MIN_FRAME_SIDE = 200  # smaller grids are enlarged (nearest neighbour) so the faces stay visible
GIF_COLORS = 128  # per-frame palette; no dithering, which costs time and compresses badly


@dataclass(frozen=True)
class ProgressGif:
    path: Path
    frames: int


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


def write_png(path: Path, image: np.ndarray) -> Path:
    """Write an RGB or gray uint8 image as PNG, atomically."""
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(".png", image)
    if not ok:
        raise OSError(f"could not encode {path}")
    return write_bytes(path, encoded.tobytes())


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


def write_gif(frames: list[np.ndarray], path: Path, durations_ms: list[float]) -> Path:
    """Write RGB uint8 frames as a looping GIF, atomically, with small per-frame palettes."""
    frames = [quantized(f) for f in frames]
    with atomic_path(Path(path)) as tmp:
        if len(frames) == 1:  # Pillow's single-frame writer takes one duration, not a list
            iio.imwrite(tmp, frames[0], extension=".gif", duration=durations_ms[0], loop=0)
        else:
            iio.imwrite(tmp, np.stack(frames), extension=".gif", duration=durations_ms, loop=0)
    return Path(path)


def render_gif(samples_dir: Path, gif_path: Path, seconds_per_frame: float = 0.12) -> ProgressGif:
    """One frame per epoch, in order, each labelled with its epoch; the last frame lingers."""
    frames = sample_frames(samples_dir)
    if not frames:
        raise UserError(f"no sample grids (epoch_NNNN.png) in {samples_dir} to make a GIF from")
    images = [labelled_frame(cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB), f"epoch {e}") for e, p in frames]
    write_gif(images, gif_path, [seconds_per_frame * 1000] * (len(images) - 1) + [2000])
    return ProgressGif(Path(gif_path), len(images))


@task(name="render", task_run_name="render[{gif_path.parent.name} {epochs} epochs]", **step_options())
def render(samples_dir: Path, gif_path: Path, epochs: int) -> ProgressGif:
    """Prefect step: the per-epoch sample grids as one animated GIF.

    `epochs` is part of the cache key only: a continued run has new frames to add.
    """
    return render_gif(samples_dir, gif_path)
