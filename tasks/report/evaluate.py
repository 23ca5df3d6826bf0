"""evaluate: quality figures that need no downloaded weights, during training and on demand.

Real images come from the held-out part of the data when the run holds one out (tasks/preprocess/split.py),
else from the training part. During training, every `--eval-every` epochs, each metric's per-epoch
figures (SWD, colour...) of a small fixed real subset against images from fixed latents go to the metrics,
curves and TensorBoard, and `BestSoFar` (SWD and colour together) decides the `best` checkpoint
(tasks/train/callbacks.py calls `epoch_scores` in tasks/quality.py, which this step shares). At the end
(and with `ganflow evaluate`), every metric of ganmodels/metrics/: the per-set ones against the held-out
images and, beside them, against training images; then those computed once per evaluation (diversity, the
check for near-copies of training images, whose closest pairs make the nearest-neighbour picture, and those
that need local weights).
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from prefect import task

from ganmodels.metrics.registry import Metric, Sets, metrics
from tasks.atomic import write_json
from tasks.caching import step_options
from tasks.disk_space import MB, space_for
from tasks.errors import UserError
from tasks.hashing import FileStamp, stamps
from tasks.pictures import write_png
from tasks.preprocess.split import Split
from tasks.preprocess.task import PreprocessedData
from tasks.progress import run_logger
from tasks.quality import FULL_SUBSET, generated, real_subset, set_figures
from tasks.report.evaluate_spec import EvaluateSpec
from tasks.report.generate import latent_distribution, load_generator
from tasks.run_folder import RunFolder


@dataclass(frozen=True)
class Evaluation:
    """The final evaluation of a run: its JSON report and pictures."""

    report: Path
    nearest: Path
    swd: float
    colour: float | None = None  # the colour figure (ganmodels/metrics/colour.py), against the same images
    stamps: tuple[FileStamp, ...] = ()  # the report and picture as written: a cached result needs them intact


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
    figures against training images stand beside them under "train". The check for near-copies is always
    against the training images.
    """
    main = held_out if held_out is not None else images
    real = real_subset(main, count)
    fake = generated(generator, len(real), dist)
    sets = Sets(real, fake, images, inception_weights)
    report = {"scored_against": "held-out" if held_out is not None else "training", **set_figures(real, fake)}
    for metric in metrics():
        if metric.once is not None:
            report[metric.name] = _once(metric, sets)
    if held_out is not None:
        report["train"] = set_figures(real_subset(images, len(fake)), fake)
    return report, fake, next(report[m.name].pop(m.pairs) for m in metrics() if m.pairs is not None)


def _once(metric: Metric, sets: Sets):
    """One metric's figure; a missing file it reads is the option's one-line error, a skip is logged."""
    try:
        entry = metric.once(sets)
    except FileNotFoundError as exc:
        if metric.option is None:
            raise
        raise UserError(f"{metric.option}: {exc}") from None
    if isinstance(entry, dict) and "skipped" in entry:
        run_logger().info(entry["skipped"])
    return entry


def side_by_side(report: dict) -> list[str]:
    """The headline figures as text lines: against held-out images and, beside them, training images."""
    sets = [(report.get("scored_against", "training"), report)]
    if report.get("train"):
        sets.append(("training", report["train"]))
    briefs = [m for m in metrics() if m.per_set is not None and m.brief is not None]
    return [
        f"against {figures['images']} {label} images: " + ", ".join(m.brief(figures[m.name]) for m in briefs)
        for label, figures in sets
    ]


def report_lines(report: dict) -> list[str]:
    """What `ganflow evaluate` prints: each per-set metric's lines, the sets side by side, then the rest."""
    def lines(per_set: bool) -> list[str]:
        chosen = [m for m in metrics() if (m.per_set is not None) == per_set and m.name in report]
        return [line for m in chosen for line in m.lines(report[m.name])]

    return lines(True) + side_by_side(report) + lines(False)


def nearest_picture(fake: np.ndarray, train: np.ndarray, closest: list, path: Path) -> Path:
    """Generated images (top row) over their nearest training images (bottom row), 2x enlarged."""
    pairs = [np.concatenate([fake[f], np.asarray(train[t])], axis=0) for f, t, _ in closest]
    strip = np.concatenate([np.pad(p, ((2, 2), (2, 2), (0, 0))) for p in pairs], axis=1)
    return write_png(path, np.kron(strip, np.ones((2, 2, 1), np.uint8)))


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


@task(name="evaluate", task_run_name="evaluate[{spec.run_dir.name}]", **step_options())
def evaluate(trained, data: PreprocessedData, spec: EvaluateSpec) -> Evaluation:
    """Prefect step: the final quality report of the run's generator, on the data it trained on.

    `trained` (the train step's result) is part of the cache key, so more training means a new report.
    """
    with space_for("--run-dir", spec.run_dir, "evaluating", lambda: MB):  # a report and a picture
        generator = load_generator(model=trained.generator)
        return evaluate_generator(generator, data.npy, spec.run_dir, spec.count, spec.inception_weights)
