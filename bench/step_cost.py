"""CPU cost of one training step per recipe: how many steps each gets in the same wall-clock time.

Comparing recipes "for equal wall time" on a shared machine is noisy: another job's load slows one run
and not the next. CPU seconds per step hardly move with load, so this times each configuration's real
train step (ganflow's `TrainingState.train_batch`) in windows interleaved with the others' and prints
the median CPU seconds per step, and each one's steps in the time the first makes `--steps` steps.
Configurations are `ganflow run` options, one string each ("--recipe seed-celeb32", "--batch-size 32").

    python bench/step_cost.py "--recipe ganflow" "--recipe seed-celeb32" [--steps 1250] [--windows 5]

The last line is one JSON object: per configuration, CPU s/step and the equal-time step count.
"""

import argparse
import json
import shlex
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.figures import cpu_model  # noqa: E402
from bench.train_loops import interleaved_medians, window_timer  # noqa: E402
from flows.params import RunParams  # noqa: E402
from ganmodels.data import epoch_dataset  # noqa: E402
from ganmodels.runtime import apply_runtime, resolve_runtime  # noqa: E402
from ganmodels.state import TrainingState  # noqa: E402


def params_from(options: str) -> RunParams:
    """RunParams for `ganflow run OPTIONS` given as "--name value" pairs (flags are not needed here)."""
    words = shlex.split(options)
    given = {k.removeprefix("--").replace("-", "_"): v for k, v in zip(words[::2], words[1::2], strict=True)}
    return RunParams(**given)


def step_window(params: RunParams, steps: int):
    cfg = params.gan_config()
    state = TrainingState.build(cfg, resolve_runtime("fp32", "off", 2, "on"))
    data = np.random.default_rng(0).integers(0, 256, (512, cfg.size, cfg.size, cfg.channels), dtype=np.uint8)
    batches = iter(epoch_dataset(data, cfg.batch_size, cfg.seed, 1).repeat())
    return window_timer(lambda: state.train_batch(next(batches)), steps)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("configs", nargs="+", help="`ganflow run` options, one string per configuration")
    parser.add_argument("--steps", type=int, default=1250, help="steps of the first configuration")
    parser.add_argument("--windows", type=int, default=5)
    parser.add_argument("--window-steps", type=int, default=5)
    args = parser.parse_args()
    apply_runtime(resolve_runtime("fp32", "off", 2, "on"))
    windows = {c: step_window(params_from(c), args.window_steps) for c in args.configs}
    medians = interleaved_medians(windows, args.windows)
    first = medians[args.configs[0]][1]
    out = {}
    for c in args.configs:
        wall, cpu = medians[c]
        out[c] = {"cpu_s_per_step": round(cpu, 4), "wall_s_per_step": round(wall, 4)}
        out[c]["equal_time_steps"] = round(args.steps * first / cpu)
        print(f"{c:40s} {cpu * 1e3:8.1f} CPU-ms/step  {out[c]['equal_time_steps']:6d} steps in equal time")
    print(json.dumps({"cpu": cpu_model(), "precision": "fp32", "threads": 2, "configs": out}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
