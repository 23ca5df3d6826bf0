"""Where preprocessing chunks run: in the flow's own process, or on a Dask cluster through prefect-dask.

Both yield the prepared chunks in chunk order, so the cached array is byte-identical wherever they ran.
On Dask each chunk is a Prefect task run (visible in the UI) executed by a Dask worker; the cluster is a
new local one (one worker per core) unless an existing scheduler's address is given.
"""

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from tasks.errors import UserError

TASK_RUNNERS = ("default", "dask")  # --task-runner's choices


@dataclass(frozen=True)
class ChunkRunner:
    """Where preprocess's chunks run: the output is the same wherever, so this is no part of its cache key."""

    workers: int = 0  # local processes; 0: every core, once the job repays starting them
    task_runner: str = "default"  # one of TASK_RUNNERS
    dask_address: str | None = None  # an existing cluster's scheduler, with "dask"; None: a new local one
# Loopback only; the dashboard (when bokeh is installed) at its usual port, or the next free one.
LOCAL_CLUSTER = {"host": "127.0.0.1", "threads_per_worker": 1, "processes": True, "dashboard_address": "127.0.0.1:8787"}
CONNECT_TIMEOUT = "20s"


@contextlib.contextmanager
def chunk_map(task_runner: str = "default", dask_address: str | None = None) -> Iterator[Callable | None]:
    """The chunk mapper for `--task-runner` (None: preprocess's own process pool); a Dask cluster it
    started is shut down on exit."""
    if task_runner == "default":
        yield None
        return
    with _dask_runner(dask_address) as runner:
        yield partial(_map_on_dask, runner)


@contextlib.contextmanager
def _dask_runner(address: str | None):
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError:
        raise UserError("--task-runner dask needs prefect-dask: pip install 'ganflow[dask]'") from None
    if address:
        runner = DaskTaskRunner(address=address, client_kwargs={"timeout": CONNECT_TIMEOUT})
    else:
        runner = DaskTaskRunner(cluster_kwargs=LOCAL_CLUSTER)
    with runner:
        try:
            runner.client  # noqa: B018 - connects (or starts the local cluster) now, to report a bad address early
        except OSError as exc:
            raise UserError(f"--dask-address: cannot reach the Dask scheduler at {address}: {exc}") from None
        yield runner


def _chunk_run_name(parameters: dict[str, Any]) -> str:
    paths = parameters["paths"]
    return f"preprocess-chunk[{Path(paths[0]).name}..{Path(paths[-1]).name}: {len(paths)} files]"


def _map_on_dask(runner, process: Callable, jobs: Iterable[tuple]) -> Iterator:
    """Each (index, paths, settings, dedupe, slot) job as a Prefect task run on the cluster; results in job order.

    The rows come back to be written here (no slot): a cluster's workers need not share this disk.
    """
    from prefect import task, unmapped
    from prefect.cache_policies import NO_CACHE

    jobs = list(jobs)
    if not jobs:
        return
    # Results travel back through Dask in memory; the whole step's output is what gets cached.
    chunk_task = task(
        process,
        name="preprocess-chunk",
        task_run_name=_chunk_run_name,
        cache_policy=NO_CACHE,
        persist_result=False,
        retries=1,
    )
    indices, paths, settings, dedupe, _slots = zip(*jobs, strict=True)
    parameters = {
        "index": list(indices),
        "paths": list(paths),
        "settings": unmapped(settings[0]),
        "digests": unmapped(dedupe[0]),
    }
    for future in runner.map(chunk_task, parameters):
        yield future.result()
