"""`ganflow generate`: new images from a trained run, with no Prefect server anywhere."""

import os
import subprocess
import sys

import imageio.v3 as iio
import numpy as np
import pytest
from entry_point import ganflow_each

from ganmodels.config import GanConfig
from ganmodels.latents import latent_walk, sample_latents, slerp
from tasks.preprocess.task import PreprocessedData
from tasks.train.options import TrainOptions
from tasks.train.task import train_gan


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A real, tiny trained run (trained directly, without a flow)."""
    cfg = GanConfig(size=28, channels=1, latent_dim=8, batch_size=4, g_filters=8, d_filters=8)
    return _trained_run(tmp_path_factory.mktemp("gen"), cfg)


def _trained_run(root, cfg: GanConfig):
    images = np.random.default_rng(0).integers(0, 256, (8, 28, 28, 1), dtype=np.uint8)
    np.save(root / "images.npy", images)
    data = PreprocessedData(root / "images.npy", root / "manifest.json", 8, 0, "")
    train_gan(data, cfg, TrainOptions(epochs=2), root / "run")
    return root / "run"


def ganflow(*args):
    env = {
        **os.environ,
        "PREFECT_API_URL": "http://127.0.0.1:9/api",  # nothing listens there
        "PYTHONPATH": os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", "generate", *args], capture_output=True, text=True, env=env, timeout=300
    )


@pytest.mark.slow
def test_pngs_grid_and_checkpoint(run_dir, tmp_path):
    out = ganflow("--run-dir", str(run_dir), "--num", "3", "--out", str(tmp_path / "a"))
    assert out.returncode == 0, out.stderr
    pngs = sorted((tmp_path / "a").glob("*.png"))
    assert len(pngs) == 3 and iio.imread(pngs[0]).shape == (28, 28)

    out = ganflow(
        "--run-dir", str(run_dir), "--checkpoint", "latest", "--num", "4", "--grid", "--out", str(tmp_path / "b")
    )
    assert out.returncode == 0, out.stderr
    assert iio.imread(tmp_path / "b" / "grid.png").shape[0] > 2 * 28  # a 2x2 grid
    assert out.stdout.strip().splitlines()[-1] == f"Wrote {(tmp_path / 'b' / 'grid.png').resolve()}"


@pytest.mark.slow
def test_images_go_into_the_run_folder_and_the_absolute_path_is_printed(run_dir, tmp_path):
    """Not into a `generated` folder in whatever folder the command was typed in."""
    out = subprocess.run(
        [sys.executable, "-m", "flows.cli", "generate", "--run-dir", str(run_dir), "--num", "2"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")])},
        cwd=tmp_path,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    folder = run_dir.resolve() / "generated"
    assert out.stdout.strip().splitlines()[-1] == f"Wrote 2 images to {folder}"
    assert len(list(folder.glob("*.png"))) == 2 and list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_same_seed_same_images_and_checkpoints_match_their_files(run_dir, tmp_path):
    """generator.keras is the best epoch's generator, generator-last.keras the latest checkpoint's."""
    runs = {
        "final": ["--run-dir", str(run_dir)],
        "again": ["--run-dir", str(run_dir)],
        "best": ["--run-dir", str(run_dir), "--checkpoint", "best"],
        "last": ["--model", str(run_dir / "generator-last.keras")],
        "latest": ["--run-dir", str(run_dir), "--checkpoint", "latest"],
    }
    for name, args in runs.items():
        assert ganflow(*args, "--num", "2", "--out", str(tmp_path / name)).returncode == 0

    def image(name):
        return iio.imread(tmp_path / name / "sample_00000.png")

    np.testing.assert_array_equal(image("final"), image("again"))
    np.testing.assert_array_equal(image("final"), image("best"))
    np.testing.assert_array_equal(image("last"), image("latest"))


@pytest.mark.slow
def test_interpolation_gif_from_a_model_file(run_dir, tmp_path):
    out = ganflow(
        "--model", str(run_dir / "generator.keras"), "--num", "1", "--interpolate", "3", "--out", str(tmp_path)
    )
    assert out.returncode == 0, out.stderr
    assert iio.improps(tmp_path / "walk.gif", index=None).shape[0] == 3 * 12


BAD_REQUESTS = [
    ([], "exactly one of --run-dir"),
    (["--checkpoint", "/no/such/ckpt"], "no checkpoint at that prefix"),
    (["--truncation", "0"], "--truncation"),
]


@pytest.fixture(scope="module")
def refused(run_dir) -> list:
    """How each bad request ended, in one process (tests/entry_point.py)."""
    commands = [["generate", *(["--run-dir", str(run_dir), *args] if args else [])] for args, _ in BAD_REQUESTS]
    return ganflow_each(*commands, env={"PREFECT_API_URL": "http://127.0.0.1:9/api"})  # nothing listens there


@pytest.mark.slow
@pytest.mark.parametrize("case", range(len(BAD_REQUESTS)), ids=[message for _, message in BAD_REQUESTS])
def test_bad_requests_are_one_line(refused, case):
    out, message = refused[case], BAD_REQUESTS[case][1]
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], out.stderr


def test_truncation_and_slerp():
    z = sample_latents(64, 16, seed=1, truncation=0.5)
    assert np.abs(z).max() <= 0.5 and z.std() > 0.1
    a, b = sample_latents(2, 16, seed=2)
    np.testing.assert_allclose(slerp(a, b, 0.0), a, atol=1e-6)
    np.testing.assert_allclose(slerp(a, b, 1.0), b, atol=1e-5)
    mid = slerp(a, b, 0.5)
    assert np.linalg.norm(mid) > np.linalg.norm((a + b) / 2)  # the arc keeps its norm, the chord shrinks
    walk = latent_walk(np.stack([a, b]), 4)
    assert walk.shape == (8, 16)
    np.testing.assert_allclose(walk[0], a, atol=1e-6)


@pytest.fixture(scope="module")
def ema_run_dir(tmp_path_factory):
    """A tiny run with EMA, uniform latents and image-shaped noise: generate must follow all three."""
    cfg = GanConfig(
        size=28,
        channels=1,
        arch="convdense",
        noise_shape="image",
        width=0.0625,
        batch_size=4,
        ema=0.9,
        latent_dist="uniform",
    )
    return _trained_run(tmp_path_factory.mktemp("gen-ema"), cfg)


@pytest.mark.slow
def test_an_ema_run_generates_from_its_ema_generator(ema_run_dir, tmp_path):
    # generator.keras is the best epoch's (quality is evaluated every epoch): compare with that checkpoint.
    for name, extra in [("final", []), ("ckpt", ["--checkpoint", "best"])]:
        out = ganflow("--run-dir", str(ema_run_dir), "--num", "2", "--out", str(tmp_path / name), *extra)
        assert out.returncode == 0, out.stderr
    np.testing.assert_array_equal(  # the checkpoint's EMA generator is the one saved as generator.keras
        iio.imread(tmp_path / "final" / "sample_00000.png"), iio.imread(tmp_path / "ckpt" / "sample_00000.png")
    )
    out = ganflow("--run-dir", str(ema_run_dir), "--num", "1", "--interpolate", "2", "--out", str(tmp_path / "w"))
    assert out.returncode == 0, out.stderr
    assert iio.improps(tmp_path / "w" / "walk.gif", index=None).shape[0] == 2 * 12


@pytest.mark.slow
def test_latents_follow_the_run_and_truncate_in_their_distribution(ema_run_dir):
    from tasks.report.generate import latent_distribution

    assert latent_distribution(ema_run_dir) == "uniform"
    assert latent_distribution(model=ema_run_dir / "generator.keras") == "uniform"
    z = sample_latents(50, (4, 4, 1), seed=1, truncation=0.5, dist="uniform")
    assert z.shape == (50, 4, 4, 1) and np.abs(z).max() <= 0.5
