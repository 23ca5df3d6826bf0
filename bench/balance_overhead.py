"""What the balance rule's Python loop costs: the bare compiled step vs `train_batch` with the rule off and on.

All three train the same small DCGAN on the same uint8 batch in this process. "on" uses a margin so
large that the rule never adds an update, so it measures the loop's own cost (one host read of the
losses per step), not extra training. Each reports steps/s as the median of timed windows.

The last line is one JSON object: bare_per_s, off_per_s, on_per_s, off_vs_bare, on_vs_bare.

    python bench/balance_overhead.py [--size 32] [--batch 16] [--windows 5] [--steps 20]
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ganmodels.config import GanConfig  # noqa: E402
from ganmodels.runtime import apply_runtime, resolve_runtime  # noqa: E402
from ganmodels.state import TrainingState  # noqa: E402


def _rate(step, steps: int, windows: int) -> float:
    for _ in range(3):
        step()  # warm-up: tracing and first-call allocations
    rates = []
    for _ in range(windows):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        rates.append(steps / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--windows", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    runtime = resolve_runtime()
    apply_runtime(runtime)
    batch = np.random.default_rng(0).integers(0, 256, (args.batch, args.size, args.size, 3), dtype=np.uint8)
    base = GanConfig(size=args.size, channels=3, batch_size=args.batch)

    bare = TrainingState.build(base, runtime)
    rates = {"bare": _rate(lambda: bare.train_step(batch, bare.step).numpy(), args.steps, args.windows)}
    for name, margin in (("off", None), ("on", 1e9)):
        state = TrainingState.build(GanConfig(**{**base.to_dict(), "balance_margin": margin}), runtime)
        rates[name] = _rate(lambda state=state: state.train_batch(batch), args.steps, args.windows)
    for name, rate in rates.items():
        print(f"{name:>5}: {rate:7.2f} steps/s ({runtime.precision}, {runtime.threads} threads)")
    result = {f"{k}_per_s": round(v, 3) for k, v in rates.items()}
    result |= {f"{k}_vs_bare": round(rates[k] / rates["bare"], 3) for k in ("off", "on")}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
