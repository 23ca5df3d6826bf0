"""What the evaluate step is told, apart from the step itself: the flow builds it before Keras' backend is chosen,
so this module imports no Keras (tasks/report/evaluate.py does)."""

from dataclasses import dataclass
from pathlib import Path

from tasks.quality import FULL_SUBSET


@dataclass(frozen=True)
class EvaluateSpec:
    """The final report's run folder, size and InceptionV3 weights: built once from the options (flows/specs.py)."""

    run_dir: Path
    count: int = FULL_SUBSET
    inception_weights: Path | None = None
