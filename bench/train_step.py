"""Train-step speed side by side: ganflow's trainer on TensorFlow and on JAX, same model, batch and precision.

Keras fixes its backend per process, so each backend runs in its own child (`bench/backend_step.py`), one
after the other, `--rounds` times in turn so that load from other jobs on a shared machine falls on both
alike; the figure of each backend is the median over its rounds (the range is printed too). Each child
reports images/s and its share of the machine's matrix-multiply peak as that backend reaches it (its own
GEMM in the same number format); numpy's float32 GEMM is printed as a reference both share.

The last line is one JSON object: per backend its rates, GEMM rate and share, the JAX/TF ratio, the
precision and the CPU model.

    python bench/train_step.py [--size 32] [--batch 64] [--precision auto|fp32|bf16] [--rounds 2]
                               [--backends tensorflow,jax] [--windows 5] [--steps 10]
    python bench/train_step.py --loops ...   # the TensorFlow loops compared: classic, Model.fit, ganflow
                                             # (bench/train_loops.py; its own options)
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.figures import cpu_model  # noqa: E402


def run_child(backend: str, args: argparse.Namespace) -> dict:
    command = [sys.executable, str(HERE / "backend_step.py"), "--backend", backend, "--size", str(args.size)]
    command += ["--batch", str(args.batch), "--precision", args.precision]
    command += ["--windows", str(args.windows), "--steps", str(args.steps)]
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": os.environ.get("PYTHONPATH", str(HERE.parent))}
    out = subprocess.run(command, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"the {backend} child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def summarise(runs: list[dict]) -> dict:
    rates = [r["per_s"] for r in runs]
    best = dict(runs[0])
    best.update(
        per_s=round(statistics.median(rates), 1),
        per_s_range=[min(rates), max(rates)],
        gemm_share=round(statistics.median(r["gemm_share"] for r in runs), 3),
        gemm_gflop_per_s=round(statistics.median(r["gemm_gflop_per_s"] for r in runs), 1),
        per_cpu_s=round(statistics.median(r["per_cpu_s"] for r in runs), 1),
    )
    best.pop("per_s_windows", None)
    return best


def main() -> None:
    if "--loops" in sys.argv:
        sys.argv.remove("--loops")
        sys.path.insert(0, str(HERE))
        import train_loops

        train_loops.main()
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--precision", choices=("auto", "fp32", "bf16"), default="auto")
    parser.add_argument("--rounds", type=int, default=2, help="children per backend, run in turn")
    parser.add_argument("--backends", default="tensorflow,jax")
    parser.add_argument("--windows", type=int, default=5, help="timed windows per child")
    parser.add_argument("--steps", type=int, default=10, help="steps per window")
    args = parser.parse_args()
    backends = [b for b in args.backends.split(",") if b]
    print(f"{cpu_model()}; {args.size} px, batch {args.batch}, precision {args.precision}", flush=True)
    runs: dict[str, list[dict]] = {b: [] for b in backends}
    for _ in range(args.rounds):
        for backend in backends:
            runs[backend].append(run_child(backend, args))
            r = runs[backend][-1]
            print(
                f"  {backend:<10} {r['per_s']:8.1f} img/s  {r['per_cpu_s']:8.1f} img per CPU-s  "
                f"{r['gemm_share']:.1%} of its {r['precision']} GEMM ({r['gemm_gflop_per_s']:.0f} GFLOP/s)",
                flush=True,
            )
    summary = {b: summarise(r) for b, r in runs.items()}
    for backend, s in summary.items():
        print(
            f"{backend + ':':<12}{s['per_s']:8.1f} img/s (range {s['per_s_range'][0]}-{s['per_s_range'][1]}), "
            f"{s['gemm_share']:.1%} of {s['gemm_gflop_per_s']:.0f} GFLOP/s {s['precision']} GEMM; "
            f"numpy fp32 GEMM {s['numpy_fp32_gemm_gflop_per_s']:.0f} GFLOP/s"
        )
    result = {"backends": summary, "cpu": cpu_model(), "size": args.size, "batch": args.batch}
    if "tensorflow" in summary and "jax" in summary:
        result["jax_vs_tf"] = round(summary["jax"]["per_s"] / summary["tensorflow"]["per_s"], 2)
        print(f"JAX / TensorFlow: {result['jax_vs_tf']:.2f}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
