"""Prefect cache policy shared by the steps: keyed by inputs and code, valid only while outputs exist.

Prefect's default policy includes the run id, so nothing would be reused across runs. Ours keys on
the task's inputs and source. A cached result that names a file which has since been deleted is not
reused: the step runs again and writes the file at the same path, after which the record is valid again.
"""

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect.cache_policies import INPUTS, TASK_SOURCE, CachePolicy

STATE_DIR = Path(os.environ.get("GANFLOW_STATE_DIR", ".ganflow")).resolve()
RESULT_STORAGE = STATE_DIR / "results"


def output_paths(value: Any) -> list[Path]:
    """Every Path inside a task result: dataclass fields, dicts, lists and tuples, recursively."""
    if isinstance(value, Path):
        return [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = [getattr(value, f.name) for f in dataclasses.fields(value)]
    elif isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list | tuple):
        return [p for item in value for p in output_paths(item)]
    return []


@dataclass
class OutputsExist(CachePolicy):
    """Wraps a key policy: no cache hit while a file named by the cached result is missing."""

    base: CachePolicy = dataclasses.field(default_factory=lambda: INPUTS + TASK_SOURCE)

    def compute_key(self, task_ctx, inputs, flow_parameters, **kwargs) -> str | None:
        key = self.base.compute_key(task_ctx=task_ctx, inputs=inputs, flow_parameters=flow_parameters, **kwargs)
        store = getattr(task_ctx, "result_store", None)
        if key and store is not None and store.exists(key):
            cached = store.read(key).result
            if not all(p.exists() for p in output_paths(cached)):
                return None  # run uncached; the rewritten files make the old record valid again
        return key


def step_options(**overrides: Any) -> dict[str, Any]:
    """The decorator policy every pipeline task shares; pass overrides such as `retries`."""
    from tasks.errors import is_retryable

    options: dict[str, Any] = {
        "cache_policy": OutputsExist(),
        "persist_result": True,
        "result_storage": RESULT_STORAGE,
        "retries": 1,
        "retry_delay_seconds": 2,
        "retry_condition_fn": is_retryable,
    }
    options.update(overrides)
    return options
