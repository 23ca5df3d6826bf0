import json

import cv2
import numpy as np
import pytest

from tasks.acquire import AcquiredImages, Source
from tasks.preprocess import crop_square, prepare_image, preprocess_images, resize_square


def test_center_crop_keeps_the_largest_centred_square():
    # 40 rows x 60 cols: columns 10..49 are the centred 40x40 square, marked white; the rest black.
    img = np.zeros((40, 60, 3), np.uint8)
    img[:, 10:50] = 255
    out = crop_square(img, "center")
    assert out.shape == (40, 40, 3)
    assert out.min() == 255
    tall = np.zeros((60, 40), np.uint8)
    tall[10:50] = 7
    assert crop_square(tall).shape == (40, 40) and crop_square(tall).min() == 7


def test_resize_keeps_a_quadrant_pattern():
    img = np.zeros((64, 64, 3), np.uint8)
    img[:32, :32] = (255, 0, 0)
    img[:32, 32:] = (0, 255, 0)
    img[32:, :32] = (0, 0, 255)
    img[32:, 32:] = (255, 255, 255)
    out = resize_square(img, 32)
    assert out.shape == (32, 32, 3)
    assert (out[:16, :16] == (255, 0, 0)).all() and (out[:16, 16:] == (0, 255, 0)).all()
    assert (out[16:, :16] == (0, 0, 255)).all() and (out[16:, 16:] == 255).all()


def test_prepare_image_decodes_crops_resizes_in_rgb(tmp_path):
    img = np.zeros((50, 80, 3), np.uint8)
    img[:, 15:65] = (0, 0, 255)  # BGR red in the centred square, green bars outside it
    img[:, :15] = img[:, 65:] = (0, 255, 0)
    path = tmp_path / "ünïcode name.PNG"
    cv2.imencode(".png", img)[1].tofile(str(path))
    rgb = prepare_image(path, 28, 3, "center")
    assert rgb.shape == (28, 28, 3) and (rgb == (255, 0, 0)).all()
    gray = prepare_image(path, 32, 1, "center")
    assert gray.shape == (32, 32, 1) and len(np.unique(gray)) == 1


def test_corrupt_files_are_skipped_and_recorded(tmp_path, tiny_faces):
    (tiny_faces / "broken.jpg").write_text("not an image")
    (tiny_faces / "empty.png").write_bytes(b"")
    acquired = AcquiredImages(Source("folder", str(tiny_faces)), tiny_faces, "test:faces", 10)
    data = preprocess_images(acquired, 32, 3, "center", tmp_path / "data")
    assert data.count == 8 and data.skipped == 2
    array = np.load(data.npy)
    assert array.shape == (8, 32, 32, 3) and array.dtype == np.uint8
    manifest = json.loads(data.manifest.read_text())
    reasons = {item["file"].rsplit("/", 1)[-1]: item["reason"] for item in manifest["skipped"]}
    assert reasons == {"broken.jpg": "not a decodable image", "empty.png": "empty file"}
    assert manifest["count"] == 8 and manifest["params"]["size"] == 32
    assert manifest["identity"] == "test:faces"
    import hashlib

    assert manifest["sha256"] == hashlib.sha256(data.npy.read_bytes()).hexdigest()
    assert not list(data.npy.parent.glob(".*tmp*")), "temporary files left behind"


def test_cache_key_depends_on_source_and_parameters(tmp_path, tiny_faces):
    acquired = AcquiredImages(Source("folder", str(tiny_faces)), tiny_faces, "id-1", 8)
    a = preprocess_images(acquired, 32, 3, "center", tmp_path)
    assert preprocess_images(acquired, 32, 3, "center", tmp_path).npy == a.npy
    assert preprocess_images(acquired, 28, 3, "center", tmp_path).npy != a.npy
    changed = AcquiredImages(acquired.source, tiny_faces, "id-2", 8)
    assert preprocess_images(changed, 32, 3, "center", tmp_path).npy.parent != a.npy.parent


def test_unknown_crop_is_rejected():
    with pytest.raises(ValueError, match="unknown crop"):
        crop_square(np.zeros((4, 4)), "corner")
