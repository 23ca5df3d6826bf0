"""Colourful face-like images for the quality bench: the offline sample is gray, so colour is never tested.

`write_colour_faces(folder, n, seed)` draws `n` 178x218 (CelebA's size) JPEGs with numpy and OpenCV
only: a background (a colour, a gradient to a second colour, mostly out-of-focus shapes of other colours),
shoulders in a clothing colour, a face oval in a skin tone from pale to dark, hair (black, browns, blond,
red, grey, now and then a dyed colour) in one of a few cuts, eyes with a coloured iris, brows, nose
shading and lips; then light from one side, a colour temperature (warm to cool) and a brightness over the
whole picture, a little blur and sensor noise.
Position, scale and tilt of the head vary, so shapes vary as well as colours. Image `i` of a seed depends
only on (seed, i): the first k images of a larger set are the same files, and seeds 0 and 1 make
disjoint sets (train on seed 0, score against seed 1).

The folder is written into a hidden temporary sibling and renamed into place, so a half-written folder
is never taken as complete; an existing folder with the same (n, seed, version) is reused.

Real colour images shipped with installed packages (offline): scikit-image's `skimage.data` has
`astronaut()` (a portrait, 512x512), `chelsea()` (a cat), `coffee()` and a few others: too few and not
faces in the mass, so useful only for eyeballing. imageio's standard images are downloaded on first use.

    python bench/colour_faces.py OUT [--n 2000] [--seed 0]
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

WIDTH, HEIGHT = 178, 218
VERSION = 2
MARKER = "colour_faces.json"

# Skin tones (RGB) from very pale to very dark; each face picks a point between two neighbours.
SKIN = np.array(
    [(255, 224, 206), (241, 194, 167), (224, 172, 140), (198, 134, 98), (161, 102, 68), (120, 72, 46), (80, 48, 32)],
    dtype=np.float32,
)
# Natural hair colours (RGB): black, dark and mid brown, auburn, red, blond, platinum, grey.
HAIR = np.array(
    [
        (20, 17, 15),
        (59, 40, 30),
        (106, 72, 46),
        (120, 50, 30),
        (170, 70, 35),
        (214, 170, 100),
        (235, 220, 180),
        (150, 150, 150),
    ],
    dtype=np.float32,
)
IRIS = np.array([(70, 40, 20), (110, 70, 40), (60, 110, 170), (80, 130, 80), (120, 110, 70)], dtype=np.float32)


def _hsv_colour(rng: np.random.Generator, s: tuple[float, float], v: tuple[float, float]) -> np.ndarray:
    """A random RGB colour of any hue with saturation and value in the given ranges (0..1)."""
    hsv = np.uint8([[[rng.uniform(0, 180), rng.uniform(*s) * 255, rng.uniform(*v) * 255]]])
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32)


def _pick(rng: np.random.Generator, palette: np.ndarray, jitter: float) -> np.ndarray:
    """A colour between two neighbouring palette entries, with a little per-channel jitter."""
    i = rng.uniform(0, len(palette) - 1)
    lo = int(i)
    c = palette[lo] * (1 - (i - lo)) + palette[min(lo + 1, len(palette) - 1)] * (i - lo)
    return np.clip(c + rng.normal(0, jitter, 3), 0, 255)


def _ellipse(img: np.ndarray, centre, axes, angle: float, colour, start: int = 0, end: int = 360) -> None:
    c = (int(round(centre[0] * 16)), int(round(centre[1] * 16)))
    a = (max(1, int(round(axes[0] * 16))), max(1, int(round(axes[1] * 16))))
    cv2.ellipse(img, c, a, angle, start, end, tuple(float(x) for x in colour), -1, cv2.LINE_AA, 4)


def draw_face(rng: np.random.Generator) -> np.ndarray:
    """One HEIGHTxWIDTHx3 uint8 RGB face-like image."""
    # Background: a colour and a vertical gradient to a second one.
    top = _hsv_colour(rng, (0.0, 0.9), (0.15, 1.0))
    bottom = top * rng.uniform(0.5, 1.1) if rng.random() < 0.5 else _hsv_colour(rng, (0.0, 0.9), (0.15, 1.0))
    t = np.linspace(0, 1, HEIGHT, dtype=np.float32)[:, None, None]
    img = np.ascontiguousarray(np.broadcast_to(top * (1 - t) + bottom * t, (HEIGHT, WIDTH, 3)), dtype=np.float32)
    # Most photos have a scene behind the person: out-of-focus shapes in other colours.
    if rng.random() < 0.75:
        for _ in range(rng.integers(2, 9)):
            colour = _hsv_colour(rng, (0.0, 1.0), (0.1, 1.0))
            x, y = rng.uniform(0, WIDTH), rng.uniform(0, HEIGHT)
            w, h = rng.uniform(10, 70), rng.uniform(10, 90)
            if rng.random() < 0.5:
                _ellipse(img, (x, y), (w, h), rng.uniform(0, 180), colour)
            else:
                cv2.rectangle(img, (int(x - w), int(y - h)), (int(x + w), int(y + h)), tuple(map(float, colour)), -1)
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(3, 12))

    scale = rng.uniform(0.85, 1.15)
    cx = WIDTH / 2 + rng.normal(0, 7)
    cy = HEIGHT * 0.47 + rng.normal(0, 7)
    tilt = rng.normal(0, 8)
    turn = rng.normal(0, 0.12)  # a head turned a little: features shift sideways
    fw, fh = 38 * scale * rng.uniform(0.88, 1.1), 50 * scale * rng.uniform(0.9, 1.08)
    rad = np.deg2rad(tilt)
    ux, uy = np.cos(rad), np.sin(rad)  # the face's own x axis in the picture
    vx, vy = -np.sin(rad), np.cos(rad)  # and its y axis (down)

    def at(x: float, y: float) -> tuple[float, float]:
        """A point given in face units (x, y in -1..1 of the oval) in picture coordinates."""
        x = x + turn
        return cx + x * fw * ux + y * fh * vx, cy + x * fw * uy + y * fh * vy

    skin = _pick(rng, SKIN, 8)
    hair = _pick(rng, HAIR, 10) if rng.random() < 0.85 else _hsv_colour(rng, (0.5, 1.0), (0.4, 1.0))
    cloth = _hsv_colour(rng, (0.0, 1.0), (0.1, 1.0))
    style = rng.integers(0, 4)  # 0 short, 1 long, 2 bun/updo, 3 bald-ish

    # Shoulders, hair behind the head, then the neck over it (long hair shows either side of the neck).
    _ellipse(img, (cx + rng.normal(0, 4), HEIGHT + 22), (92 * scale, 72 * scale), 0, cloth)
    if style == 1:
        _ellipse(img, at(0, 0.35), (fw * 1.35, fh * 1.35), tilt, hair)
    elif style != 3:
        _ellipse(img, at(0, -0.15), (fw * 1.18, fh * 1.08), tilt, hair)
    if style == 2:
        _ellipse(img, at(0, -1.25), (fw * 0.5, fh * 0.35), tilt, hair)
    nx, ny = at(0, 0.8)
    neck = tuple(map(float, skin * 0.85))
    cv2.rectangle(img, (int(nx - 15 * scale), int(ny)), (int(nx + 15 * scale), HEIGHT - 1), neck, -1)
    # Face and ears.
    for side in (-1, 1):
        _ellipse(img, at(side * 1.0, 0.05), (fw * 0.16, fh * 0.2), tilt, skin * 0.92)
    _ellipse(img, at(0, 0), (fw, fh), tilt, skin)
    # Fringe: the hair's top cap over the forehead.
    if style != 3:
        cap_drop = rng.uniform(-0.75, -0.45)
        _ellipse(img, at(0, cap_drop - 0.35), (fw * 1.05, fh * 0.5), tilt, hair, 180, 360)
        _ellipse(img, at(0, cap_drop - 0.36), (fw * 1.05, fh * 0.16), tilt, hair, 0, 180)
    # Eyes, irises, pupils, brows.
    iris = _pick(rng, IRIS, 12)
    eye_y, eye_dx = rng.uniform(-0.12, 0.0), rng.uniform(0.36, 0.46)
    for side in (-1, 1):
        ex, ey = at(side * eye_dx, eye_y)
        _ellipse(img, (ex, ey), (fw * 0.2, fh * 0.075), tilt, (235, 235, 230))
        _ellipse(img, (ex, ey), (fw * 0.085, fw * 0.085), 0, iris)
        _ellipse(img, (ex, ey), (fw * 0.04, fw * 0.04), 0, (15, 12, 10))
        bx0, by0 = at(side * (eye_dx - 0.2), eye_y - 0.17)
        bx1, by1 = at(side * (eye_dx + 0.22), eye_y - 0.19 + rng.normal(0, 0.02))
        thick = max(1, int(round(3 * scale)))
        cv2.line(img, (int(bx0), int(by0)), (int(bx1), int(by1)), tuple(map(float, hair * 0.8)), thick, cv2.LINE_AA)
    # Nose: a shaded stroke and nostrils.
    nx0, ny0 = at(0.04, 0.05)
    nx1, ny1 = at(0.08, 0.35)
    cv2.line(
        img,
        (int(nx0), int(ny0)),
        (int(nx1), int(ny1)),
        tuple(map(float, skin * 0.78)),
        max(1, int(2 * scale)),
        cv2.LINE_AA,
    )
    _ellipse(img, at(0, 0.38), (fw * 0.16, fh * 0.05), tilt, skin * 0.72)
    # Mouth: lips in a shade of red/pink/brown, open a little now and then.
    lips = np.clip(skin * rng.uniform(0.55, 0.8) + np.array([rng.uniform(20, 70), 0, rng.uniform(0, 25)]), 0, 255)
    if rng.random() < 0.15:
        lips = _hsv_colour(rng, (0.5, 1.0), (0.3, 0.9))  # lipstick of any colour
    my = rng.uniform(0.56, 0.66)
    _ellipse(img, at(0, my), (fw * rng.uniform(0.28, 0.4), fh * rng.uniform(0.06, 0.1)), tilt, lips)
    if rng.random() < 0.3:
        _ellipse(img, at(0, my), (fw * 0.22, fh * 0.03), tilt, (40, 20, 20))

    # Light: from one side (a horizontal ramp), a colour temperature and a brightness over everything.
    side = np.linspace(-1, 1, WIDTH, dtype=np.float32)[None, :, None]
    img *= 1 + rng.uniform(-0.35, 0.35) * side
    temp = rng.uniform(-1, 1)  # -1 cool (blue), +1 warm (orange)
    img *= np.array([1 + 0.25 * temp, 1 + 0.03 * temp, 1 - 0.25 * temp], dtype=np.float32)
    img *= rng.uniform(0.55, 1.3)
    sigma = rng.uniform(0.3, 1.2)
    img = cv2.GaussianBlur(img, (0, 0), sigma)
    img += rng.normal(0, rng.uniform(1, 5), img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def _marker(n: int, seed: int) -> dict:
    return {"generator": "bench/colour_faces.py", "version": VERSION, "n": n, "seed": seed, "size": [WIDTH, HEIGHT]}


def write_colour_faces(folder: Path, n: int = 2000, seed: int = 0) -> Path:
    """Write `n` colour face JPEGs (seed `seed`) into `folder` and return it.

    The images go into a hidden temporary folder beside `folder`, renamed into place when all are written.
    A folder that already holds this generator's marker for the same (n, seed, version) is returned as
    is; any other existing `folder` is refused (FileExistsError), never mixed into.
    """
    folder = Path(folder)
    if folder.exists():
        try:
            if json.loads((folder / MARKER).read_text()) == _marker(n, seed):
                return folder
        except (OSError, ValueError):
            pass
        raise FileExistsError(f"{folder} exists and is not colour faces n={n} seed={seed}: remove it or pick another")
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        digits = max(5, len(str(n - 1)))
        for i in range(n):
            rgb = draw_face(np.random.default_rng([seed, i]))
            ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
            if not ok:
                raise RuntimeError(f"OpenCV could not encode image {i}")
            (tmp / f"face_{i:0{digits}d}.jpg").write_bytes(data.tobytes())
        (tmp / MARKER).write_text(json.dumps(_marker(n, seed)))
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to create (must not exist, unless it holds the same set)")
    parser.add_argument("--n", type=int, default=2000, help="number of images (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default 0; use 1 for a held-out set)")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")
    start = time.perf_counter()
    try:
        folder = write_colour_faces(args.out, args.n, args.seed)
    except FileExistsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{folder}: {args.n} images, seed {args.seed}, {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
