"""Shared fixtures: one Prefect test server per session, and isolated state and output folders."""

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from classic_files import classic_site  # noqa: E402, F401 - the classic datasets' loopback mirror

pytest_plugins = ["missing_test_deps", "pytester"]  # under CI a skip for a missing test dependency fails


@pytest.fixture(scope="session")
def prefect_server():
    """The real Prefect server, started once for the whole session; yields its API URL."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield PREFECT_API_URL.value()


def write_faces(folder: Path, count: int, size: tuple[int, int] = (40, 30)) -> Path:
    """`count` small, distinct RGB images with a face-like pattern, as PNG files."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(count)
    h, w = size
    for i in range(count):
        img = np.full((h, w, 3), 40 + 20 * i % 200, np.uint8)
        cv2.ellipse(img, (w // 2, h // 2), (w // 3, h // 3), 0, 0, 360, (200, 180, 160), -1)
        cv2.circle(img, (w // 3, h // 2 - 3), 2, (20, 20, 20), -1)
        cv2.circle(img, (2 * w // 3, h // 2 - 3), 2, (20, 20, 20), -1)
        img = np.clip(img.astype(int) + rng.integers(-10, 10, img.shape), 0, 255).astype(np.uint8)
        cv2.imwrite(str(folder / f"img_{i:02d}.png"), img)
    return folder


@pytest.fixture
def make_faces(tmp_path: Path):
    """Factory: `make_faces(count)` writes that many small face-like PNGs into a new folder."""

    def make(count: int, name: str = "faces") -> Path:
        return write_faces(tmp_path / name, count)

    return make


@pytest.fixture
def tiny_faces(make_faces) -> Path:
    return make_faces(8)


@pytest.fixture(scope="session")
def prefect_deployments(tmp_path_factory):
    """`prefect server start` on 127.0.0.1, a process pool, `prefect deploy --all`, and a worker.

    A second server beside `prefect_server`: this one is started the way a user starts it, with its own
    PREFECT_HOME, and every process it started is stopped at the end of the session.
    """
    from prefect_service import prefect_service

    with prefect_service(tmp_path_factory.mktemp("prefect-home")) as service:
        yield service


@pytest.fixture
def params(prefect_server, tiny_faces, tmp_path):
    """Flow parameters for a quick real run: 8 faces, 28 px gray, 2 epochs, this test's own folders."""
    from flows.params import RunParams

    return RunParams(
        source=str(tiny_faces),
        size=28,
        channels=1,
        epochs=2,
        batch_size=4,
        latent_dim=16,
        run_dir=tmp_path / "run",
        data_dir=tmp_path / "data",
    )
