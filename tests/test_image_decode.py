"""Headers, conversions, orientation and reduced-scale decoding of single images."""

import io
import struct

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from tasks.preprocess.crops import fit_square
from tasks.preprocess.image_decode import (
    DecodeSettings,
    Unusable,
    checked_header,
    decode,
    decode_plan,
    prepare_bytes,
    prepare_image,
)
from tasks.preprocess.image_header import ImageHeader, NotAnImage, read_header


def encoded(image: Image.Image, fmt: str, orientation: int = 1, **options) -> bytes:
    """`image` saved as `fmt` in memory, with an EXIF orientation tag when it is not 1."""
    if orientation != 1:
        exif = Image.Exif()
        exif[0x0112] = orientation
        options["exif"] = exif.tobytes()
    buf = io.BytesIO()
    image.save(buf, fmt, **options)
    return buf.getvalue()


def face_like(height: int = 218, width: int = 178, seed: int = 0) -> np.ndarray:
    """A smooth RGB image with a face-sized ellipse and some texture, like an aligned celebrity photo."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.dstack([80 + 0.4 * yy, 120 + 0.3 * xx, 160 - 0.2 * yy]).clip(0, 255).astype(np.uint8)
    cv2.ellipse(img, (width // 2, height // 2 + 10), (width // 3, height // 3), 0, 0, 360, (220, 180, 150), -1)
    for eye in (width // 2 - 22, width // 2 + 22):
        cv2.circle(img, (eye, height // 2 - 5), 6, (30, 30, 30), -1)
    noisy = img.astype(np.float32) + rng.normal(0, 4, img.shape)
    return cv2.GaussianBlur(noisy.clip(0, 255).astype(np.uint8), (3, 3), 0)


@pytest.mark.parametrize(
    ("fmt", "options"),
    [("JPEG", {}), ("JPEG", {"progressive": True}), ("PNG", {}), ("BMP", {}), ("WEBP", {})],
)
def test_header_size_matches_pillow(fmt, options):
    image = Image.fromarray(face_like(61, 47))
    header = read_header(encoded(image, fmt, **options))
    assert (header.width, header.height) == (47, 61)
    assert header.format == fmt.lower()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_header_reads_the_exif_orientation(fmt):
    header = read_header(encoded(Image.fromarray(face_like(40, 30)), fmt, orientation=6))
    assert header.orientation == 6 and header.oriented_size == (30, 40)


def test_text_is_not_an_image():
    with pytest.raises(NotAnImage):
        read_header(b"just some notes\n")


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_matches_pillow_exif_transpose(orientation):
    # A PNG (lossless) with a distinct value per pixel: ours must equal Pillow's exif_transpose exactly.
    pixels = np.arange(6 * 4 * 3, dtype=np.uint8).reshape(6, 4, 3)
    raw = encoded(Image.fromarray(pixels), "PNG", orientation)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(raw))))
    assert np.array_equal(decode(raw, read_header(raw), channels=3), expected)


@pytest.mark.parametrize("factor", [1, 2, 4])
@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_jpeg_orientation_is_applied_at_every_decode_scale(orientation, factor):
    # A bright block in the stored top-left corner: after the EXIF rotation it must sit where Pillow puts it.
    stored = np.zeros((96, 64, 3), np.uint8)
    stored[:32, :24] = 255
    raw = encoded(Image.fromarray(stored), "JPEG", orientation, quality=95)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(raw))))
    ours = decode(raw, read_header(raw), channels=3, factor=factor)
    reference = cv2.resize(expected, (ours.shape[1], ours.shape[0]), interpolation=cv2.INTER_AREA)
    assert ours.shape == reference.shape
    assert np.abs(ours.astype(int) - reference).mean() < 6


def test_rgba_is_composited_on_black(tmp_path):
    path = tmp_path / "rgba.png"
    Image.new("RGBA", (20, 20), (200, 100, 50, 128)).save(path)
    assert (prepare_image(path, 28, 3) == (100, 50, 25)).all()  # 200 * 128 / 255 = 100.4, ...


def test_gray_alpha_and_palette_with_transparency(tmp_path):
    Image.new("LA", (20, 20), (90, 255)).save(tmp_path / "la.png")
    assert (prepare_image(tmp_path / "la.png", 28, 1) == 90).all()
    palette = Image.new("P", (20, 20), 1)
    palette.putpalette([0, 0, 0, 200, 100, 50] + [0] * 762)
    palette.save(tmp_path / "p.png")
    assert (prepare_image(tmp_path / "p.png", 28, 3) == (200, 100, 50)).all()
    palette.save(tmp_path / "p_transparent.png", transparency=1)
    assert (prepare_image(tmp_path / "p_transparent.png", 28, 3) == 0).all()


def test_sixteen_bit_png_is_scaled_to_eight_bits(tmp_path):
    cv2.imwrite(str(tmp_path / "gray16.png"), np.full((20, 20), 40000, np.uint16))
    assert (prepare_image(tmp_path / "gray16.png", 28, 1) == 156).all()  # 40000 / 257 = 155.6
    cv2.imwrite(str(tmp_path / "bgr16.png"), np.dstack([np.full((20, 20), v, np.uint16) for v in (257, 2570, 65535)]))
    assert (prepare_image(tmp_path / "bgr16.png", 28, 3) == (255, 10, 1)).all()  # RGB order


def test_gray_source_gives_gray_replicated_to_rgb(tmp_path):
    cv2.imwrite(str(tmp_path / "gray.jpg"), np.full((30, 30), 77, np.uint8))
    out = prepare_image(tmp_path / "gray.jpg", 28, 3)
    assert out.shape == (28, 28, 3) and np.abs(out.astype(int) - 77).max() <= 1


def test_the_sample_path_upscales_small_gray_pngs_with_inter_cubic(tmp_path):
    face = face_like(25, 25)[..., 0]
    cv2.imwrite(str(tmp_path / "face.png"), face)
    expected = cv2.resize(face, (32, 32), interpolation=cv2.INTER_CUBIC)
    assert np.array_equal(prepare_image(tmp_path / "face.png", 32, 1)[..., 0], expected)
    assert np.array_equal(prepare_image(tmp_path / "face.png", 32, 3), np.repeat(expected[..., None], 3, axis=2))


@pytest.mark.parametrize("crop", ["center", "celeba", "pad", "none"])
@pytest.mark.parametrize(("size", "channels"), [(28, 1), (32, 3), (64, 3)])
def test_reduced_decode_is_close_to_full_decode_plus_inter_area(crop, size, channels):
    raw = cv2.imencode(".jpg", face_like(), [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
    settings = DecodeSettings(size, channels, crop)
    header = checked_header(raw, settings)
    plan = decode_plan(header, settings)
    room = min(plan.box.height / plan.extent[0], plan.box.width / plan.extent[1])
    assert plan.factor == (4 if room >= 4 else 2 if room >= 2 else 1)  # the 108 px CelebA box at 64 px: 1
    full = decode(raw, header, channels, factor=1)
    reference = fit_square(full[plan.region(full.shape[:2])], size, plan.extent).reshape(size, size, channels)
    ours = prepare_bytes(raw, settings)
    assert np.abs(ours.astype(int) - reference).mean() < 2.5  # of 255; 0.2 to 1.8 measured


def test_png_is_never_decoded_reduced():
    raw = cv2.imencode(".png", face_like())[1].tobytes()
    assert decode_plan(read_header(raw), DecodeSettings(32, 3)).factor == 1


def test_limits_are_checked_on_the_header_before_decoding():
    settings = DecodeSettings(32, 3, min_side=16, max_pixels=1000)
    with pytest.raises(Unusable, match="too many pixels"):
        checked_header(cv2.imencode(".png", np.zeros((40, 30), np.uint8))[1].tobytes(), settings)
    with pytest.raises(Unusable, match="too small"):
        checked_header(cv2.imencode(".png", np.zeros((15, 30), np.uint8))[1].tobytes(), settings)


def test_header_type_is_plain_data():
    assert ImageHeader("jpeg", 178, 218, 6).oriented_size == (178, 218)


def test_a_bmp_bomb_is_refused_from_its_header():
    # A BMP header claiming 30000 x 30000 pixels, with no pixel data: refused before anything is decoded.
    header = struct.pack("<2sIHHI", b"BM", 0, 0, 0, 54) + struct.pack(
        "<IiiHHIIiiII", 40, 30000, 30000, 1, 24, 0, 0, 0, 0, 0, 0
    )
    with pytest.raises(Unusable, match="too many pixels"):
        checked_header(header, DecodeSettings(32, 3))


def test_skip_details_do_not_carry_object_addresses():
    """The manifest must be the same in every run: no `<... object at 0x...>` in a reason's detail."""
    from tasks.preprocess.image_decode import Unusable

    assert Unusable("not a decodable image", "cannot identify image file <_io.BytesIO object at 0x7f8e58>").detail == (
        "cannot identify image file <_io.BytesIO object>"
    )
