"""evaluate: quality figures that need no downloaded weights, during training and on demand.

During training, every `--eval-every` epochs, the SWD and NDB/JS of a small fixed real subset against
images from fixed latents go to the metrics, curves and TensorBoard, and the best SWD decides the
`best` checkpoint (tasks/train/callbacks.py calls `epoch_scores` and `BestSoFar`). At the end (and
with `ganflow evaluate`), the full set: SWD per level on the default subset, NDB/JS, MS-SSIM
diversity, the memorization check with its nearest-neighbour picture, and FID/KID when InceptionV3
weights are on disk.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from prefect import task

from ganmodels.latents import sample_latents
from ganmodels.metrics.fid import fid_kid, find_weights, how_to_enable
from ganmodels.metrics.memorization import memorization
from ganmodels.metrics.ms_ssim import diversity
from ganmodels.metrics.ndb import ndb_js
from ganmodels.metrics.swd import swd
from tasks.atomic import atomic_path, write_json
from tasks.caching import step_options
from tasks.errors import UserError
from tasks.hashing import FileStamp, stamps
from tasks.progress import run_logger
from tasks.report.generate import images_from, latent_distribution, latent_shape, load_generator
from tasks.report.render import write_png
from tasks.train.run_folder import RunFolder

FULL_SUBSET = 2048
TRAINING_SUBSET = 256
EVAL_SEED = 1234  # latents and real subsets for evaluation; apart from the training streams


@dataclass(frozen=True)
class Evaluation:
    """The final evaluation of a run: its JSON report and pictures."""

    report: Path
    nearest: Path
    swd: float
    stamps: tuple[FileStamp, ...] = ()  # the report and picture as written: a cached result needs them intact


def real_subset(images: np.ndarray, count: int, seed: int = EVAL_SEED) -> np.ndarray:
    """A fixed random subset of the training images (all of them when there are fewer)."""
    count = min(count, len(images))
    pick = np.sort(np.random.default_rng(seed).choice(len(images), count, replace=False))
    return np.asarray(images[pick])


def generated(generator, count: int, dist: str = "normal", seed: int = EVAL_SEED) -> np.ndarray:
    """`count` uint8 images from fixed latents of the generator's input shape and distribution."""
    return images_from(generator, sample_latents(count, latent_shape(generator), seed, dist=dist))


def epoch_scores(real: np.ndarray, generator, dist: str = "normal") -> dict[str, float]:
    """The cheap per-epoch figures: SWD (mean over levels) and NDB/JS."""
    fake = generated(generator, len(real), dist)
    bins = ndb_js(real, fake, bins=min(20, max(2, len(real) // 10)))
    return {"swd": round(swd(real, fake)["mean"], 4), "ndb": bins["ndb"], "js": round(bins["js"], 5)}


def full_evaluation(
    generator,
    images: np.ndarray,
    count: int = FULL_SUBSET,
    inception_weights: Path | None = None,
    dist: str = "normal",
):
    """Every metric, on `count` real and generated images; returns (report, fake images, closest pairs)."""
    real = real_subset(images, count)
    fake = generated(generator, len(real), dist)
    copies = memorization(fake, images)
    report = {
        "images": len(real),
        "swd": swd(real, fake),
        "ndb": ndb_js(real, fake, bins=min(50, max(2, len(real) // 10))),
        "ms_ssim": diversity(real, fake) if len(real) > 1 else None,
        "memorization": {k: v for k, v in copies.items() if k != "closest"},
    }
    try:
        weights = find_weights(inception_weights)
    except FileNotFoundError as exc:
        raise UserError(f"--inception-weights: {exc}") from None
    if weights is None:
        report["fid"] = {"skipped": how_to_enable()}
        run_logger().info(how_to_enable())
    else:
        report["fid"] = fid_kid(real, fake, weights)
    return report, fake, copies["closest"]


def nearest_picture(fake: np.ndarray, train: np.ndarray, closest: list, path: Path) -> Path:
    """Generated images (top row) over their nearest training images (bottom row), 2x enlarged."""
    pairs = [np.concatenate([fake[f], np.asarray(train[t])], axis=0) for f, t, _ in closest]
    strip = np.concatenate([np.pad(p, ((2, 2), (2, 2), (0, 0))) for p in pairs], axis=1)
    return write_png(path, np.kron(strip, np.ones((2, 2, 1), np.uint8)))


def write_curves(rows: list[dict], path: Path) -> Path:
    """Losses and quality per epoch as a PNG.

    Drawn through matplotlib's object API on its Agg canvas: no display needed, and no global backend
    change (`matplotlib.use`) that would switch a notebook user's plots.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    epochs = [int(r["epoch"]) for r in rows]
    fig = Figure(figsize=(7, 5))
    FigureCanvasAgg(fig)
    ax_loss, ax_q = fig.subplots(2, 1, sharex=True)
    for key in ("d_loss", "g_loss"):
        ax_loss.plot(epochs, [float(r[key]) for r in rows], label=key)
    ax_loss.set_ylabel("loss")
    ax_loss.legend(loc="upper right")
    scored = [r for r in rows if r.get("swd") not in (None, "")]
    if scored:
        ax_q.plot([int(r["epoch"]) for r in scored], [float(r["swd"]) for r in scored], color="tab:green")
    ax_q.set_ylabel("SWD x1e3 (lower is better)")
    ax_q.set_xlabel("epoch")
    fig.tight_layout()
    with atomic_path(Path(path)) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return Path(path)


def evaluate_generator(
    generator,
    npy: Path,
    run_dir: Path,
    count: int = FULL_SUBSET,
    inception_weights: Path | None = None,
    name: str = "evaluation",
) -> Evaluation:
    """Full evaluation of `generator` against the training array; writes the report and the nearest pairs."""
    run = RunFolder(run_dir)
    images = np.load(npy, mmap_mode="r")
    dist = latent_distribution(run_dir)
    report, fake, closest = full_evaluation(generator, images, count, inception_weights, dist)
    nearest = nearest_picture(fake, images, closest, run.nearest)
    path = write_json(run.evaluation(name), report)
    return Evaluation(path, nearest, report["swd"]["mean"], stamps(path, nearest))


def evaluate_run(
    run_dir: Path, checkpoint: str | None = None, count: int = FULL_SUBSET, inception_weights: Path | None = None
) -> Evaluation:
    """`ganflow evaluate`: recompute every metric for a run folder or one of its checkpoints."""
    npy = Path(RunFolder(run_dir).read_summary()["dataset"]["npy"])
    if not npy.exists():
        raise UserError(f"the run's training data {npy} is gone; rerun `ganflow run` with the same options")
    generator = load_generator(run_dir, None, checkpoint)
    name = "evaluation" if checkpoint in (None, "final") else f"evaluation-{Path(checkpoint).name}"
    return evaluate_generator(generator, npy, run_dir, count, inception_weights, name)


@task(name="evaluate", task_run_name="evaluate[{run_dir.name}]", **step_options())
def evaluate(
    trained, npy: Path, run_dir: Path, count: int = FULL_SUBSET, inception_weights: Path | None = None
) -> Evaluation:
    """Prefect step: the final quality report of the run's generator.

    `trained` (the train step's result) is part of the cache key, so more training means a new report.
    """
    return evaluate_generator(load_generator(model=trained.generator), npy, run_dir, count, inception_weights)


@dataclass
class BestSoFar:
    """The lowest SWD seen and its epoch: a later epoch wins only by being strictly better."""

    epoch: int | None = None
    swd: float | None = None

    def offer(self, epoch: int, swd: float) -> bool:
        if self.swd is None or swd < self.swd:
            self.epoch, self.swd = epoch, swd
            return True
        return False
