"""preprocess: decode, crop and resize every image on all cores, streamed into one cached uint8 `.npy`.

The cache lives under `data-dir/<source>-<size>px-c<channels>-<crop>-<key>/`, where the key hashes the
source identity and every preprocessing parameter, so runs that share both share the work. Chunks of
files are prepared in worker processes (`tasks/preprocess/chunk_pool.py`) and their rows written in file order
into a memory-mapped `.npy` (`tasks/preprocess/npy_writer.py`), so memory stays flat. A journal of finished
chunks (`tasks/preprocess/chunk_journal.py`) lets a killed run resume; the manifest is written last, so its
presence means the cache is complete. A file that cannot be used is skipped and recorded in the
manifest with its reason; it never stops the run.
"""

import contextlib
import fcntl
import hashlib
import json
import os
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from prefect import task
from prefect.cache_policies import INPUTS, CachePolicy
from rich.progress import ProgressColumn
from rich.text import Text

from tasks.acquire.task import AcquiredImages, list_image_names
from tasks.atomic import write_json
from tasks.caching import OutputsExist, key_policy, step_options
from tasks.disk_space import MB, space_for
from tasks.errors import UserError
from tasks.preprocess import manifest
from tasks.preprocess.chunk_journal import ChunkJournal
from tasks.preprocess.chunk_pool import CHUNK_SIZE, ChunkResult, RowSlot, WorkerPool, process_chunk, worker_count
from tasks.preprocess.chunk_runners import ChunkRunner, chunk_map
from tasks.preprocess.crops import CROPS
from tasks.preprocess.image_decode import DEFAULT_MAX_PIXELS, DEFAULT_MIN_SIDE, DecodeSettings
from tasks.preprocess.npy_writer import NpyRowWriter
from tasks.progress import Throttled, progress_bar, run_logger

# Runs `process_chunk` over (index, paths, settings, dedupe, slot) jobs elsewhere, yielding results in job order.
ChunkMap = Callable[[Callable[..., ChunkResult], Iterable[tuple]], Iterator[ChunkResult]]

FORMAT_VERSION = 2  # bump when the output for the same inputs changes
POOL_MIN_FILES = 4096  # below this, starting worker processes (~0.3 s) costs about what they save on 2 cores
SKIPS_LOGGED = 10  # per-file warnings; the rest are counted, and all are in the manifest


@dataclass(frozen=True)
class PreprocessedData:
    """The cached array and what it holds."""

    npy: Path
    manifest: Path
    count: int
    skipped: int
    sha256: str
    skipped_by_reason: dict[str, int] = field(default_factory=dict)

    def cache_problem(self) -> str | None:
        """Why this cached result must not be reused (its array differs from the manifest), or None."""
        record = manifest.read_manifest(self.manifest)
        if record is None or record.get("sha256") != self.sha256:
            return "its manifest is gone or names other bytes"
        return manifest.problem(self.npy, record)


@dataclass(frozen=True)
class PreprocessSpec:
    """What preprocess makes of the acquired images, where it keeps it, and where its chunks run: built once
    from the run's options (flows/specs.py)."""

    settings: DecodeSettings
    data_dir: Path
    dedupe: bool = False
    runner: ChunkRunner = ChunkRunner()  # noqa: RUF009 - frozen


@dataclass
class _WhatIsMade(CachePolicy):
    """preprocess's inputs as its cache key sees them: the acquired images and the spec, less its `runner`
    (where the chunks run changes no byte of the output)."""

    def compute_key(self, task_ctx, inputs, flow_parameters, **kwargs) -> str | None:
        spec = inputs.get("spec")
        made = {**inputs, "spec": replace(spec, runner=ChunkRunner())} if spec is not None else inputs
        return INPUTS.compute_key(task_ctx=task_ctx, inputs=made, flow_parameters=flow_parameters, **kwargs)


def cache_key(identity: str, settings: DecodeSettings, dedupe: bool = False) -> str:
    """Same source and same parameters, same key: the cache is shared, anything else gets its own."""
    s = settings
    blob = json.dumps([identity, s.size, s.channels, s.crop, s.min_side, s.max_pixels, dedupe, FORMAT_VERSION])
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def preprocess_images(
    acquired: AcquiredImages,
    size: int,
    channels: int,
    crop: str = "center",
    data_dir: Path = Path("data"),
    *,
    dedupe: bool = False,
    min_side: int = DEFAULT_MIN_SIDE,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    workers: int = 0,
    chunk_size: int = CHUNK_SIZE,
    map_chunks: ChunkMap | None = None,
) -> PreprocessedData:
    """Build (or reuse, or finish) the uint8 cache of `acquired` at `size` px with `channels` channels.

    `workers`: processes (0: every core, once the job is big enough to repay starting them).
    `chunk_size`: files per unit of work; it changes neither the output nor the cache key.
    `map_chunks`: run the chunks elsewhere (a Dask cluster, tasks/preprocess/chunk_runners.py) instead of the local
    pool; the bytes written are the same wherever they ran.
    """
    if crop not in CROPS:
        raise UserError(f"--crop: unknown crop {crop!r}; choose from {', '.join(CROPS)}")
    settings = DecodeSettings(size, channels, crop, min_side, max_pixels)
    key = cache_key(acquired.identity, settings, dedupe)
    out_dir = Path(data_dir) / f"{acquired.source.name}-{size}px-c{channels}-{crop}-{key}"
    manifest_path = out_dir / manifest.MANIFEST_NAME
    if cached := read_cache(manifest_path):
        return cached
    out_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive(out_dir / ".lock"):
        if cached := read_cache(manifest_path, warn=False):  # another process finished it while we waited
            return cached
        manifest.discard(manifest_path)  # a damaged cache (or none): build it again
        _remove_stale_temporaries(out_dir)
        pool_size = 1 if map_chunks else _pool_size(workers, acquired.num_files, chunk_size)
        with WorkerPool(pool_size) as pool:  # the workers start while the folder is listed
            build = _CacheBuild(acquired, settings, dedupe, chunk_size, out_dir)
            build.run(map_chunks or pool.map_in_order, in_place=pool.workers > 1)  # 1 with map_chunks
        return build.finish()


def read_cache(manifest_path: Path, warn: bool = True) -> PreprocessedData | None:
    """A finished, intact cache, or None: the manifest is written last, so its presence means complete, and
    the array's size and sha256 must match it (a damaged one is one warning line, then rebuilt)."""
    try:
        m = manifest.verified(manifest_path, warn=warn)
        if m is None:
            return None
        npy = manifest.array_path(manifest_path, m)
        by_reason = dict(m.get("skipped_by_reason", {}))
        return PreprocessedData(npy, manifest_path, m["count"], len(m["skipped"]), m["sha256"], by_reason)
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """One builder per cache folder; the kernel releases the lock when its holder dies, even by kill -9."""
    with open(lock_path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


class _Tally:
    """What the finished chunks say: rows kept (by file name), files skipped and why, contents seen."""

    def __init__(self, root: str, names: list[str], dedupe: bool, chunk_size: int):
        self.names, self.dedupe, self.chunk_size = names, dedupe, chunk_size
        self.prefix = os.path.join(root, "")
        self.kept: list[str] = []
        self.skipped: list[dict[str, str]] = []
        self.seen: dict[str, str] = {}  # content digest -> first file with it

    def accept(self, result: ChunkResult, images: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        """The rows to write for a fresh chunk (its `images`, duplicates dropped), and its journal record."""
        start = result.index * self.chunk_size
        positions = result.kept_positions(min(self.chunk_size, len(self.names) - start))
        skipped, rows, digests, fresh = list(result.skipped), [], [], {}
        for row, pos in enumerate(positions):
            if self.dedupe:
                digest = result.digests[row]
                if first := self.seen.get(digest) or fresh.get(digest):
                    skipped.append((pos, "duplicate", f"same bytes as {first}"))
                    continue
                fresh[digest] = self.names[start + pos]
                digests.append(digest)
            rows.append(row)
        record = {"chunk": result.index, "skipped": sorted(skipped), "digests": digests}
        if len(rows) == len(images):
            record["crc32"] = result.crc32
        else:
            images = images[rows]
            record["crc32"] = zlib.crc32(images)
        return images, record

    def replay(self, record: dict[str, Any]) -> None:
        """Take in one finished chunk's record (fresh, or from the journal of a killed run)."""
        start = record["chunk"] * self.chunk_size
        gone = {pos for pos, _, _ in record["skipped"]}
        span = range(start, min(start + self.chunk_size, len(self.names)))
        kept = [self.names[i] for i in span if i - start not in gone] if gone else self.names[span.start : span.stop]
        self.kept.extend(kept)
        for pos, reason, detail in record["skipped"]:
            entry = {"file": self.path(start + pos), "reason": reason}
            self.skipped.append(entry | ({"detail": detail} if detail else {}))
        if self.dedupe:
            self.seen.update(zip(record["digests"], kept, strict=True))

    def path(self, i: int) -> str:
        """The full path of file `i`, as workers open it and the manifest names it."""
        return self.prefix + self.names[i]


def _resume(journal: ChunkJournal, partial: Path, capacity: int, row_shape: tuple[int, ...]):
    """The writer and finished chunk records to go on from: a killed run's verified prefix, or a fresh start."""
    done = journal.load()
    writer = NpyRowWriter.reopen(partial, capacity, row_shape, done[-1]["rows"]) if done else None
    if writer is not None:
        done = _verified(writer, done)
    if writer is None or not done:
        writer, done = NpyRowWriter.create(partial, capacity, row_shape), []
    writer.truncate(done[-1]["rows"] if done else 0)
    journal.start(done)
    return writer, done


def _verified(writer: NpyRowWriter, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records whose rows are on disk as recorded (crc32 per chunk), up to the first that is not."""
    good, start = [], 0
    for record in records:
        rows = writer.read(start, record["rows"])
        if zlib.crc32(rows) != record.get("crc32"):
            break
        good.append(record)
        start = record["rows"]
    return good


def _remove_stale_temporaries(out_dir: Path) -> None:
    """Temporary files of a killed run (we hold the folder's lock, so nobody else is writing them)."""
    for tmp in out_dir.glob(".*.tmp*"):
        tmp.unlink(missing_ok=True)


def _pool_size(workers: int, files: int, chunk_size: int) -> int:
    """Processes to use: as asked (one per chunk at most), or every core once the job repays starting them."""
    if workers == 0 and files < POOL_MIN_FILES:
        return 1
    return max(1, min(worker_count(workers), -(-files // chunk_size)))


class ImagesPerSecond(ProgressColumn):
    """The bar's speed column; rich's own `{task.speed}` text fails before the first update."""

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:>7,.0f} img/s" if speed else "      - img/s")


class _CacheBuild:
    """One build of a cache folder: the files in chunks, the partial array, its journal and the tally."""

    def __init__(
        self, acquired: AcquiredImages, settings: DecodeSettings, dedupe: bool, chunk_size: int, out_dir: Path
    ):
        self.acquired, self.settings, self.dedupe, self.out_dir = acquired, settings, dedupe, out_dir
        root = str(acquired.images_dir)
        self.names = list_image_names(root)
        self.chunks = [range(i, min(i + chunk_size, len(self.names))) for i in range(0, len(self.names), chunk_size)]
        job = {
            "key": out_dir.name,
            "files": len(self.names),
            "names_sha256": hashlib.sha256("\n".join(self.names).encode()).hexdigest(),
            "chunk_size": chunk_size,
        }
        self.journal = ChunkJournal(out_dir / ".journal.jsonl", job)
        row_shape = (settings.size, settings.size, settings.channels)
        self.writer, done = _resume(self.journal, out_dir / ".images.partial.npy", len(self.names), row_shape)
        self.tally = _Tally(root, self.names, dedupe, chunk_size)
        for record in done:
            self.tally.replay(record)
        self.finished_chunks = len(done)
        if done:
            run_logger().info(
                "preprocess: resuming an interrupted run after %d of %d chunks", len(done), len(self.chunks)
            )

    def run(self, map_chunks: ChunkMap, in_place: bool = False) -> None:
        """Prepare the unfinished chunks through `map_chunks` (a worker pool, or a Dask cluster); write,
        journal and count each in order.

        `in_place`: the workers write each chunk's rows into the partial file themselves, at the rows
        the chunk would start at if no file were skipped (processes on this machine only).
        """
        todo = range(self.finished_chunks, len(self.chunks))
        path = str(self.writer.path)
        jobs = (
            (
                i,
                [self.tally.path(k) for k in self.chunks[i]],
                self.settings,
                self.dedupe,
                RowSlot(path, self.writer.row_offset(self.chunks[i].start)) if in_place else None,
            )
            for i in todo
        )
        total, finished = len(self.names), sum(len(c) for c in self.chunks[: self.finished_chunks])
        log = Throttled(run_logger())
        with progress_bar(ImagesPerSecond()) as bar:
            bar_task = bar.add_task(f"preprocess {self.acquired.source.name}", total=total, completed=finished)
            try:
                for result in map_chunks(process_chunk, jobs):
                    self._store(result)
                    finished += len(self.chunks[result.index])
                    bar.update(bar_task, completed=finished)
                    log.info("preprocess: %d/%d images", finished, total)
            except BrokenProcessPool:
                raise RuntimeError(
                    f"preprocess: a worker process died (out of memory, or a decoder crashed) after {finished} "
                    f"of {total} images; the finished chunks are kept and a rerun resumes after them"
                ) from None

    def _store(self, result: ChunkResult) -> None:
        """Rows first, then the journal line: a kill between the two only repeats this chunk."""
        start = self.chunks[result.index].start
        in_slot = result.images is None  # a worker wrote the rows from `start` on
        images = self.writer.read(start, start + result.kept) if in_slot else result.images
        rows, record = self.tally.accept(result, images)
        if in_slot and start == self.writer.rows and len(rows) == len(images):
            self.writer.advance(rows)  # already where they belong: no file was skipped before them
        else:
            self.writer.append(rows)  # moved up over the rows of skipped files, or sent back whole
        record["rows"] = self.writer.rows
        self.journal.append(record)
        self.tally.replay(record)

    def finish(self) -> PreprocessedData:
        """Seal the array, hash it, write the manifest (last), and say what was skipped."""
        if self.writer.rows == 0:
            self.writer.path.unlink(missing_ok=True)
            self.journal.remove()
            first = self.tally.skipped[0]
            raise UserError(
                f"--source: none of the {len(self.names)} image files in {self.acquired.images_dir} could be used "
                f"(first: {first['file']}: {first['reason']}); check that they are images"
            )
        sha = self.writer.finish()
        npy = self.out_dir / manifest.ARRAY_NAME
        os.replace(self.writer.path, npy)
        skipped = self.tally.skipped
        by_reason = dict(sorted(Counter(item["reason"] for item in skipped).items()))
        record = write_json(self.out_dir / manifest.MANIFEST_NAME, self._manifest(npy, sha, by_reason))
        self.journal.remove()
        _report(self.writer.rows, skipped, by_reason, record)
        return PreprocessedData(npy, record, self.writer.rows, len(skipped), sha, by_reason)

    def _manifest(self, npy: Path, sha: str, by_reason: dict[str, int]) -> dict[str, Any]:
        s, acquired = self.settings, self.acquired
        return {
            "source": {"kind": acquired.source.kind, "location": acquired.source.location},
            "identity": acquired.identity,
            "params": {
                "size": s.size,
                "channels": s.channels,
                "crop": s.crop,
                "dedupe": self.dedupe,
                "min_side": s.min_side,
                "max_pixels": s.max_pixels,
                "format_version": FORMAT_VERSION,
            },
            "array": npy.name,
            "shape": [self.writer.rows, *self.writer.row_shape],
            "dtype": "uint8",
            "count": self.writer.rows,
            "root": str(acquired.images_dir),
            "files": self.tally.kept,
            "skipped_by_reason": by_reason,
            "skipped": self.tally.skipped,
            "bytes": npy.stat().st_size,
            "sha256": sha,
        }


def _report(count: int, skipped: list[dict[str, str]], by_reason: dict[str, int], manifest: Path) -> None:
    """The end-of-step count, and the first few skipped files (all of them are in the manifest)."""
    logger = run_logger()
    for item in skipped[:SKIPS_LOGGED]:
        detail = f" ({item['detail']})" if "detail" in item else ""
        logger.warning("skipped %s: %s%s", item["file"], item["reason"], detail)
    if skipped:
        reasons = ", ".join(f"{n} {reason}" for reason, n in by_reason.items())
        message = "preprocess: %d images, %d files skipped (%s); every one is listed in %s"
        logger.warning(message, count, len(skipped), reasons, manifest)
    else:
        logger.info("preprocess: %d images, none skipped", count)


@task(
    name="preprocess",
    task_run_name="preprocess[{acquired.source.name} {spec.settings.size}px {spec.settings.crop}]",
    **step_options(cache_policy=OutputsExist(base=key_policy(_WhatIsMade()))),
)
def preprocess(acquired: AcquiredImages, spec: PreprocessSpec) -> PreprocessedData:
    """Prefect step: the images as a cached uint8 array of shape (N, size, size, channels)."""
    s, runner = spec.settings, spec.runner
    needs = acquired.num_files * s.size * s.size * s.channels + MB  # the array, and its manifest and journal
    room = space_for("--data-dir", spec.data_dir, "preprocessing", lambda: needs)
    with room, chunk_map(runner.task_runner, runner.dask_address) as map_chunks:
        return preprocess_images(
            acquired,
            s.size,
            s.channels,
            s.crop,
            spec.data_dir,
            dedupe=spec.dedupe,
            min_side=s.min_side,
            max_pixels=s.max_pixels,
            workers=runner.workers,
            map_chunks=map_chunks,
        )
