"""Crop modes keep exactly the region they promise, and resizing uses the right filter per direction."""

import cv2
import numpy as np
import pytest

from tasks.preprocess.crops import crop_box, crop_square, fit_square, output_extent, resize_to, scale_box
from tasks.preprocess.image_decode import prepare_image


def coordinates(height: int, width: int) -> np.ndarray:
    """An image whose pixels say where they are: channel 0 = row, channel 1 = column (both < 256 here)."""
    rows, cols = np.mgrid[0:height, 0:width]
    return np.dstack([rows, cols, np.zeros_like(rows)]).astype(np.uint8)


def kept_region(image: np.ndarray) -> tuple[int, int, int, int]:
    """(first row, last row, first col, last col) of the source pixels a crop kept, checking they are a block."""
    rows, cols = image[..., 0], image[..., 1]
    assert (rows == rows[:, :1]).all() and (cols == cols[:1, :]).all(), "the crop is not one rectangular block"
    assert (np.diff(rows[:, 0].astype(int)) == 1).all() and (np.diff(cols[0].astype(int)) == 1).all()
    return int(rows[0, 0]), int(rows[-1, 0]), int(cols[0, 0]), int(cols[0, -1])


@pytest.mark.parametrize(
    ("shape", "mode", "expected"),
    [
        ((218, 178), "celeba", (55, 162, 35, 142)),  # the CelebA face box, rows 55:163, cols 35:143
        ((218, 178), "center", (20, 197, 0, 177)),
        ((40, 60), "center", (0, 39, 10, 49)),
        ((60, 40), "center", (10, 49, 0, 39)),
        ((109, 89), "celeba", (28, 81, 18, 71)),  # half size: a 54x54 box (rounded)
        ((218, 178), "pad", (0, 217, 0, 177)),
        ((218, 178), "none", (0, 217, 0, 177)),
    ],
)
def test_each_crop_keeps_exactly_its_region(shape, mode, expected):
    assert kept_region(crop_square(coordinates(*shape), mode)) == expected


def test_celeba_box_scales_with_the_image():
    # A CelebA image at twice the size keeps the same face: the box doubles.
    box = crop_box(436, 356, "celeba")
    assert (box.top, box.left, box.height, box.width) == (110, 70, 216, 216)


def test_center_and_celeba_output_through_the_whole_path(tmp_path):
    # 218x178 black image whose CelebA box is white: celeba keeps only white, center keeps some black.
    img = np.zeros((218, 178, 3), np.uint8)
    img[55:163, 35:143] = 255
    path = tmp_path / "celeb.png"
    cv2.imwrite(str(path), img)
    assert (prepare_image(path, 32, 3, "celeba") == 255).all()
    center = prepare_image(path, 32, 3, "center")
    assert center.min() == 0 and center.max() == 255


def test_pad_keeps_the_aspect_and_centres_on_black(tmp_path):
    # A 40x80 (h x w) white image becomes a 16x32 white band centred in a 32x32 black square.
    path = tmp_path / "wide.png"
    cv2.imwrite(str(path), np.full((40, 80, 3), 255, np.uint8))
    out = prepare_image(path, 32, 3, "pad")
    assert (out[8:24] == 255).all()
    assert (out[:8] == 0).all() and (out[24:] == 0).all()


def test_none_stretches_the_whole_image(tmp_path):
    # Left half red, right half blue, 40x80: stretched, each half becomes 16 columns of a 32x32 image.
    img = np.zeros((40, 80, 3), np.uint8)
    img[:, :40] = (0, 0, 255)  # BGR red
    img[:, 40:] = (255, 0, 0)  # BGR blue
    path = tmp_path / "halves.png"
    cv2.imwrite(str(path), img)
    out = prepare_image(path, 32, 3, "none")
    assert (out[:, :16] == (255, 0, 0)).all() and (out[:, 16:] == (0, 0, 255)).all()


def test_pad_extent_and_fit():
    box = crop_box(218, 178, "pad")
    assert output_extent(box, 32, "pad") == (32, 26)
    assert output_extent(box, 32, "center") == (32, 32)
    square = fit_square(np.full((218, 178), 9, np.uint8), 32, (32, 26))
    assert square.shape == (32, 32) and (square[:, 3:29] == 9).all() and (square[:, :3] == 0).all()


def test_pad_sizes_as_pils_thumbnail_and_puts_the_odd_pixel_first():
    """The 32 px seed: `temp.thumbnail(size, Image.ANTIALIAS)` (width first, then height, each truncated, never
    enlarged), then `np.pad(temp, ((hor//2 + 1, hor//2), ...)` with black."""
    assert output_extent(crop_box(300, 110, "pad"), 32, "pad") == (32, 11)  # 110 -> 32 x 87 -> 11 x 32 (round: 12)
    assert output_extent(crop_box(300, 230, "pad"), 32, "pad") == (32, 24)
    assert output_extent(crop_box(20, 24, "pad"), 32, "pad") == (20, 24)  # thumbnail never enlarges
    square = fit_square(np.full((300, 110), 9, np.uint8), 32, (32, 11))
    assert (square[:, 11:22] == 9).all() and (square[:, :11] == 0).all() and (square[:, 22:] == 0).all()


def test_scaled_box_matches_the_full_size_box():
    # The CelebA box in an image decoded at 1/4 scale (55x45) covers the same part of the face.
    box = scale_box(crop_box(218, 178, "celeba"), (218, 178), (55, 45))
    assert (box.top, box.left, box.height, box.width) == (14, 9, 27, 27)


def test_downscale_is_inter_area_and_upscale_is_inter_cubic():
    rng = np.random.default_rng(1)
    big = rng.integers(0, 256, (90, 70, 3), dtype=np.uint8)
    assert np.array_equal(resize_to(big, 32, 32), cv2.resize(big, (32, 32), interpolation=cv2.INTER_AREA))
    small = rng.integers(0, 256, (25, 25), dtype=np.uint8)
    assert np.array_equal(resize_to(small, 32, 32), cv2.resize(small, (32, 32), interpolation=cv2.INTER_CUBIC))
    # Mixed: 20 rows grow (cubic), 100 columns shrink (area), each axis with its own filter.
    mixed = rng.integers(0, 256, (20, 100), dtype=np.uint8)
    area_first = cv2.resize(mixed, (32, 20), interpolation=cv2.INTER_AREA)
    assert np.array_equal(resize_to(mixed, 32, 32), cv2.resize(area_first, (32, 32), interpolation=cv2.INTER_CUBIC))


@pytest.mark.parametrize("channels", [1, 3])
def test_area_resize_is_byte_identical_to_opencv_inter_area_on_every_route(channels):
    # ganflow shrinks colour images on float32 when the scale is fractional (faster); it must give the
    # very bytes of cv2.INTER_AREA on uint8, for fractional and whole-number scales alike.
    rng = np.random.default_rng(7)
    pairs = [((55, 45), (32, 26)), ((109, 89), (64, 52)), ((64, 64), (32, 32)), ((60, 50), (28, 28))]
    pairs += [
        ((int(h), int(w)), (int(rng.integers(8, h + 1)), int(rng.integers(8, w + 1))))
        for h, w in rng.integers(20, 140, (40, 2))
    ]
    for (h, w), (out_h, out_w) in pairs:
        image = rng.integers(0, 256, (h, w, channels) if channels == 3 else (h, w), dtype=np.uint8)
        image = cv2.GaussianBlur(image, (3, 3), 0) if rng.random() < 0.5 else image  # smooth and noisy inputs
        expected = cv2.resize(image, (out_w, out_h), interpolation=cv2.INTER_AREA)
        assert np.array_equal(resize_to(image, out_h, out_w), expected), ((h, w), (out_h, out_w))


def test_fit_square_fills_a_given_row_in_place():
    row = np.full((32, 32, 3), 77, np.uint8)  # stale pixels from an earlier image must not survive
    image = np.random.default_rng(2).integers(0, 256, (218, 178, 3), dtype=np.uint8)
    out = fit_square(image, 32, (32, 26), row)
    assert out is row
    assert np.array_equal(row, fit_square(image, 32, (32, 26)))
    assert (row[:, :3] == 0).all() and (row[:, 29:] == 0).all()
