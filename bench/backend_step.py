"""One backend's train-step rate, for `bench/train_step.py`: run in a child process per backend (Keras fixes
its backend per process). Prints one JSON line: images/s (median of timed windows) and per CPU-second, the
train FLOPs per image, and the backend's own GEMM rate (tf.matmul or a jitted jnp.matmul) in the same
number format, plus numpy's float32 GEMM as a reference both share.

    python bench/backend_step.py --backend tensorflow|jax [--size 32] [--batch 64] [--precision fp32]

It also runs on code from before ganmodels/backend.py existed (PYTHONPATH=/work/main), TensorFlow only,
so a TensorFlow figure can be compared before and after a change with the same harness.
"""

import argparse
import itertools
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

if "--backend" in sys.argv:  # before anything imports Keras
    os.environ["KERAS_BACKEND"] = sys.argv[sys.argv.index("--backend") + 1]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
if not os.environ.get("PYTHONPATH"):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.figures import forward_flops  # noqa: E402


def train_flops_per_image(state) -> int:
    """3 G + 7 D forward-equivalents (G once, D twice; a backward pass costs about two forwards)."""
    return 3 * forward_flops(state.models.generator) + 7 * forward_flops(state.models.discriminator)


def gemm_flops_per_s(backend: str, precision: str, n: int = 4096, reps: int = 3, tries: int = 3) -> float:
    """The backend's own matmul rate in the run's number format: the peak its train step could reach.

    The best of `tries` timings: on a shared machine a peak is what the cores do when nothing else runs."""
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        a = jax.random.normal(jax.random.key(0), (n, n)).astype(jnp.bfloat16 if precision == "bf16" else jnp.float32)
        mm = jax.jit(jnp.matmul)

        def run():
            out = a
            for _ in range(reps):
                out = mm(a, a)
            out.block_until_ready()
    else:
        import tensorflow as tf

        a = tf.cast(tf.random.normal((n, n)), tf.bfloat16 if precision == "bf16" else tf.float32)

        def run():
            for _ in range(reps):
                out = tf.matmul(a, a)
            out.numpy()

    run()
    best = float("inf")
    for _ in range(tries):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 * reps / best


def numpy_gemm_flops_per_s(n: int = 2048, reps: int = 3, tries: int = 3) -> float:
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    a @ a
    best = float("inf")
    for _ in range(tries):
        start = time.perf_counter()
        for _ in range(reps):
            a @ a
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 * reps / best


def batches(backend: str, data: np.ndarray, batch: int):
    """Endless batches as ganflow's loop feeds them: tf.data on TensorFlow, numpy batches on JAX."""
    from ganmodels.data import epoch_dataset

    if backend == "jax":
        from ganmodels.data import epoch_batches

        return itertools.cycle(list(epoch_batches(data, batch, 0, 1)))
    return iter(epoch_dataset(data, batch, 0, 1).repeat())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("tensorflow", "jax"), required=True)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--windows", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--precision", choices=("auto", "fp32", "bf16"), default="auto")
    args = parser.parse_args()

    from ganmodels.config import GanConfig
    from ganmodels.runtime import apply_runtime, resolve_runtime
    from ganmodels.state import TrainingState

    runtime = resolve_runtime(precision=args.precision)
    apply_runtime(runtime)
    if args.backend == "tensorflow":
        import tensorflow as tf

        tf.random.set_seed(0)  # stateful random ops need a seed once op determinism is on
    cfg = GanConfig(size=args.size, channels=3, batch_size=args.batch)
    data = np.random.default_rng(0).integers(0, 256, (args.batch * 16, args.size, args.size, 3), dtype=np.uint8)
    state = TrainingState.build(cfg, runtime)
    feed = batches(args.backend, data, args.batch)
    start = time.perf_counter()
    for _ in range(3):  # the first compiles
        state.train_batch(next(feed))
    warmup_s = time.perf_counter() - start
    walls, cpus = [], []
    for _ in range(args.windows):
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.steps):
            state.train_batch(next(feed))
        walls.append((time.perf_counter() - wall) / args.steps)
        cpus.append((time.process_time() - cpu) / args.steps)
    flops = train_flops_per_image(state)
    rate = args.batch / statistics.median(walls)
    peak = gemm_flops_per_s(args.backend, runtime.precision)
    out = {
        "backend": args.backend,
        "per_s": round(rate, 1),
        "per_s_windows": [round(args.batch / w, 1) for w in walls],
        "per_cpu_s": round(args.batch / statistics.median(cpus), 1),
        "warmup_s": round(warmup_s, 1),
        "train_gflop_per_image": round(flops / 1e9, 3),
        "gflop_per_s": round(rate * flops / 1e9, 1),
        "gemm_gflop_per_s": round(peak / 1e9, 1),
        "gemm_share": round(rate * flops / peak, 3),
        "numpy_fp32_gemm_gflop_per_s": round(numpy_gemm_flops_per_s() / 1e9, 1),
        "precision": runtime.precision,
        "devices": runtime.replicas,
        "device": runtime.device,
        "threads": runtime.threads,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
