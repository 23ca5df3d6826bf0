"""The quality metrics against their definitions, on arrays."""

import cv2
import numpy as np
import pytest
from skimage import data

from ganmodels.metrics.fid import find_weights, frechet_distance, how_to_enable, kernel_inception_distance
from ganmodels.metrics.memorization import memorization
from ganmodels.metrics.ms_ssim import diversity
from ganmodels.metrics.ndb import js_divergence, ndb_js
from ganmodels.metrics.swd import laplacian_pyramid, swd


@pytest.fixture(scope="module")
def faces() -> np.ndarray:
    """Real faces: 100 LFW crops at 32 px, RGB."""
    gray = (data.lfw_subset()[:100] * 255).round().astype(np.uint8)
    return np.stack([cv2.resize(f, (32, 32), interpolation=cv2.INTER_CUBIC) for f in gray])[..., None].repeat(3, -1)


def test_pyramid_levels_go_down_to_16_px():
    assert [lv.shape[1] for lv in laplacian_pyramid(np.zeros((1, 64, 64, 3)))] == [64, 32, 16]
    assert [lv.shape[1] for lv in laplacian_pyramid(np.zeros((1, 32, 32, 1)))] == [32, 16]


def test_swd_is_zero_against_itself_and_grows_with_noise(faces):
    assert swd(faces, faces)["mean"] == pytest.approx(0.0, abs=1e-9)
    rng = np.random.default_rng(0)
    scores = []
    for sigma in (4, 12, 36):
        noisy = np.clip(faces + rng.normal(0, sigma, faces.shape), 0, 255).astype(np.uint8)
        result = swd(faces, noisy)
        assert len(result["levels"]) == 2
        scores.append(result["mean"])
    assert scores[0] < scores[1] < scores[2]
    assert scores[0] > 0


def test_ndb_flags_a_collapsed_generator_and_passes_real_against_real(faces):
    real_vs_real = ndb_js(faces[:50], faces[50:], bins=10)
    collapsed = ndb_js(faces, np.repeat(faces[:1], 100, axis=0), bins=10)
    assert real_vs_real["ndb"] <= 2 and collapsed["ndb"] >= 5
    assert collapsed["js"] > 3 * real_vs_real["js"]
    assert js_divergence(np.array([1.0, 1.0]), np.array([1.0, 1.0])) == pytest.approx(0.0)


def test_ms_ssim_diversity_sees_repetition(faces):
    result = diversity(faces, np.repeat(faces[:1], 100, axis=0), pairs=64)
    assert result["ms_ssim_fake"] == pytest.approx(1.0, abs=1e-4)
    assert result["ms_ssim_real"] < 0.9 and result["gap"] > 0.1


def test_memorization_flags_an_exact_copy(faces):
    train = faces[10:]
    fake = np.concatenate([faces[:5], train[7:8]])  # five unseen faces and one training image
    result = memorization(fake, train)
    assert result["closest"][0][:2] == (5, 7) and result["closest"][0][2] == pytest.approx(0.0, abs=1e-3)
    assert result["real_nn_median"] > 0  # real-to-real excludes each image itself
    assert result["near_copy_fraction"] == pytest.approx(1 / 6)  # the copy, and none of the unseen faces
    assert result["real_near_copy_fraction"] == 0


def test_a_blurry_average_face_is_close_to_every_face_but_no_near_copy(faces):
    """What a blurry early generator draws: nearer every training face than real faces are to each other,
    which the distance alone reported as 100% "memorized"; a training face under noise is a near-copy."""
    train = faces[10:]
    blurry = np.repeat(train.mean(0, keepdims=True).round().astype(np.uint8), 16, 0)
    result = memorization(blurry, train)
    assert result["closer_than_real_fraction"] == 1.0 and result["near_copy_fraction"] == 0.0
    noisy = np.clip(train[:16] + np.random.default_rng(0).normal(0, 20, train[:16].shape), 0, 255).astype(np.uint8)
    assert memorization(noisy, train)["near_copy_fraction"] == 1.0


def test_fid_is_skipped_without_weights_and_its_math_is_right(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert find_weights() is None
    assert "--inception-weights" in how_to_enable()
    with pytest.raises(FileNotFoundError):
        find_weights(tmp_path / "missing.h5")
    # Two Gaussians with identity covariance whose means differ by 3 in one coordinate: FID = 9.
    assert frechet_distance(np.zeros(4), np.eye(4), np.array([3.0, 0, 0, 0]), np.eye(4)) == pytest.approx(9.0)
    rng = np.random.default_rng(0)
    same = kernel_inception_distance(rng.normal(size=(300, 8)), rng.normal(size=(300, 8)), subsets=3, size=300)
    shifted = kernel_inception_distance(rng.normal(size=(300, 8)), rng.normal(2, 1, (300, 8)), subsets=3, size=300)
    assert abs(same) < 0.05 < shifted
