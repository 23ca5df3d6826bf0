"""How to train, kept apart from tasks/train/task.py so the CLI can validate options without importing TensorFlow."""

from dataclasses import dataclass, replace
from pathlib import Path

from ganmodels.config import GanConfig
from tasks.preprocess.split import DEFAULT_HOLDOUT


@dataclass(frozen=True)
class TrainOptions:
    """How to train, as opposed to what (GanConfig): none of these change the model's shape."""

    epochs: int
    checkpoint_every: int | None = None  # steps; None: each epoch and every CHECKPOINT_SECONDS
    keep_checkpoints: int = 3
    restart: bool = False
    precision: str = "auto"
    jit: str = "auto"
    threads: int | None = None
    deterministic: str = "auto"
    devices: int | None = None
    backend: str | None = None  # the Keras backend; None: the one chosen for this process (ganmodels/backend.py)
    eval_every: int = 1  # epochs between quality evaluations; 0 turns them off
    max_minutes: float | None = None  # stop at the first step boundary after this much training in this call
    holdout: float = DEFAULT_HOLDOUT  # share of the images never trained on (tasks/preprocess/split.py); 0: none


@dataclass(frozen=True)
class TrainSpec:
    """What the train step trains, how, and in which run folder: built once from the run's options
    (flows/specs.py). `more_epochs` (--more-epochs) asks for that many epochs past the folder's, which only
    the flow run can count (`for_epochs`)."""

    config: GanConfig
    options: TrainOptions
    run_dir: Path
    more_epochs: int | None = None

    def for_epochs(self, epochs: int) -> "TrainSpec":
        """This spec training up to `epochs` in total (what --more-epochs came to for this flow run)."""
        return replace(self, options=replace(self.options, epochs=epochs))
