"""Which way to spread preprocessing over the cores: `python bench/preprocess.py --strategies`.

Every strategy runs the same `process_chunk` over the same chunks of the same files and must return
the same images in the same order; only the machinery differs:
- a process pool (`tasks.preprocess.chunk_pool.map_in_order`) with each multiprocessing start method;
- plain threads (OpenCV releases the GIL while it decodes);
- Prefect task mapping over the chunks, with Prefect's thread and process task runners. Its time is
  taken inside the flow, so the flow's own start-up and the temporary server's are not counted.
"""

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from tasks.preprocess import chunk_pool
from tasks.preprocess.chunk_pool import CHUNK_SIZE, map_in_order, process_chunk, worker_count
from tasks.preprocess.image_decode import DecodeSettings


def _jobs(paths: list[Path], settings: DecodeSettings) -> list[tuple]:
    return [
        (i // CHUNK_SIZE, [str(p) for p in paths[i : i + CHUNK_SIZE]], settings)
        for i in range(0, len(paths), CHUNK_SIZE)
    ]


def process_pool(jobs: list[tuple], workers: int, start_method: str) -> list:
    saved, chunk_pool.START_METHOD = chunk_pool.START_METHOD, start_method
    try:
        return list(map_in_order(process_chunk, jobs, workers))
    finally:
        chunk_pool.START_METHOD = saved


def threads(jobs: list[tuple], workers: int) -> list:
    chunk_pool.quiet_opencv()
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda job: process_chunk(*job), jobs))


def prefect_mapping(jobs: list[tuple], workers: int, runner: str) -> tuple[float, list]:
    """Prefect `task.map` over the chunks inside a flow; returns (seconds inside the flow, results)."""
    from prefect import flow, task, task_runners, unmapped

    chunk_task = task(process_chunk, name="preprocess-chunk", persist_result=False, cache_policy=None)
    runner_class = task_runners.ThreadPoolTaskRunner if runner == "threads" else task_runners.ProcessPoolTaskRunner
    task_runner = runner_class(max_workers=workers)  # the process runner came with Prefect 3.4

    @flow(name="bench-preprocess-mapping", task_runner=task_runner, persist_result=False)
    def mapped() -> tuple[float, list]:
        started = time.perf_counter()
        indices, paths, settings = zip(*jobs, strict=True)
        futures = chunk_task.map(list(indices), list(paths), unmapped(settings[0]))
        results = [f.result() for f in futures]
        return time.perf_counter() - started, results

    return mapped()


def compare(args) -> dict:
    import bench.preprocess as bench

    workers = worker_count(args.workers)
    paths = bench.synthetic_faces(args.count, bench.BENCH_DIR / f"jpeg-178x218-{args.count}")
    jobs = _jobs(paths, DecodeSettings(bench.SIZE, bench.CHANNELS, bench.CROP))
    process_chunk(*jobs[0])  # warm the page cache and imports
    prefect_mapping(jobs[:1], 1, "threads")  # starts the temporary Prefect server, untimed

    candidates = {
        "in-process, 1 core": lambda: (None, list(map_in_order(process_chunk, jobs, 1))),
        **{
            f"process pool ({m})": (lambda m=m: (None, process_pool(jobs, workers, m)))
            for m in ("forkserver", "spawn", "fork")
        },
        "threads": lambda: (None, threads(jobs, workers)),
        "prefect task.map (threads runner)": lambda: prefect_mapping(jobs, workers, "threads"),
        "prefect task.map (processes runner)": lambda: prefect_mapping(jobs, workers, "processes"),
    }
    timings = dict.fromkeys(candidates, float("inf"))
    reference = None
    for round_ in range(args.repeat):  # interleaved rounds, best of each: other jobs on the machine add noise
        for name, run in candidates.items():
            if round_ and name.endswith("processes runner)"):
                continue  # minutes per round; once is plenty to see it lose
            started = time.perf_counter()
            inside, results = run()
            timings[name] = min(timings[name], inside if inside is not None else time.perf_counter() - started)
            reference = _same_output(reference, results, name)

    n = len(paths)
    per_s = {name: round(n / s, 1) for name, s in timings.items()}
    for name, rate in per_s.items():
        print(f"{name:38s} {rate:>9,.0f} images/s")
    best = max(per_s, key=per_s.get)
    print(f"fastest: {best}")
    return {"images": n, "workers": workers, "per_s": per_s, "fastest": best}


def _same_output(reference: np.ndarray | None, results: list, name: str) -> np.ndarray:
    images = np.concatenate([r.images for r in results])
    if reference is not None and not np.array_equal(reference, images):
        raise AssertionError(f"{name} produced different images")
    return images
