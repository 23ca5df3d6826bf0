"""Recipe comparison: ganflow's default recipe against `seed-celeb32`, same budget, same data, several seeds.

A thin use of `ganflow sweep`: one run per (recipe, seed) with `--max-minutes`, all on one data cache and
one held-out split (`--holdout`, the same images for every recipe and seed); the sweep's report (sweep.md,
sweep.png in --out) ranks the recipes. Prints, per recipe, the held-out SWD, colour figure and NDB/JS as
mean +- sample standard deviation over the seeds, the ratios seed-celeb32 / ganflow of the means (above 1:
the default is closer to the data), and last one JSON object. Rerunning with the same --out reuses the
runs that finished.

The default source, `colour`, is the colour benchmark: `bench/colour_faces.py` writes --n colourful
178x218 face-like images into --out/colour-faces (reused when there). Any `ganflow run --source` works too
(the built-in `sample` is gray and too small to hold images out: its figures are against training images).

    python bench/quality.py [--minutes 10] [--seeds 0,1,2] [--source colour] [--size 32] [--out bench-out/quality]
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECIPES = ("ganflow", "seed-celeb32")
FIGURES = (("swd", "SWD x1e3"), ("colour", "colour"), ("js", "NDB/JS"))  # each lower is better


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


def colour_source(out: Path, n: int) -> Path:
    """The colour benchmark's images in `out`/colour-faces (bench/colour_faces.py; reused when there)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from colour_faces import write_colour_faces

    return write_colour_faces(out / "colour-faces", n=n, seed=0)


def mean_sd(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def figures_by_recipe(report: dict) -> dict[str, dict]:
    """Per recipe: each figure's mean and sample standard deviation over the seeds that finished."""
    result = {}
    for recipe in RECIPES:
        runs = [c for c in report["children"] if c["point"].get("recipe") == recipe and c.get("swd") is not None]
        row: dict = {"runs": len(runs), "against": sorted({c.get("scored_against", "training") for c in runs})}
        for key, _ in FIGURES:
            row[f"{key}_mean"], row[f"{key}_sd"] = mean_sd([c[key] for c in runs if c.get(key) is not None])
        result[recipe] = row
    return result


def _ratio(seed: float | None, default: float | None) -> float | None:
    return seed / default if seed is not None and default else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="training budget of every run")
    parser.add_argument("--seeds", default="0,1,2", help="seeds per recipe, comma-separated")
    parser.add_argument("--source", default="colour", help="'colour' (the colour benchmark) or a ganflow --source")
    parser.add_argument("--n", type=int, default=2000, help="images of the colour benchmark")
    parser.add_argument("--size", type=int, default=32, choices=(28, 32, 64), help="image side for every recipe")
    parser.add_argument("--holdout", type=float, default=0.1, help="share of the images held out (ganflow --holdout)")
    parser.add_argument("--crop", default="center", help="one crop for every recipe, so all learn from one array")
    parser.add_argument(
        "--precision", default="fp32", help="one precision for every recipe (fp32: as the original projects trained)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench-out" / "quality")
    args = parser.parse_args()
    seeds = tuple(int(s) for s in args.seeds.split(","))
    out = args.out.resolve()
    print(f"hardware: {hardware()}", flush=True)
    source = str(colour_source(out, args.n)) if args.source == "colour" else args.source
    extra = (
        "--size",
        str(args.size),
        "--crop",
        args.crop,
        "--holdout",
        f"{args.holdout:g}",
        "--precision",
        args.precision,
    )
    report = compare_recipes(RECIPES, seeds, args.minutes, source, out, *extra)

    by_recipe = figures_by_recipe(report)
    for recipe in RECIPES:
        row = by_recipe[recipe]
        figures = "  ".join(
            f"{label} {row[f'{key}_mean']:.3f} +- {row[f'{key}_sd']:.3f}"
            if row[f"{key}_mean"] is not None
            else f"{label} -"
            for key, label in FIGURES
        )
        against = "/".join(row["against"]) or "-"
        print(f"{recipe:<14} {figures}  ({row['runs']} seeds, against {against} images, {args.minutes:g} min each)")
    seed, default = by_recipe["seed-celeb32"], by_recipe["ganflow"]
    ratios = {key: _ratio(seed[f"{key}_mean"], default[f"{key}_mean"]) for key, _ in FIGURES}
    print(
        "seed-celeb32 / ganflow means: "
        + ", ".join(f"{label} {ratios[key]:.2f}" if ratios[key] else f"{label} -" for key, label in FIGURES)
        + " (above 1: ganflow's default is closer to the data)"
    )
    print(
        json.dumps(
            {
                "minutes": args.minutes,
                "source": args.source,
                "size": args.size,
                "seeds": list(seeds),
                "hardware": hardware(),
                **{
                    f"{r.replace('-', '_')}_{key}_{k}": None if v is None else round(v, 4)
                    for r in RECIPES
                    for key, _ in FIGURES
                    for k in ("mean", "sd")
                    for v in [by_recipe[r][f"{key}_{k}"]]
                },
                **{f"ratio_{key}": None if v is None else round(v, 3) for key, v in ratios.items()},
                "against": sorted({a for r in RECIPES for a in by_recipe[r]["against"]}),
                "report": str(out / "sweep.md"),
            }
        )
    )


if __name__ == "__main__":
    main()
