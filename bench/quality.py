"""Recipe comparison: ganflow's default recipe against the faithful `seed-celeb32` for the same wall-clock budget.

Each recipe trains through the real `ganflow run` on the same source and the same crop (`--crop`, so both
learn from one training array) for `--minutes`, and is then stopped with SIGKILL (checkpoints make that
safe). The latest checkpoint's generator is scored with SWD against that array (a sigmoid generator's
[0, 1] images are read in its own range), and its last sample grid is copied beside the report. Prints the
hardware, both SWDs and their ratio; the last line is one JSON object. docs/quality.md records a run.

    python bench/quality.py [--minutes 10] [--source sample] [--crop center] [--out bench-out/quality]
"""

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RECIPES = ("ganflow", "seed-celeb32")


def hardware() -> str:
    """The CPU model and core count, for the record beside the numbers."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {len(os.sched_getaffinity(0))} cores usable"


def train_for(recipe: str, source: str, seconds: float, out: Path, crop: str = "center") -> Path:
    """Run `ganflow run --recipe R` until the budget is spent, then SIGKILL it; return its run folder."""
    run_dir = out / recipe
    shutil.rmtree(run_dir, ignore_errors=True)
    cmd = [
        sys.executable,
        "-m",
        "flows.cli",
        "run",
        "--recipe",
        recipe,
        "--source",
        source,
        "--crop",
        crop,
        "--epochs",
        "1000000",
        "--eval-every",
        "0",
        "--run-dir",
        str(run_dir),
        "--data-dir",
        str(out / "data"),
    ]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, cwd=out
    )
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(1)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return run_dir


def score(run_dir: Path, images_count: int) -> dict:
    """SWD of the latest checkpoint's generator against the run's own training array."""
    from tasks.report.evaluate import full_evaluation
    from tasks.report.generate import generator_from_checkpoint, latent_distribution

    config = json.loads((run_dir / "checkpoints" / "config.json").read_text())["config"]
    npys = [p for p in (run_dir.parent / "data").glob(f"*-{config['size']}px-c{config['channels']}-*/images.npy")]
    images = np.load(npys[0], mmap_mode="r")
    generator = generator_from_checkpoint(run_dir, "latest")
    report, _, _ = full_evaluation(generator, images, images_count, dist=latent_distribution(run_dir))
    grids = sorted((run_dir / "samples").glob("epoch_*.png"))
    rows = (run_dir / "metrics.csv").read_text().splitlines()[1:] if (run_dir / "metrics.csv").exists() else []
    steps = int(rows[-1].split(",")[1]) if rows else 0  # at the last finished epoch
    return {
        "swd": report["swd"]["mean"],
        "epochs": len(grids),
        "steps": steps,
        "images_seen": steps * config["batch_size"],
        "last_grid": str(grids[-1]) if grids else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--source", default="sample")
    parser.add_argument("--crop", default="center", help="the same crop for both, so both learn one array")
    parser.add_argument("--images", type=int, default=2048, help="images compared by SWD (at most the data set)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-out" / "quality")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    print(f"hardware: {hardware()}; {args.minutes:g} min per recipe on {args.source} ({args.crop} crop)", flush=True)
    results = {}
    for recipe in RECIPES:
        run_dir = train_for(recipe, args.source, args.minutes * 60, args.out, args.crop)
        results[recipe] = score(run_dir, args.images)
        if results[recipe]["last_grid"]:
            shutil.copyfile(results[recipe]["last_grid"], args.out / f"last-{recipe}.png")
        print(
            f"{recipe:<14} {results[recipe]['epochs']:>5} epochs ({results[recipe]['steps']} steps, "
            f"{results[recipe]['images_seen']} images) in {args.minutes:g} min   SWD x1e3 {results[recipe]['swd']:.2f}",
            flush=True,
        )
    ratio = results["seed-celeb32"]["swd"] / results["ganflow"]["swd"]
    print(f"seed-celeb32 / ganflow SWD: {ratio:.2f} (above 1: ganflow's default is closer to the data)")
    print(
        json.dumps(
            {
                "minutes": args.minutes,
                "source": args.source,
                "crop": args.crop,
                "hardware": hardware(),
                "ganflow_swd": round(results["ganflow"]["swd"], 3),
                "seed_celeb32_swd": round(results["seed-celeb32"]["swd"], 3),
                "ganflow_epochs": results["ganflow"]["epochs"],
                "seed_celeb32_epochs": results["seed-celeb32"]["epochs"],
                "ganflow_steps": results["ganflow"]["steps"],
                "seed_celeb32_steps": results["seed-celeb32"]["steps"],
                "ratio": round(ratio, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
