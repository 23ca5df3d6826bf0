"""The machinery under preprocess: the ordered process pool, the streaming .npy writer, the journal."""

import hashlib
import io
import os
import signal
import time
from concurrent.futures.process import BrokenProcessPool

import numpy as np
import pytest

from tasks.preprocess.chunk_journal import ChunkJournal
from tasks.preprocess.chunk_pool import map_in_order, worker_count
from tasks.preprocess.npy_writer import NpyRowWriter


def slow_square(i: int, delay: float) -> tuple[int, int]:
    time.sleep(delay)
    return i, os.getpid()


def die_on_three(i: int) -> int:
    if i == 3:
        os.kill(os.getpid(), signal.SIGKILL)  # what the OOM killer or a crashing decoder does to a worker
    return i


def test_results_come_back_in_job_order_from_several_processes():
    jobs = [(i, 0.05 * (5 - i)) for i in range(6)]  # later jobs finish first
    results = list(map_in_order(slow_square, jobs, 3))
    assert [i for i, _ in results] == list(range(6))
    assert len({pid for _, pid in results}) > 1 and os.getpid() not in {pid for _, pid in results}


def test_one_worker_runs_in_this_process():
    assert {pid for _, pid in map_in_order(slow_square, [(0, 0), (1, 0)], 1)} == {os.getpid()}


def test_a_worker_that_dies_raises_instead_of_hanging():
    with pytest.raises(BrokenProcessPool):
        list(map_in_order(die_on_three, [(i,) for i in range(8)], 2))


def test_worker_count_defaults_to_the_usable_cores():
    assert worker_count(3) == 3
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert worker_count(0) == usable


def test_streamed_rows_equal_np_save_and_a_partial_file_can_be_reopened(tmp_path):
    rows = np.random.default_rng(0).integers(0, 256, (10, 4, 4, 3), dtype=np.uint8)
    path = tmp_path / "rows.npy"
    writer = NpyRowWriter.create(path, 25, (4, 4, 3))
    writer.append(rows[:6])
    again = NpyRowWriter.reopen(path, 25, (4, 4, 3), rows=6)  # as a resumed run would
    assert again is not None and np.array_equal(again.read(0, 6), rows[:6])
    assert NpyRowWriter.reopen(path, 24, (4, 4, 3), rows=6) is None  # another layout: start again
    again.append(rows[6:])
    sha = again.finish()
    expected = io.BytesIO()
    np.save(expected, rows)
    assert path.read_bytes() == expected.getvalue()
    assert sha == hashlib.sha256(expected.getvalue()).hexdigest()


@pytest.mark.parametrize("used", [10, 7, 0], ids=["every-row", "fewer-rows", "none"])
def test_finish_returns_the_sha256_of_the_finished_file(tmp_path, used):
    # Kept up to date while rows stream in when every row is used; read back from the file otherwise.
    rows = np.random.default_rng(1).integers(0, 256, (used, 4, 4, 3), dtype=np.uint8)
    writer = NpyRowWriter.create(tmp_path / "rows.npy", 10, (4, 4, 3))
    for start in range(0, used, 3):
        writer.append(rows[start : start + 3])
    assert writer.finish() == hashlib.sha256((tmp_path / "rows.npy").read_bytes()).hexdigest()
    assert np.array_equal(np.load(tmp_path / "rows.npy"), rows)


def test_rows_taken_back_are_not_in_the_sha256(tmp_path):
    rows = np.random.default_rng(3).integers(0, 256, (6, 4, 4, 3), dtype=np.uint8)
    writer = NpyRowWriter.create(tmp_path / "rows.npy", 6, (4, 4, 3))
    writer.append(np.zeros_like(rows[:4]))  # written, then forgotten, as a resumed run does with bad rows
    writer.truncate(0)
    writer.append(rows)
    assert writer.finish() == hashlib.sha256((tmp_path / "rows.npy").read_bytes()).hexdigest()
    assert np.array_equal(np.load(tmp_path / "rows.npy"), rows)


def test_the_journal_ignores_a_cut_off_line_and_another_job(tmp_path):
    journal = ChunkJournal(tmp_path / "j.jsonl", {"key": "a"})
    journal.start([])
    journal.append({"chunk": 0, "rows": 3})
    journal.append({"chunk": 1, "rows": 6})
    with open(journal.path, "a") as f:
        f.write('{"chunk": 2, "ro')  # killed mid-write
    assert [r["chunk"] for r in journal.load()] == [0, 1]
    assert ChunkJournal(journal.path, {"key": "b"}).load() == []
    journal.start(journal.load())  # a resumed run rewrites what is valid, then appends
    journal.append({"chunk": 2, "rows": 9})
    assert [r["rows"] for r in journal.load()] == [3, 6, 9]
