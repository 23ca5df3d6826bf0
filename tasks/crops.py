"""Crop modes: which part of an image becomes the square training image, and how it is resized.

- `center`: the largest centred square (the standard choice).
- `celeba`: the CelebA face box, rows 55:163 and cols 35:143 of a 218x178 image, scaled per axis for
  other sizes, so aligned CelebA images keep exactly the 108x108 face.
- `pad`: the whole image, aspect kept, centred on a black square (the 32 px seed's thumbnail + zero pad).
- `none`: the whole image stretched to the square (the 64 px seed).

The box is computed on the full-size image first, so a JPEG decoded at 1/2, 1/4 or 1/8 scale keeps
the same region (`scale_box`).
"""

from dataclasses import dataclass

import cv2
import numpy as np

CROPS = ("center", "celeba", "pad", "none")
CELEBA_FRAME = (218, 178)  # (height, width) of an aligned CelebA image
CELEBA_ROWS, CELEBA_COLS = (55, 163), (35, 143)


@dataclass(frozen=True)
class Box:
    """A region of an image: top-left corner and extent, in pixels."""

    top: int
    left: int
    height: int
    width: int

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.top, self.top + self.height), slice(self.left, self.left + self.width)


def crop_box(height: int, width: int, mode: str = "center") -> Box:
    """The region of a `height` x `width` image that `mode` keeps."""
    if mode == "center":
        side = min(height, width)
        return Box((height - side) // 2, (width - side) // 2, side, side)
    if mode == "celeba":
        top, bottom = (round(r * height / CELEBA_FRAME[0]) for r in CELEBA_ROWS)
        left, right = (round(c * width / CELEBA_FRAME[1]) for c in CELEBA_COLS)
        return Box(top, left, max(1, bottom - top), max(1, right - left))
    if mode in ("pad", "none"):
        return Box(0, 0, height, width)
    raise ValueError(f"unknown crop {mode!r}; choose from {', '.join(CROPS)}")


def output_extent(box: Box, size: int, mode: str) -> tuple[int, int]:
    """(height, width) the box is resized to: the full square, or for `pad` the aspect-kept fit inside it."""
    if mode != "pad":
        return size, size
    long_side = max(box.height, box.width)
    return (
        max(1, round(box.height * size / long_side)),
        max(1, round(box.width * size / long_side)),
    )


def scale_box(box: Box, full: tuple[int, int], decoded: tuple[int, int]) -> Box:
    """The same region in an image decoded at reduced scale (`decoded` = its (height, width))."""
    if full == decoded:
        return box
    sy, sx = decoded[0] / full[0], decoded[1] / full[1]
    top, left = round(box.top * sy), round(box.left * sx)
    bottom = min(decoded[0], max(top + 1, round((box.top + box.height) * sy)))
    right = min(decoded[1], max(left + 1, round((box.left + box.width) * sx)))
    return Box(top, left, bottom - top, right - left)


def crop_square(image: np.ndarray, mode: str = "center") -> np.ndarray:
    """The region `mode` keeps, as a view (`pad` and `none` keep the whole image)."""
    return image[crop_box(image.shape[0], image.shape[1], mode).slices]


def resize_to(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """INTER_AREA on the axes that shrink (no aliasing), INTER_CUBIC on the axes that grow."""
    h, w = image.shape[:2]
    mid = (min(h, height), min(w, width))
    if mid != (h, w):
        image = cv2.resize(image, (mid[1], mid[0]), interpolation=cv2.INTER_AREA)
    if mid != (height, width):
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_CUBIC)
    return image


def resize_square(image: np.ndarray, size: int) -> np.ndarray:
    """`image` resized to `size` x `size`."""
    return resize_to(image, size, size)


def fit_square(region: np.ndarray, size: int, extent: tuple[int, int]) -> np.ndarray:
    """Resize the cropped region to `extent` and centre it on a black `size` x `size` square."""
    resized = resize_to(region, *extent)
    if extent == (size, size):
        return resized
    canvas = np.zeros((size, size, *resized.shape[2:]), resized.dtype)
    top, left = (size - extent[0]) // 2, (size - extent[1]) // 2
    canvas[top : top + extent[0], left : left + extent[1]] = resized
    return canvas
