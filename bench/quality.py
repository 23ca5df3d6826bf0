"""Recipe comparison: ganflow's default recipe against `seed-celeb32`, same budget, same data, several seeds.

A thin use of `ganflow sweep`: one run per (recipe, seed) with `--max-minutes`, all on one data cache; the
sweep's report (sweep.md, sweep.png in --out) ranks the recipes by SWD with the mean and spread over the
seeds. Prints each recipe's SWD mean and standard deviation and the ratio of the means; the last line is
one JSON object. Rerunning with the same --out reuses the runs that finished.

    python bench/quality.py [--minutes 10] [--seeds 0,1,2] [--source sample] [--out bench-out/quality]
"""

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECIPES = ("ganflow", "seed-celeb32")


def compare_recipes(
    recipes: tuple[str, ...], seeds: tuple[int, ...], minutes: float, source: str, out: Path, *extra: str
) -> dict:
    """Run `ganflow sweep --grid recipe=... --grid seed=...` with a time budget; return its sweep.json.

    `extra` are further `ganflow run` options for every run (e.g. "--size", "32").
    """
    cmd = [sys.executable, "-m", "flows.cli", "sweep", "--source", source, "--max-minutes", f"{minutes:g}"]
    cmd += ["--epochs", "1000000", "--data-dir", str(out / "data"), "--sweep-dir", str(out), *extra]
    cmd += ["--grid", f"recipe={','.join(recipes)}", "--grid", f"seed={','.join(map(str, seeds))}"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    subprocess.run(cmd, env=env, check=True, cwd=ROOT)
    return json.loads((out / "sweep.json").read_text())


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="training budget of every run")
    parser.add_argument("--seeds", default="0,1,2", help="seeds per recipe, comma-separated")
    parser.add_argument("--source", default="sample")
    parser.add_argument("--crop", default="center", help="one crop for every recipe, so all learn from one array")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-out" / "quality")
    args = parser.parse_args()
    seeds = tuple(int(s) for s in args.seeds.split(","))
    print(f"hardware: {hardware()}", flush=True)
    report = compare_recipes(RECIPES, seeds, args.minutes, args.source, args.out.resolve(), "--crop", args.crop)

    by_recipe = {row["configuration"].removeprefix("recipe="): row for row in report["ranking"]}
    for recipe in RECIPES:
        row = by_recipe[recipe]
        print(
            f"{recipe:<14} SWD x1e3 {row['swd_mean']:.2f} +- {row['swd_sd']:.2f} over {row['scored']} seeds "
            f"in {args.minutes:g} min each",
            flush=True,
        )
    ratio = by_recipe["seed-celeb32"]["swd_mean"] / by_recipe["ganflow"]["swd_mean"]
    print(f"seed-celeb32 / ganflow mean SWD: {ratio:.2f} (above 1: ganflow's default is closer to the data)")
    print(
        json.dumps(
            {
                "minutes": args.minutes,
                "source": args.source,
                "seeds": list(seeds),
                **{
                    f"{r.replace('-', '_')}_swd_{k}": round(by_recipe[r][f"swd_{k}"], 3)
                    for r in RECIPES
                    for k in ("mean", "sd")
                },
                "ratio": round(ratio, 3),
                "report": str(args.out / "sweep.md"),
            }
        )
    )


if __name__ == "__main__":
    main()
