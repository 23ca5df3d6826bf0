"""evaluate: quality figures that need no downloaded weights, during training and on demand.

Real images come from the held-out part of the data when the run holds one out (tasks/preprocess/split.py),
else from the training part. During training, every `--eval-every` epochs, the SWD, NDB/JS and colour
figures of a small fixed real subset against images from fixed latents go to the metrics, curves and
TensorBoard, and `BestSoFar` (SWD and colour together) decides the `best` checkpoint
(tasks/train/callbacks.py calls `epoch_scores`). At the end (and with `ganflow evaluate`), the full set:
SWD per level, NDB/JS and the colour figures against the held-out images and, beside them, the same
against training images; MS-SSIM diversity; the memorization check (always against the training part)
with its nearest-neighbour picture; and FID/KID when InceptionV3 weights are on disk.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from prefect import task

from ganmodels.latents import sample_latents
from ganmodels.metrics.colour import colour_distance, mean_colours, spread
from ganmodels.metrics.fid import fid_kid, find_weights, how_to_enable
from ganmodels.metrics.histogram import histogram_distance
from ganmodels.metrics.memorization import memorization
from ganmodels.metrics.ms_ssim import diversity
from ganmodels.metrics.ndb import ndb_js
from ganmodels.metrics.swd import swd
from tasks.atomic import atomic_path, write_json
from tasks.caching import step_options
from tasks.disk_space import MB, space_for
from tasks.errors import UserError
from tasks.hashing import FileStamp, stamps
from tasks.preprocess.split import Split
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
    colour: float | None = None  # the colour figure (ganmodels/metrics/colour.py), against the same images
    stamps: tuple[FileStamp, ...] = ()  # the report and picture as written: a cached result needs them intact


def real_subset(images: np.ndarray, count: int, seed: int = EVAL_SEED) -> np.ndarray:
    """A fixed random subset of real images (all of them when there are fewer)."""
    count = min(count, len(images))
    pick = np.sort(np.random.default_rng(seed).choice(len(images), count, replace=False))
    return np.asarray(images[pick])


def generated(generator, count: int, dist: str = "normal", seed: int = EVAL_SEED) -> np.ndarray:
    """`count` uint8 images from fixed latents of the generator's input shape and distribution."""
    return images_from(generator, sample_latents(count, latent_shape(generator), seed, dist=dist))


def colour_scores(real: np.ndarray, fake: np.ndarray) -> dict[str, float]:
    """The colour figure, the colour-histogram distance, and both sets' colour spread (0..255)."""
    real_means, fake_means = mean_colours(real), mean_colours(fake)
    return {
        "figure": colour_distance(real_means, fake_means),
        "histogram": histogram_distance(real, fake),
        "spread_real": spread(real_means),
        "spread_fake": spread(fake_means),
    }


def epoch_scores(
    real: np.ndarray, generator, dist: str = "normal", train: np.ndarray | None = None
) -> dict[str, float]:
    """The cheap per-epoch figures: SWD (mean over levels), NDB/JS and the colour figures against `real`;
    with `train` (training images, when `real` are held-out ones) the colour figure against those too."""
    fake = generated(generator, len(real), dist)
    bins = ndb_js(real, fake, bins=min(20, max(2, len(real) // 10)))
    colour = colour_scores(real, fake)
    scores = {
        "swd": round(swd(real, fake)["mean"], 4),
        "ndb": bins["ndb"],
        "js": round(bins["js"], 5),
        "colour": round(colour["figure"], 4),
        "hist": round(colour["histogram"], 5),
        "spread_real": round(colour["spread_real"], 3),
        "spread_fake": round(colour["spread_fake"], 3),
    }
    if train is not None:
        scores["colour_train"] = round(colour_distance(mean_colours(train), mean_colours(fake)), 4)
    return scores


def set_figures(real: np.ndarray, fake: np.ndarray) -> dict:
    """SWD per level, NDB/JS and the colour figures of one real set against the generated images."""
    return {
        "images": len(real),
        "swd": swd(real, fake),
        "ndb": ndb_js(real, fake, bins=min(50, max(2, len(real) // 10))),
        "colour": colour_scores(real, fake),
    }


def full_evaluation(
    generator,
    images: np.ndarray,
    count: int = FULL_SUBSET,
    inception_weights: Path | None = None,
    dist: str = "normal",
    held_out: np.ndarray | None = None,
):
    """Every metric on `count` real and generated images; returns (report, fake images, closest pairs).

    `images` are the training images; with `held_out`, the main figures are against those, and the same
    figures against training images stand beside them under "train". Memorization is always against
    the training images.
    """
    main = held_out if held_out is not None else images
    real = real_subset(main, count)
    fake = generated(generator, len(real), dist)
    copies = memorization(fake, images)
    report = {
        "scored_against": "held-out" if held_out is not None else "training",
        **set_figures(real, fake),
        "ms_ssim": diversity(real, fake) if len(real) > 1 else None,
        "memorization": {k: v for k, v in copies.items() if k != "closest"},
    }
    if held_out is not None:
        report["train"] = set_figures(real_subset(images, len(fake)), fake)
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


def side_by_side(report: dict) -> list[str]:
    """The headline figures as text lines: against held-out images and, beside them, training images."""
    sets = [(report.get("scored_against", "training"), report)]
    if report.get("train"):
        sets.append(("training", report["train"]))
    lines = []
    for label, figures in sets:
        colour, bins = figures["colour"], figures["ndb"]
        lines.append(
            f"against {figures['images']} {label} images: SWD x1e3 {figures['swd']['mean']:.2f}, "
            f"colour {colour['figure']:.2f} (spread generated {colour['spread_fake']:.1f}, real "
            f"{colour['spread_real']:.1f}), histogram {colour['histogram']:.3f}, "
            f"NDB {bins['ndb']}/{bins['bins']}, JS {bins['js']:.4f}"
        )
    return lines


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
    coloured = [r for r in scored if r.get("colour") not in (None, "")]
    if coloured:  # the colour figure, on its own scale (0..255 units)
        ax_c = ax_q.twinx()
        ax_c.plot([int(r["epoch"]) for r in coloured], [float(r["colour"]) for r in coloured], color="tab:purple")
        ax_c.set_ylabel("colour figure (0..255)", color="tab:purple")
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
    """Full evaluation of `generator` on the run's data, split as training split it (the run folder's
    record); writes the report and the nearest pairs."""
    run = RunFolder(run_dir)
    array = np.load(npy, mmap_mode="r")
    split = Split.from_record((run.recorded_data() or {}).get("holdout"), len(array))
    if split.total != len(array):
        raise UserError(
            f"{npy} holds {len(array)} images but the run in {run_dir} split {split.total}; evaluate with the "
            "data the run trained on"
        )
    images, held_out = split.training(array), split.held_out_images(array)
    dist = latent_distribution(run_dir)
    report, fake, closest = full_evaluation(generator, images, count, inception_weights, dist, held_out)
    report["split"] = split.record()
    nearest = nearest_picture(fake, images, closest, run.nearest)
    path = write_json(run.evaluation(name), report)
    return Evaluation(path, nearest, report["swd"]["mean"], report["colour"]["figure"], stamps(path, nearest))


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
    with space_for("--run-dir", run_dir, "evaluating", lambda: MB):  # a report and a picture
        return evaluate_generator(load_generator(model=trained.generator), npy, run_dir, count, inception_weights)


@dataclass
class BestSoFar:
    """The best-checkpoint rule, the one place it is decided: the lowest score wins, strictly.

    score = SWD / SWD_ref + colour / colour_ref, where the references are the first evaluation's figures
    (floored at REF_FLOOR, so a lucky first figure near 0 cannot make one term dominate). SWD normalises
    colours away, so an epoch whose colours collapsed can have the lowest SWD; its colour figure then
    grows and it loses to a colourful epoch of similar SWD. A record from before the colour figure (only
    epoch and SWD) keeps its epoch: the references become its SWD and the first colour figure offered,
    and its own colour counts as that reference (score 2).
    """

    epoch: int | None = None
    swd: float | None = None
    colour: float | None = None
    score: float | None = None
    swd_ref: float | None = None
    colour_ref: float | None = None

    REF_FLOOR = 1e-3

    def score_of(self, swd: float, colour: float) -> float:
        swd_ref, colour_ref = max(self.swd_ref, self.REF_FLOOR), max(self.colour_ref, self.REF_FLOOR)
        return swd / swd_ref + colour / colour_ref

    def offer(self, epoch: int, swd: float, colour: float) -> bool:
        """Take this evaluation if it scores better than the best so far; True when it does."""
        if self.swd_ref is None:
            self.swd_ref = self.swd if self.swd is not None else swd
        if self.colour_ref is None:
            self.colour_ref = colour
        if self.epoch is not None and self.score is None:  # a record from before the colour figure
            self.score = self.score_of(self.swd, self.colour_ref)
        score = self.score_of(swd, colour)
        if self.score is None or score < self.score:
            self.epoch, self.swd, self.colour, self.score = epoch, swd, colour, score
            return True
        return False

    def record(self) -> dict[str, float | int | None]:
        """What checkpoints/best/best.json keeps, so a resumed run goes on with the same rule and references."""
        return {k: getattr(self, k) for k in ("epoch", "swd", "colour", "score", "swd_ref", "colour_ref")}
