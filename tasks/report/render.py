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
from tasks.errors import UserError
from tasks.hashing import FileStamp, stamps
from tasks.pictures import fit_within, labelled_frame, read_rgb

FRAME_PATTERN = re.compile(r"epoch_(\d{4,})\.png$")
GIF_COLORS = 128  # per-frame palette; no dithering, which costs time and compresses badly


@dataclass(frozen=True)
class ProgressGif:
    path: Path
    frames: int
    stamps: tuple[FileStamp, ...] = ()  # the GIF as written: a cached result is reused only while it is intact


def sample_path(samples_dir: Path, epoch: int) -> Path:
    return Path(samples_dir) / f"epoch_{epoch:04d}.png"


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
    return render_gif(samples_dir, gif_path)
