"""Score trained runs on a held-out colour set: SWD, the colour figure and each set's colour spread.

Used to choose the default recipe (docs/quality.md, "How the default was chosen"): train on
`bench/colour_faces.py` seed 0, score against a separate seed-1 folder, so no figure rewards memorising.
Each run is scored against the held-out images prepared the way that run prepared its own training data
(its recorded crop and size), with its last generator (`generator-last.keras`) on fixed latents.

Colour figure: mean over R, G, B of the 1-D Wasserstein-1 distance between the real and the generated
per-image mean colour (0..255). Colour spread: mean over R, G, B of the standard deviation of the
per-image mean colour. Both are the formulas the quality report uses (issue 16).

    python bench/colour_score.py HELD_OUT RUN_DIR [RUN_DIR ...] [--count 2000]

Prints one JSON object per run.
"""

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ganmodels.metrics.colour import colour_figure, colour_spread  # noqa: E402
from ganmodels.metrics.swd import swd  # noqa: E402
from tasks.preprocess.crops import crop_box, fit_square, output_extent  # noqa: E402


def held_out_images(folder: Path, size: int, crop: str, count: int) -> np.ndarray:
    """The first `count` images of `folder` (sorted), cropped and resized as the run's preprocessing did."""
    files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[:count]
    out = np.zeros((len(files), size, size, 3), np.uint8)
    for i, path in enumerate(files):
        image = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        box = crop_box(image.shape[0], image.shape[1], crop)
        fit_square(image[box.slices], size, output_extent(box, size, crop), out=out[i])
    return out


def run_images(run_dir: Path, count: int, which: str = "last", checkpoint: str | None = None):
    """`count` RGB uint8 images of a run's generator on fixed latents, and what was drawn: model, size, crop, steps."""
    from tasks.quality import generated
    from tasks.report.generate import latent_distribution, load_generator
    from tasks.run_folder import RunFolder

    folder = RunFolder(run_dir)
    recorded = folder.read_config() or {}
    model = folder.generator_last if which == "last" and folder.generator_last.exists() else folder.generator
    if checkpoint:
        generator, model = load_generator(run_dir=run_dir, checkpoint=checkpoint), Path(checkpoint)
    else:
        generator = load_generator(model=model)
    fake = generated(generator, count, latent_distribution(run_dir=run_dir))
    if fake.shape[-1] == 1:
        fake = np.repeat(fake, 3, axis=-1)
    rows = folder.read_metrics()
    last = int(rows[-1]["step"]) if rows else None
    meta = {
        "model": model.name,
        "size": int(recorded.get("config", {}).get("size", fake.shape[1])),
        "crop": recorded.get("data", {}).get("crop") or "center",
        "steps": int(model.name.split("-")[-1]) if checkpoint and model.name.startswith("ckpt-") else last,
    }
    return fake, meta


def score_run(run_dir: Path, held_out: Path, count: int, which: str = "last", checkpoint: str | None = None) -> dict:
    """Held-out figures of one run's generator (the last one, unless `which` or `checkpoint` say otherwise)."""
    fake, meta = run_images(run_dir, count, which, checkpoint)
    real = held_out_images(held_out, meta["size"], meta["crop"], count)
    fake = fake[: len(real)]
    return {
        "run": str(run_dir),
        **meta,
        "images": len(real),
        "swd": round(swd(real, fake)["mean"], 3),
        "colour": round(colour_figure(real, fake), 2),
        "spread_real": round(colour_spread(real), 2),
        "spread_fake": round(colour_spread(fake), 2),
        "pixel_std_fake": round(float(fake.reshape(len(fake), -1).std(axis=1).mean()), 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("held_out", type=Path)
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--which", choices=("last", "best"), default="last", help="generator-last or generator.keras")
    parser.add_argument("--checkpoint", help="score this checkpoint (a path, or latest/best) instead")
    args = parser.parse_args(argv)
    for run in args.runs:
        print(json.dumps(score_run(run, args.held_out, args.count, args.which, args.checkpoint)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
