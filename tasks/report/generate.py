"""generate: new images from a trained generator, with no Prefect run or server involved.

The generator comes from a run folder (its final `generator.keras`, or a checkpoint: `latest`,
`best`, or a path) or from any saved `.keras` file.
"""

import contextlib
import json
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ganmodels.backend import current_backend
from ganmodels.images import images_from, latent_shape
from ganmodels.keras_import import keras
from ganmodels.latents import latent_walk, sample_latents
from tasks.errors import UserError
from tasks.pictures import image_grid, write_png
from tasks.progress_gif import write_gif
from tasks.run_folder import RunFolder
from tasks.train.checkpoints import generator_from_checkpoint

FRAMES_PER_LEG = 12
_MODEL_CONFIG = "config" + ".json"  # the model's config inside a .keras archive (no file of the run folder)


def latent_distribution(run_dir: Path | None = None, model: Path | None = None) -> str:
    """The latent distribution the generator was trained on, from its run folder; normal if unknown.

    A `--model` file inside a run folder (its generator.keras) finds the run's config beside it.
    """
    folder = Path(run_dir) if run_dir is not None else Path(model).parent
    recorded = RunFolder(folder).read_config()
    return recorded.get("config", {}).get("latent_dist", "normal") if recorded else "normal"


def load_generator(run_dir: Path | None = None, model: Path | None = None, checkpoint: str | None = None):
    """The generator a user asked for: `--model FILE`, or `--run-dir DIR` with an optional `--checkpoint`."""
    if model is not None:
        return load_model_file(Path(model), "--model")
    run = RunFolder(run_dir)
    if checkpoint in (None, "final"):
        if not run.generator.exists():
            raise UserError(
                f"--run-dir {run_dir}: no {run.generator.name} yet; use --checkpoint latest or finish training"
            )
        return load_model_file(run.generator, "--run-dir")
    return generator_from_checkpoint(run, checkpoint)


def load_model_file(path: Path, option: str):
    """A `.keras` model loaded with Keras' safe mode on: a file may come from anyone, and a Lambda layer is code.

    Legacy HDF5 models (.h5) are refused: Keras' safe mode does not cover that format. What Keras refuses
    (an unsafe layer, a damaged archive) is one line naming the file.
    """
    if path.suffix.lower() != ".keras":
        raise UserError(
            f"{option} {path}: only .keras model files are loaded (Keras checks them in safe mode); "
            "re-save a trusted .h5 model in Keras' own format: model.save('NAME.keras')"
        )
    try:
        with _loadable_here(path) as loadable:
            return keras.models.load_model(loadable, compile=False, safe_mode=True)
    except (ValueError, TypeError, KeyError, OSError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise UserError(f"{option} {path}: Keras refused to load it safely ({reason})") from None


@contextlib.contextmanager
def _loadable_here(path: Path) -> Iterator[Path]:
    """The model file as this backend can load it.

    TensorFlow runs save their BatchNormalization layers with `synchronized=True` (statistics over all replicas
    while training), which Keras refuses on any other backend. In a generator that only samples it changes
    nothing, so elsewhere a copy of the file without it is loaded. A file that is not a readable archive is left
    for Keras to refuse in its own words.
    """
    config = None
    if current_backend() != "tensorflow":
        with contextlib.suppress(zipfile.BadZipFile, KeyError, ValueError, OSError), zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read(_MODEL_CONFIG))
    if config is None or not _unsynchronize(config):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="ganflow-model-") as tmp, zipfile.ZipFile(path) as archive:
        copy = Path(tmp) / path.name
        with zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as out:
            for item in archive.infolist():
                data = json.dumps(config).encode() if item.filename == _MODEL_CONFIG else archive.read(item)
                out.writestr(item, data)
        yield copy


def _unsynchronize(node) -> bool:
    """Set every `synchronized: true` in a Keras model config to false; True when there was one."""
    found = False
    if isinstance(node, dict):
        if node.get("synchronized") is True:
            node["synchronized"], found = False, True
        for value in node.values():
            found = _unsynchronize(value) or found
    elif isinstance(node, list):
        for value in node:
            found = _unsynchronize(value) or found
    return found


def generate_images(
    generator,
    out: Path,
    num: int,
    seed: int = 0,
    grid: bool = False,
    truncation: float | None = None,
    dist: str = "normal",
) -> list[Path]:
    """Write `num` images as PNG files, or one grid PNG."""
    z = sample_latents(num, latent_shape(generator), seed, truncation, dist)
    images = images_from(generator, z)
    out = Path(out)
    if grid:
        return [write_png(out / "grid.png", image_grid(images))]
    return [write_png(out / f"sample_{i:05d}.png", img) for i, img in enumerate(images)]


def interpolation_gif(
    generator,
    out: Path,
    num: int,
    points: int,
    seed: int = 0,
    truncation: float | None = None,
    dist: str = "normal",
) -> Path:
    """A looping latent walk through `points` random points, for `num` walks side by side in a grid."""
    shape = latent_shape(generator)
    dim = int(np.prod(shape))  # image-shaped noise is walked as one long vector
    anchors = sample_latents(num * points, shape, seed, truncation, dist).reshape(num, points, dim)
    walks = np.stack([latent_walk(a, FRAMES_PER_LEG) for a in anchors], axis=1)  # (frames, num, dim)
    frames = []
    for z in walks.reshape(len(walks), num, *shape):
        grid = image_grid(images_from(generator, z))
        frames.append(grid if grid.shape[2] == 3 else np.repeat(grid, 3, axis=2))
    return write_gif(frames, Path(out) / "walk.gif", [80] * len(frames))
