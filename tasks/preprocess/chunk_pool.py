"""Preprocess chunks of files on every core, results back in order.

A chunk is a few hundred files: big enough that a worker's result (a few hundred small uint8 images)
costs little to send back, small enough to balance the cores and bound memory. The consumer gets
results in chunk order, so it can stream them into one file; at most `2 * workers` chunks are in
flight, so memory does not grow with the dataset. This module does not import Prefect: the workers
import it, and start in a fraction of a second.
"""

import contextlib
import multiprocessing
import os
import sys
import threading
import types
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from multiprocessing.connection import Connection

import cv2
import numpy as np

from tasks.preprocess.image_decode import DecodeSettings, Unusable, content_digest, prepare_bytes, read_file
from tasks.preprocess.npy_writer import write_rows

CHUNK_SIZE = 256
START_METHOD = "forkserver"  # clean single-threaded parent for the workers; see docs/performance.md "Preprocessing"
_MAIN_SWAP = threading.Lock()  # two pools starting at once on two threads must not interleave the swap


@dataclass
class ChunkResult:
    """One chunk's images (kept files only, in order) and why the others were skipped."""

    index: int
    images: np.ndarray | None  # (kept, size, size, channels) uint8; None once written to the chunk's slot
    kept: int = 0  # rows: len(images), also when they went to the slot instead
    skipped: list[tuple[int, str, str]] = field(default_factory=list)  # (position in chunk, reason, detail)
    digests: list[str] = field(default_factory=list)  # content hash per kept image, when asked for
    crc32: int = 0  # of the rows, for the journal; computed here, in parallel, not by the writing process

    def kept_positions(self, chunk_len: int) -> list[int]:
        gone = {pos for pos, _, _ in self.skipped}
        return [pos for pos in range(chunk_len) if pos not in gone]


@dataclass(frozen=True)
class RowSlot:
    """Where in the output file a chunk's rows go, when the worker writes them itself."""

    path: str
    offset: int  # bytes


def process_chunk(
    index: int, paths: Sequence[str], settings: DecodeSettings, digests: bool = False, slot: RowSlot | None = None
) -> ChunkResult:
    """Prepare every file of one chunk; a bad file becomes a skipped entry, never an exception.

    With a `slot`, the rows are written there and only the rest comes back: sending 256 images
    through a pipe to the writing process cost more than the writing.
    """
    out = np.empty((len(paths), settings.size, settings.size, settings.channels), np.uint8)
    result, kept = ChunkResult(index, out), 0
    for pos, path in enumerate(paths):
        try:
            raw = read_file(path, settings.max_bytes)
            prepare_bytes(raw, settings, out[kept])
        except Unusable as exc:
            result.skipped.append((pos, exc.reason, exc.detail))
            continue
        except Exception as exc:  # a decoder's own error on a hostile file must not stop the run
            result.skipped.append((pos, "decoder error", f"{type(exc).__name__}: {exc}"[:300]))
            continue
        if digests:
            result.digests.append(content_digest(raw))
        kept += 1
    rows = out[:kept]
    result.kept, result.crc32 = kept, zlib.crc32(rows)
    if slot is None:
        result.images = rows.copy() if kept < len(paths) else out
    else:
        write_rows(slot.path, slot.offset, rows)
        result.images = None
    return result


def worker_count(requested: int = 0) -> int:
    """`requested`, or every core this process may use when 0."""
    if requested > 0:
        return requested
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS
        return os.cpu_count() or 1


def quiet_opencv() -> int:
    """No OpenCV warnings for each bad file (the manifest records them); returns the previous level."""
    return cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


def _start_worker(owner_alive: Connection, owner_end: Connection) -> None:
    """Worker set-up: one OpenCV thread (the pool is the parallelism), quiet, and gone with its owner."""
    owner_end.close()  # only the owner may hold this end, or its death would go unnoticed
    cv2.setNumThreads(1)
    quiet_opencv()
    threading.Thread(target=_exit_with_owner, args=(owner_alive,), daemon=True).start()


def _exit_with_owner(owner_alive: Connection) -> None:
    """Nothing is ever sent on this pipe: `recv` returns only when the owning process is gone.

    Without this, workers of a process killed with kill -9 (which runs no clean-up) would wait for
    work forever, and keep the forkserver alive too.
    """
    with contextlib.suppress(EOFError, OSError):
        owner_alive.recv()
    os._exit(1)


def _context() -> multiprocessing.context.BaseContext:
    context = multiprocessing.get_context(START_METHOD)
    if START_METHOD == "forkserver":
        context.set_forkserver_preload(["tasks.preprocess.chunk_pool"])  # imported once, inherited by every worker
    return context


@contextlib.contextmanager
def _main_module_hidden() -> Iterator[None]:
    """Start workers without re-importing the main script in each of them.

    A forkserver or spawn worker runs the parent's `__main__` again before its first job; under the
    `ganflow` command that imports Prefect, seconds per worker. The workers only need this module,
    so while they start, `__main__` is a bare stand-in with nothing to re-import.
    """
    with _MAIN_SWAP:
        real = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            sys.modules["__main__"] = real


def map_in_order(fn: Callable, jobs: Iterable[tuple], workers: int) -> Iterator:
    """`fn(*job)` for each job, yielded in job order, computed by `workers` processes (in-process for 1)."""
    with WorkerPool(workers) as pool:
        yield from pool.map_in_order(fn, jobs)


class WorkerPool:
    """`workers` processes (this process alone for 1), started at once, so they boot while the caller
    goes on with its own work (listing the folder), and gone when the owner is."""

    def __init__(self, workers: int):
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        if workers <= 1:
            return
        context = _context()
        self._owner_alive, self._owner_end = context.Pipe(duplex=False)
        initargs = (self._owner_alive, self._owner_end)
        self._pool = ProcessPoolExecutor(workers, context, initializer=_start_worker, initargs=initargs)
        # Starting a worker blocks for a few milliseconds each; a thread does it while the caller goes on.
        self._starting = threading.Thread(target=self._start_all, name="ganflow-pool-start", daemon=True)
        self._starting.start()

    def _start_all(self) -> None:
        with _main_module_hidden():  # each submit starts one more worker until there are `workers`
            for _ in range(self.workers):
                self._pool.submit(_ready)

    def map_in_order(self, fn: Callable, jobs: Iterable[tuple]) -> Iterator:
        """`fn(*job)` for each job, yielded in job order, with at most two jobs per worker in flight."""
        if self._pool is None:
            level = quiet_opencv()
            try:
                yield from (fn(*job) for job in jobs)
            finally:
                cv2.utils.logging.setLogLevel(level)
            return
        self._starting.join()
        jobs = iter(jobs)
        with _main_module_hidden():  # a submit can still start a worker (if one finished `_ready` first)
            pending: deque[Future] = deque(self._pool.submit(fn, *job) for job in islice(jobs, 2 * self.workers))
        while pending:
            result = pending.popleft().result()
            for job in islice(jobs, 1):
                pending.append(self._pool.submit(fn, *job))
            yield result

    def close(self) -> None:
        if self._pool is not None:
            self._starting.join()
            # The workers finish exiting on their own; nothing of ours waits for them.
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._owner_alive.close()
            self._owner_end.close()
            self._pool = None

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _ready() -> None:
    """A first job for each worker, so that all of them start now."""
