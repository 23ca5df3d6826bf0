"""The side-by-side picture of docs/quality.md: held-out real colour faces | the default | seed-celeb32.

Three panels of `--rows` x `--cols` images at the runs' size, enlarged `--zoom` times (nearest neighbour, so the
pixels are the model's own): real images from the held-out folder (prepared like the first run's data),
then each run's last generator on the same fixed latents as bench/colour_score.py, each panel titled.

    python bench/colour_picture.py HELD_OUT DEFAULT_RUN SEED_RUN [--out docs/quality-colour.png]
"""

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.colour_score import held_out_images, run_images  # noqa: E402


def panel(images: np.ndarray, title: str, rows: int, cols: int, zoom: int = 3) -> np.ndarray:
    """A titled grid of the first rows x cols images, enlarged `zoom` times, 2 px gaps."""
    side = images.shape[1] * zoom
    gap = 2
    body = np.full((rows * (side + gap) + gap, cols * (side + gap) + gap, 3), 255, np.uint8)
    for i, image in enumerate(images[: rows * cols]):
        r, c = divmod(i, cols)
        top, left = gap + r * (side + gap), gap + c * (side + gap)
        body[top : top + side, left : left + side] = cv2.resize(image, (side, side), interpolation=cv2.INTER_NEAREST)
    head = np.full((30, body.shape[1], 3), 255, np.uint8)
    cv2.putText(head, title, (6, 21), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([head, body])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("held_out", type=Path)
    parser.add_argument("default_run", type=Path)
    parser.add_argument("seed_run", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs/quality-colour.png"))
    parser.add_argument("--rows", type=int, default=4)
    parser.add_argument("--zoom", type=int, default=2)
    parser.add_argument("--cols", type=int, default=6)
    args = parser.parse_args(argv)
    count = args.rows * args.cols
    default, default_meta = run_images(args.default_run, count)
    seed, seed_meta = run_images(args.seed_run, count)
    real = held_out_images(args.held_out, default_meta["size"], default_meta["crop"], count)
    panels = [
        panel(real, "real (held out)", args.rows, args.cols, args.zoom),
        panel(default, f"default ({default_meta['steps']} steps)", args.rows, args.cols, args.zoom),
        panel(seed, f"seed-celeb32 ({seed_meta['steps']} steps)", args.rows, args.cols, args.zoom),
    ]
    spacer = np.full((panels[0].shape[0], 12, 3), 255, np.uint8)
    picture = np.hstack([panels[0], spacer, panels[1], spacer, panels[2]])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    ok, data = cv2.imencode(".png", cv2.cvtColor(picture, cv2.COLOR_RGB2BGR))
    tmp = args.out.with_name(f".{args.out.name}.tmp")
    tmp.write_bytes(data.tobytes())
    tmp.replace(args.out)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
