"""How to train, kept apart from tasks/train/task.py so the CLI can validate options without importing TensorFlow."""

from dataclasses import dataclass

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
