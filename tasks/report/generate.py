"""generate: new images from a trained generator, with no Prefect run or server involved.

The generator comes from a run folder (its final `generator.keras`, or a checkpoint: `latest`,
`best`, or a path) or from any saved `.keras` file.
"""

import json
from pathlib import Path

import numpy as np

from ganmodels.config import GanConfig
from ganmodels.latents import latent_walk, sample_latents
from ganmodels.networks import build_generator
from ganmodels.runtime import dtype_policy
from ganmodels.tf import keras, tf
from ganmodels.train_step import output_of, to_uint8
from tasks.errors import UserError
from tasks.report.render import image_grid, write_gif, write_png

FRAMES_PER_LEG = 12


def _checkpoint_prefix(ckpt_dir: Path, which: str) -> str:
    if which == "latest":
        prefix = tf.train.latest_checkpoint(str(ckpt_dir))
        if not prefix:
            raise UserError(f"--checkpoint latest: no checkpoint in {ckpt_dir}; train first with `ganflow run`")
        return prefix
    if which == "best":
        prefix = tf.train.latest_checkpoint(str(ckpt_dir / "best"))
        if not prefix:
            raise UserError(
                f"--checkpoint best: no best checkpoint in {ckpt_dir / 'best'}; it is kept only when the run "
                "evaluates quality during training. Use --checkpoint latest instead"
            )
        return prefix
    path = Path(which).expanduser()
    if not Path(f"{path}.index").exists():
        raise UserError(f"--checkpoint {which}: no checkpoint at that prefix (expected {path}.index)")
    return str(path)


def _recorded(run_dir: Path) -> dict | None:
    config_file = Path(run_dir) / "checkpoints" / "config.json"
    return json.loads(config_file.read_text()) if config_file.exists() else None


def generator_from_checkpoint(run_dir: Path, which: str) -> keras.Model:
    """Rebuild the generator from the run's recorded config and load only its weights.

    A run with EMA samples from its EMA generator, so that is the one loaded, as in generator.keras.
    """
    recorded = _recorded(run_dir)
    if recorded is None:
        raise UserError(f"--run-dir {run_dir}: no checkpoints/config.json; is it a ganflow run folder?")
    prefix = _checkpoint_prefix(run_dir / "checkpoints", which)
    precision = recorded.get("runtime", {}).get("precision", "fp32")
    config = GanConfig.from_dict(recorded["config"])
    with dtype_policy("mixed_bfloat16" if precision == "bf16" else "float32"):
        generator = build_generator(config)
    saved = {name.split("/")[0] for name, _ in tf.train.list_variables(prefix)}
    key = "ema_generator" if config.ema is not None and "ema_generator" in saved else "generator"
    tf.train.Checkpoint(**{key: generator}).restore(prefix).expect_partial()
    return generator


def latent_distribution(run_dir: Path | None = None, model: Path | None = None) -> str:
    """The latent distribution the generator was trained on, from its run folder; normal if unknown.

    A `--model` file inside a run folder (its generator.keras) finds the run's config beside it.
    """
    folder = Path(run_dir) if run_dir is not None else Path(model).parent
    recorded = _recorded(folder)
    return recorded.get("config", {}).get("latent_dist", "normal") if recorded else "normal"


def load_generator(run_dir: Path | None = None, model: Path | None = None, checkpoint: str | None = None):
    """The generator a user asked for: `--model FILE`, or `--run-dir DIR` with an optional `--checkpoint`."""
    if model is not None:
        return keras.models.load_model(model, compile=False)
    run_dir = Path(run_dir)
    if checkpoint in (None, "final"):
        path = run_dir / "generator.keras"
        if not path.exists():
            raise UserError(f"--run-dir {run_dir}: no generator.keras yet; use --checkpoint latest or finish training")
        return keras.models.load_model(path, compile=False)
    return generator_from_checkpoint(run_dir, checkpoint)


def images_from(generator, z: np.ndarray, batch: int = 256) -> np.ndarray:
    """uint8 images for the latent vectors `z`, in batches that keep memory small, from G's own range."""
    output = output_of(generator)
    return np.concatenate(
        [to_uint8(generator(z[i : i + batch], training=False), output) for i in range(0, len(z), batch)]
    )


def latent_shape(generator) -> tuple[int, ...]:
    """The shape of one latent input: (latent_dim,), or an image's shape for image-shaped noise."""
    return tuple(generator.input_shape[1:])


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
