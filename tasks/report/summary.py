"""What one run did, on which data, and where its outputs are: summary.json's content, from the step results.

The flow hands over what its steps returned (`StepResults`); `summarize` picks the fields a reader of
summary.json (and the Prefect summary artifact, tasks/report/artifacts.py) needs, as plain values with every
URL redacted. tasks/run_folder.py writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tasks.run_folder import RunFolder, summary_record

if TYPE_CHECKING:  # the step results' types only: training and evaluation import Keras, whose backend the flow picks
    from tasks.acquire.task import AcquiredImages
    from tasks.preprocess.task import PreprocessedData
    from tasks.progress_gif import ProgressGif
    from tasks.report.evaluate import Evaluation
    from tasks.train.task import TrainedModel


@dataclass(frozen=True)
class StepResults:
    """What the five steps of one run returned, and how each went."""

    images: AcquiredImages
    data: PreprocessedData
    model: TrainedModel
    gif: ProgressGif
    quality: Evaluation
    log: dict[str, dict[str, Any]]  # step name -> {"state": its final state's name, "seconds": its wall time}
    steps_trained: int  # in this run: 0 when training was cached or had nothing left to do
    note: str = ""  # why nothing was trained, when the run folder had already reached --epochs


def summarize(options: dict[str, Any], run: RunFolder, results: StepResults) -> dict[str, Any]:
    """The run's summary (its file: RunFolder.summary): its `options` as validated, then what its steps did and made."""
    images, data, model, quality = results.images, results.data, results.model, results.quality
    return summary_record(
        params=options,
        dataset={
            "count": data.count,
            "skipped": data.skipped,
            "skipped_by_reason": data.skipped_by_reason,
            "npy": data.npy,
            "manifest": data.manifest,
            "sha256": data.sha256,
            "source": images.identity,
            "holdout": model.split,
        },
        training={
            "epochs": model.epochs,
            "total_steps": model.steps,
            "steps_this_run": results.steps_trained,
            "runtime": model.runtime,
            "extra_updates": model.extra_updates,
            "stopped": model.stopped,
            "note": results.note,
        },
        quality={
            "best_epoch": model.best_epoch,
            "swd": quality.swd,
            "colour": quality.colour,
            "report": quality.report,
        },
        steps=results.log,
        outputs={
            "gif": results.gif.path,
            "generator": model.generator,
            "samples": model.samples,
            "metrics": model.metrics,
            "checkpoints": model.checkpoints,
            "generator_last": model.generator_last,
            "curves": model.curves,
            "nearest": quality.nearest,
            "tensorboard": run.tensorboard,
        },
    )
