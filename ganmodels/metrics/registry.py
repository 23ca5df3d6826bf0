"""The quality metrics by name: what each computes, the fields it writes, and which way is better.

Every list of metrics in ganflow comes from here: metrics.csv's columns and the TensorBoard scalars (the
per-epoch figures), evaluation.json (the full figures), the lines `ganflow evaluate` prints, and the
sweep report's columns. A metric is one module in this package that calls `register(Metric(...))` at
import; `metrics()` imports every module here first, so adding a metric is adding its file.

`Metric.order` places it in every list (SWD and the colour figure, which pick the best epoch, first).
A metric with `per_set` is computed for each real set (held-out, and training images beside them);
one with `once` is computed a single time per evaluation, from a `Sets`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ganmodels.plugins import Registry

Images = np.ndarray


@dataclass(frozen=True)
class Sets:
    """What a full evaluation scores: real images (held-out, else training), generated ones, the
    training images (a check for near-copies is always against those) and any local weights a metric reads."""

    real: Images
    fake: Images
    train: Images
    inception_weights: Path | None = None


@dataclass(frozen=True)
class SweepColumn:
    """One column of the sweep report's run table: its header, markdown alignment and cell text."""

    header: str
    align: str
    cell: Callable[[dict[str, Any]], str]


@dataclass(frozen=True)
class Metric:
    name: str  # its key in evaluation.json
    order: int  # its place in every list
    lower_is_better: bool
    columns: tuple[str, ...] = ()  # what `epoch` writes into metrics.csv, in this order
    scalars: tuple[str, ...] = ()  # of those, the ones TensorBoard plots
    # (real, fake, training images or None): the cheap per-epoch figures, keyed by `columns`
    epoch: Callable[[Images, Images, Images | None], dict[str, float]] | None = None
    per_set: Callable[[Images, Images], Any] | None = None  # the full figure of one real set
    once: Callable[[Sets], Any] | None = None  # the full figure, once per evaluation
    option: str | None = None  # the option whose file a FileNotFoundError from `once` is about
    pairs: str | None = None  # the key in its `once` entry of the closest (fake, train, distance) pairs: the
    # evaluate step's nearest-neighbour picture, taken out of evaluation.json
    lines: Callable[[Any], list[str]] = lambda entry: []  # `ganflow evaluate`'s lines for its entry
    brief: Callable[[Any], str] | None = None  # its part of one set's line ("against N images: ...")
    sweep: Callable[[Any, Any], dict[str, Any]] = lambda entry, train: {}  # sweep record fields
    sweep_columns: tuple[SweepColumn, ...] = ()
    table_fields: tuple[str, ...] = ()  # of the sweep record fields, those in the sweep's table artifact


_METRICS: Registry[Metric] = Registry("ganmodels.metrics", lambda m: m.name, lambda m: m.order)
register = _METRICS.register


def metrics() -> list[Metric]:
    """Every registered metric, by `order`, after importing each module of this package once."""
    return _METRICS.all()


def num(value: Any, digits: int = 2) -> str:
    """A report cell: '-' for nothing, floats to `digits` places, anything else as text."""
    return "-" if value is None else f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def epoch_columns() -> list[str]:
    """The quality columns of the metrics file, in order."""
    return [column for metric in metrics() for column in metric.columns]


def epoch_scalars() -> list[str]:
    """The per-epoch figures TensorBoard plots, in order."""
    return [scalar for metric in metrics() for scalar in metric.scalars]
