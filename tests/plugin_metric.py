"""A metric registered from this one file, as a user would add one: the mean brightness gap (0..255)."""

import numpy as np

from ganmodels.metrics.registry import Metric, SweepColumn, num, register


def brightness_gap(real: np.ndarray, fake: np.ndarray) -> float:
    return float(abs(np.asarray(real, np.float64).mean() - np.asarray(fake, np.float64).mean()))


BRIGHTNESS = register(
    Metric(
        "brightness",
        order=90,
        lower_is_better=True,
        columns=("brightness",),
        scalars=("brightness",),
        epoch=lambda real, fake, train: {"brightness": round(brightness_gap(real, fake), 3)},
        per_set=lambda real, fake: {"gap": brightness_gap(real, fake)},
        lines=lambda entry: [f"Brightness gap: {entry['gap']:.2f}"],
        brief=lambda entry: f"brightness {entry['gap']:.2f}",
        sweep=lambda entry, train: {"brightness": (entry or {}).get("gap")},
        sweep_columns=(SweepColumn("brightness gap", "---:", lambda c: num(c.get("brightness"))),),
        table_fields=("brightness",),
    )
)
