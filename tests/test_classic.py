"""Classic datasets (mnist, fashion_mnist, cifar10) from a pre-seeded keras.datasets cache: no network."""

import gzip
import pickle

import cv2
import numpy as np
import pytest

from tasks.acquire.sources.folder import list_images
from tasks.acquire.task import acquire_images, parse_source, source_key
from tasks.errors import UserError


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    home = tmp_path / "keras"
    (home / "datasets").mkdir(parents=True)
    monkeypatch.setenv("KERAS_HOME", str(home))
    return home / "datasets"


def seed_mnist(datasets, count: int = 6) -> np.ndarray:
    """A tiny but valid mnist.npz, laid out as keras.datasets.mnist saves it."""
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 255, (count, 28, 28), dtype=np.uint8)
    labels = np.arange(count, dtype=np.uint8) % 10
    np.savez(datasets / "mnist.npz", x_train=x_train, y_train=labels, x_test=x_train[:2], y_test=labels[:2])
    return x_train


def test_mnist_comes_from_the_keras_cache_as_png_files(keras_home, tmp_path):
    x_train = seed_mnist(keras_home)
    got = acquire_images("mnist", tmp_path / "data")
    files = list_images(got.images_dir)
    assert got.num_files == len(files) == 6 and got.source.name == "mnist"
    first = cv2.imread(str(files[0]), cv2.IMREAD_UNCHANGED)
    assert first.shape == (28, 28) and np.array_equal(first, x_train[0])  # gray, lossless
    assert got.identity.startswith("keras:mnist:train:sha256=")
    mtimes = [p.stat().st_mtime_ns for p in files]
    again = acquire_images("mnist", tmp_path / "data")  # written once, then reused
    assert again.identity == got.identity and [p.stat().st_mtime_ns for p in list_images(again.images_dir)] == mtimes

    key = source_key("mnist", tmp_path / "data")
    seed_mnist(keras_home, count=7)  # a different cache file: a new key, a new identity
    assert source_key("mnist", tmp_path / "data") != key
    assert acquire_images("mnist", tmp_path / "data").identity != got.identity


def test_fashion_mnist_and_cifar10_read_their_keras_cache_formats(keras_home, tmp_path):
    rng = np.random.default_rng(1)
    fashion = rng.integers(0, 255, (4, 28, 28), dtype=np.uint8)
    (keras_home / "fashion-mnist").mkdir()
    header = b"".join(n.to_bytes(4, "big") for n in (2051, 4, 28, 28))
    (keras_home / "fashion-mnist" / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(header + fashion.tobytes()))
    got = acquire_images("fashion-mnist", tmp_path / "data")
    assert got.num_files == 4 and got.source.location == "fashion_mnist"
    assert np.array_equal(cv2.imread(str(list_images(got.images_dir)[3]), cv2.IMREAD_UNCHANGED), fashion[3])

    batches = keras_home / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    batches.mkdir(parents=True)
    red = np.zeros((2, 3, 32, 32), np.uint8)
    red[:, 0] = 255  # channel-first rows, as CIFAR's python batches store them
    for i in range(1, 6):
        (batches / f"data_batch_{i}").write_bytes(pickle.dumps({b"data": red.reshape(2, -1), b"labels": [0, 1]}))
    got = acquire_images("cifar10", tmp_path / "data")
    assert got.num_files == 10
    pixel = cv2.cvtColor(cv2.imread(str(list_images(got.images_dir)[0])), cv2.COLOR_BGR2RGB)[0, 0]
    assert pixel.tolist() == [255, 0, 0]  # red stays red


def test_an_unreadable_cache_file_says_what_to_delete(keras_home, tmp_path):
    (keras_home / "mnist.npz").write_bytes(b"not a zip")
    with pytest.raises(UserError, match=f"cannot read keras.datasets' cache file {keras_home / 'mnist.npz'}"):
        acquire_images("mnist", tmp_path / "data")


def test_classic_names_parse_offline():
    assert [parse_source(n).location for n in ("mnist", "fashion_mnist", "fashion-mnist", "cifar10")] == [
        "mnist",
        "fashion_mnist",
        "fashion_mnist",
        "cifar10",
    ]


@pytest.mark.slow
def test_the_cli_trains_on_mnist_from_the_keras_cache(prefect_server, keras_home, tmp_path):
    from test_cli import ganflow

    seed_mnist(keras_home)
    out = ganflow(
        "run",
        *("--source", "mnist", "--size", "28", "--channels", "1", "--epochs", "1", "--batch-size", "3"),
        *("--latent-dim", "8", "--data-dir", str(tmp_path / "data")),
        env={"PREFECT_API_URL": prefect_server},
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Trained 2 steps this run" in out.stdout  # 6 images, batches of 3, one epoch
    assert (tmp_path / "runs").is_dir() and any((tmp_path / "runs").glob("mnist-28px-c1-*/progress.gif"))
