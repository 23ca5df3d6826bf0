"""The progress GIF: one frame per epoch from the sample grids, the file itself, and its preview in the
Prefect UI. Shared by training, which keeps both current while it trains (tasks/train/callbacks.LiveGif),
and the render step, which writes the finished GIF (tasks/report/render.py).
"""

import re
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import imageio.v3 as iio
import numpy as np
from PIL import Image

from tasks.atomic import write_bytes
from tasks.errors import UserError
from tasks.hashing import FileStamp, stamps
from tasks.pictures import encode_png, fit_within, labelled_frame, read_rgb
from tasks.prefect_artifacts import PREVIEW_SIDE, artifact_key, data_uri, in_prefect_run, publish

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
        if (m := FRAME_PATTERN.search(path.name)) and path.is_file():  # a folder of that name is no grid
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
    images = [labelled_frame(read_rgb(p), f"epoch {e}") for e, p in frames]  # an unreadable grid: OSError
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


MAX_PREVIEW_BYTES = 750_000  # the GIF preview and the grid together, before base64 (which adds a third)
PREVIEW_FRAMES = 40  # epochs in the GIF preview, spread from the first to the last
GIF_DESCRIPTION = "The progress GIF (a preview) and the newest sample grid"


class LivePreview:
    """The GIF artifact while training: created at the first `show`, then updated in place, so a long run
    stores one version of it (about 1 MB) instead of one per update; the run's end updates it once more."""

    def __init__(self, run_dir: Path):
        self.key, self.id = artifact_key(run_dir, "gif"), None

    def show(self, samples_dir: Path, gif: Path) -> None:
        if in_prefect_run():  # inside publish: a preview that fails is logged, never fails training
            self.id = publish("GIF", lambda: markdown_in_place(self.key, progress_markdown(samples_dir, gif), self.id))


def markdown_in_place(key: str, markdown: str, artifact_id: UUID | None = None) -> UUID:
    """This flow run's markdown artifact `key` (`artifact_id`, else the one it has already published under
    the key) updated in place, or else created: the flow run's page shows one card for it, not one per update."""
    from prefect.artifacts import create_markdown_artifact
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import ArtifactUpdate
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey
    from prefect.context import FlowRunContext, TaskRunContext

    client = get_client(sync_client=True)
    if artifact_id is None:
        context = TaskRunContext.get() or FlowRunContext.get()
        run_id = context.task_run.flow_run_id if isinstance(context, TaskRunContext) else context.flow_run.id
        mine = ArtifactFilter(key=ArtifactFilterKey(any_=[key]), flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        found = client.read_artifacts(artifact_filter=mine, limit=1)
        artifact_id = found[0].id if found else None
    if artifact_id is None:
        return create_markdown_artifact(markdown=markdown, key=key, description=GIF_DESCRIPTION)
    client.update_artifact(artifact_id=artifact_id, artifact=ArtifactUpdate(data=markdown))
    return artifact_id


def progress_markdown(samples_dir: Path, gif: Path, budget: int = MAX_PREVIEW_BYTES) -> str:
    """The GIF (fewer frames until it fits the budget) and the newest grid, inline, with where the files are."""
    frames = sample_frames(samples_dir)
    if not frames:
        return f"# Progress\n\nNo sample grids yet in `{samples_dir}`.\n"
    epoch, newest = frames[-1]
    grid = encode_png(fit_within(labelled_frame(read_rgb(newest), f"epoch {epoch}"), PREVIEW_SIDE))
    most = PREVIEW_FRAMES
    animation, shown = preview_gif(samples_dir, most, PREVIEW_SIDE)
    while len(animation) + len(grid) > budget and shown > 2:  # fewer frames, in proportion to the excess
        most = max(2, min(shown - 1, int(shown * 0.9 * (budget - len(grid)) / len(animation))))
        animation, shown = preview_gif(samples_dir, most, PREVIEW_SIDE)
    of = f"{shown} of {len(frames)} epochs" if shown < len(frames) else f"all {len(frames)} epochs"
    return "\n".join(
        [
            f"# Progress of `{gif.parent.name}`",
            "",
            f"![progress GIF, {of}]({data_uri('image/gif', animation)})",
            "",
            f"A preview ({of}); the full GIF, one frame per epoch: `{gif}`",
            "",
            f"## Newest samples: epoch {epoch}",
            "",
            f"![samples at epoch {epoch}]({data_uri('image/png', grid)})",
            "",
            f"`{newest}`",
            "",
        ]
    )
