"""Crop modes: which part of an image becomes the square training image, and how it is resized.

- `center`: the largest centred square (the standard choice).
- `celeba`: the CelebA face box, rows 55:163 and cols 35:143 of a 218x178 image, scaled per axis for
  other sizes, so aligned CelebA images keep exactly the 108x108 face.
- `pad`: the whole image, aspect kept, centred on a black square (the 32 px seed's thumbnail + zero pad:
  its sizes and margins, not PIL's Lanczos filter or the seed's JPEG re-encode of the thumbnail).
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
    """(height, width) the box is resized to: the full square, or for `pad` the aspect-kept fit inside it.

    `pad` follows the 32 px seed's `temp.thumbnail(size, Image.ANTIALIAS)` (PIL 6): the width is fitted
    first, then the height, each new side truncated, and a smaller image is never enlarged.
    """
    if mode != "pad":
        return size, size
    height, width = box.height, box.width
    if width > size:
        height, width = int(max(height * size / width, 1)), size
    if height > size:
        height, width = size, int(max(width * size / height, 1))
    return height, width


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


def resize_to(image: np.ndarray, height: int, width: int, out: np.ndarray | None = None) -> np.ndarray:
    """INTER_AREA on the axes that shrink (no aliasing), INTER_CUBIC on the axes that grow.

    `out`: a (height, width[, channels]) uint8 array (a view is fine) to write the result into.
    """
    h, w = image.shape[:2]
    mid = (min(h, height), min(w, width))
    if mid == (height, width) and mid != (h, w):
        return _area(image, height, width, out)  # the usual case: shrink only, straight into `out`
    if mid != (h, w):
        image = _area(image, *mid)
    if mid != (height, width):
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_CUBIC)
    return _into(out, image)


def _area(image: np.ndarray, height: int, width: int, out: np.ndarray | None = None) -> np.ndarray:
    """`cv2.INTER_AREA`, by its fastest route for this image, into `out` when given.

    For a colour image and a scale that is not a whole number, OpenCV's area filter averages in float32
    whatever the input type, and it runs about a quarter faster on a float32 input: the same sums in
    the same order, then the same rounding, so the bytes are identical (tests/test_crops.py holds
    them equal). Whole-number scales and gray images keep the uint8 route, which is faster there.
    """
    h, w = image.shape[:2]
    if image.ndim == 2 or image.dtype != np.uint8 or (h % height == 0 and w % width == 0):
        return _into(out, cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA))
    resized = cv2.resize(image.astype(np.float32), (width, height), interpolation=cv2.INTER_AREA)
    # Round half to even and saturate, as the uint8 route does; written straight into `out` when given.
    return _into(out, cv2.convertScaleAbs(resized, dst=out))


def _into(out: np.ndarray | None, image: np.ndarray) -> np.ndarray:
    """`image` in `out` (copied there unless OpenCV already wrote it in place), or `image` itself."""
    if out is None:
        return image
    if image is not out:
        out[...] = image
    return out


def resize_square(image: np.ndarray, size: int) -> np.ndarray:
    """`image` resized to `size` x `size`."""
    return resize_to(image, size, size)


def fit_square(region: np.ndarray, size: int, extent: tuple[int, int], out: np.ndarray | None = None) -> np.ndarray:
    """Resize the cropped region to `extent` and centre it on a black `size` x `size` square.

    `out`: the (size, size[, channels]) uint8 array to fill, such as one row of a chunk's output, which
    saves a copy per image; a new array when None.
    """
    if out is None:
        if extent == (size, size):
            return resize_to(region, size, size)
        out = np.zeros((size, size, *region.shape[2:]), np.uint8)
    elif extent != (size, size):
        out[...] = 0
    # An odd margin puts its extra pixel at the top or left, as the seed's `np.pad(temp, ((hor//2 + 1, hor//2), ...`
    top, left = (size - extent[0] + 1) // 2, (size - extent[1] + 1) // 2
    resize_to(region, *extent, out=out[top : top + extent[0], left : left + extent[1]])
    return out
