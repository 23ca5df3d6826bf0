"""Pictures as uint8 arrays: the sample grid, PNG bytes and files, shrinking, and the labelled frame.

Shared by training (the epoch's sample grid and the newest-grid artifact) and the report steps (the GIF,
the nearest-neighbour picture, the sweep's contact sheet), so neither imports the other for them.
"""

from pathlib import Path

import cv2
import numpy as np

from tasks.atomic import write_bytes

MIN_FRAME_SIDE = 200  # smaller grids are enlarged (nearest neighbour) so the faces stay visible


def image_grid(images: np.ndarray, gap: int = 2) -> np.ndarray:
    """(N, H, W, C) uint8 to one near-square grid image with thin dark gaps."""
    n, h, w, c = images.shape
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    grid = np.zeros((rows * (h + gap) + gap, cols * (w + gap) + gap, c), np.uint8)
    for i, img in enumerate(images):
        r, k = divmod(i, cols)
        grid[gap + r * (h + gap) : gap + r * (h + gap) + h, gap + k * (w + gap) : gap + k * (w + gap) + w] = img
    return grid


def encode_png(image: np.ndarray) -> bytes:
    """An RGB or gray uint8 image as PNG bytes."""
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(".png", image)
    if not ok:
        raise OSError(f"could not encode a {image.shape} image as PNG")
    return encoded.tobytes()


def write_png(path: Path, image: np.ndarray) -> Path:
    """Write an RGB or gray uint8 image as PNG, atomically."""
    return write_bytes(path, encode_png(image))


def read_rgb(path: Path) -> np.ndarray:
    """A PNG written by `write_png` as RGB uint8 (gray ones too)."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise OSError(f"could not read the image {path}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def fit_within(image: np.ndarray, max_side: int) -> np.ndarray:
    """Shrink (area filter) so that neither side exceeds `max_side`; smaller images are kept as they are."""
    scale = max_side / max(image.shape[:2])
    if scale >= 1:
        return image
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def labelled_frame(grid: np.ndarray, label: str) -> np.ndarray:
    """Enlarge a grid (nearest neighbour keeps pixels crisp) and put `label` in a band above it."""
    rgb = grid if grid.ndim == 3 and grid.shape[2] == 3 else cv2.cvtColor(grid, cv2.COLOR_GRAY2RGB)
    scale = max(1, int(np.ceil(MIN_FRAME_SIDE / max(rgb.shape[:2]))))
    big = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    band = np.full((22, big.shape[1], 3), 24, np.uint8)
    cv2.putText(band, label, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return np.concatenate([band, big], axis=0)
