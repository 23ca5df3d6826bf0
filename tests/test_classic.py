"""Classic datasets (mnist, fashion_mnist, cifar10): their published files, fetched into the data folder.

The files are tiny stand-ins in the published formats, served by a real `http.server` on 127.0.0.1 and
fetched with the real `requests` client; GANFLOW_CLASSIC_URL and GANFLOW_CLASSIC_SHA256 point ganflow at
them (tests/classic_files.py). The hash checks themselves are tested in test_security.py.
"""

import importlib.util
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from classic_files import idx_images_gz, keras_caches, mnist_npz, red_cifar

from tasks.acquire.sources import classic
from tasks.acquire.sources.folder import list_images
from tasks.acquire.task import acquire_images, parse_source, source_key
from tasks.errors import NetworkError, UserError


def test_mnist_is_downloaded_into_the_data_folder_and_nowhere_else(classic_site, tmp_path):
    data = tmp_path / "data"
    got = acquire_images("mnist", data)
    assert (data / "sources" / "classic" / "mnist" / "mnist.npz").read_bytes() == (
        classic_site.root / "mnist.npz"
    ).read_bytes()
    assert keras_caches(classic_site) == []  # neither ~/.keras nor $TMPDIR/.keras
    files = list_images(got.images_dir)
    assert got.num_files == len(files) == 6 and got.source.name == "mnist"
    assert got.images_dir.is_relative_to(data)
    first = cv2.imread(str(files[0]), cv2.IMREAD_UNCHANGED)
    assert first.shape == (28, 28) and np.array_equal(first, classic_site.mnist[0])  # gray, lossless
    assert got.identity.startswith("keras:mnist:train:sha256=")

    mtimes = [p.stat().st_mtime_ns for p in files]
    again = acquire_images("mnist", data)  # fetched once, then verified and reused with no network
    assert classic_site.fetched("mnist.npz") == 1
    assert again.identity == got.identity and [p.stat().st_mtime_ns for p in list_images(again.images_dir)] == mtimes


def test_the_cache_key_follows_the_file_and_its_pinned_hash(classic_site, tmp_path):
    data = tmp_path / "data"
    before = source_key("mnist", data)
    first = acquire_images("mnist", data)
    after = source_key("mnist", data)
    assert after != before  # the file arrived
    npz, _ = mnist_npz(count=7, seed=3)
    classic_site.serve("mnist.npz", npz)  # a new mirror file and its pin: a new key...
    assert source_key("mnist", data) != after
    classic.local_file("mnist", data).unlink()
    assert acquire_images("mnist", data).identity != first.identity  # ...and new data


def test_fashion_mnist_and_cifar10_read_their_published_formats(classic_site, tmp_path):
    fashion = np.random.default_rng(1).integers(0, 255, (4, 28, 28), dtype=np.uint8)
    classic_site.serve("train-images-idx3-ubyte.gz", idx_images_gz(fashion))
    got = acquire_images("fashion-mnist", tmp_path / "data")
    assert got.num_files == 4 and got.source.location == "fashion_mnist"
    assert np.array_equal(cv2.imread(str(list_images(got.images_dir)[3]), cv2.IMREAD_UNCHANGED), fashion[3])
    assert (tmp_path / "data/sources/classic/fashion_mnist/train-images-idx3-ubyte.gz").is_file()

    classic_site.serve("cifar-10-python.tar.gz", red_cifar())
    got = acquire_images("cifar10", tmp_path / "data")
    assert got.num_files == 10
    pixel = cv2.cvtColor(cv2.imread(str(list_images(got.images_dir)[0])), cv2.COLOR_BGR2RGB)[0, 0]
    assert pixel.tolist() == [255, 0, 0]  # red stays red
    assert sorted(p.name for p in (tmp_path / "data/sources/classic/cifar10").iterdir()) == ["cifar-10-python.tar.gz"]
    assert keras_caches(classic_site) == []


def test_a_verified_file_that_cannot_be_parsed_says_what_to_delete(classic_site, tmp_path):
    classic_site.serve("mnist.npz", b"not a zip, but pinned")
    with pytest.raises(UserError, match=re.escape(f"cannot read {classic.local_file('mnist', tmp_path / 'data')}")):
        acquire_images("mnist", tmp_path / "data")


def test_no_server_is_a_network_error_in_one_line(classic_site, tmp_path, monkeypatch):
    classic_site.server.shutdown()
    classic_site.server.server_close()
    with pytest.raises(NetworkError, match=r"^--source: downloading http://127\.0\.0\.1:\d+/mnist\.npz failed") as exc:
        acquire_images("mnist", tmp_path / "data")
    assert "\n" not in str(exc.value)
    assert not classic.local_file("mnist", tmp_path / "data").exists()


def test_the_published_hashes_are_the_ones_keras_pins():
    """Honest hashes: mnist's and cifar10's equal the installed Keras's; Keras pins none for Fashion-MNIST."""
    datasets = Path(importlib.util.find_spec("keras").submodule_search_locations[0]) / "src" / "datasets"

    def pinned(module: str) -> tuple[list[str], list[str]]:
        text = (datasets / f"{module}.py").read_text()
        return re.findall(r'"([0-9a-f]{64})"', text), re.findall(r'"(https://[^"]+)"', text)

    hashes, urls = pinned("mnist")
    assert hashes == [classic.PUBLISHED["mnist"].sha256] and urls == [classic.PUBLISHED["mnist"].origin]
    hashes, urls = pinned("cifar10")
    assert hashes == [classic.PUBLISHED["cifar10"].sha256]
    assert urls == [classic.PUBLISHED["cifar10"].origin + classic.PUBLISHED["cifar10"].file]
    hashes, urls = pinned("fashion_mnist")
    assert hashes == [] and urls == [classic.PUBLISHED["fashion_mnist"].origin]  # if Keras adds one, compare it here
    assert classic.file_url("mnist") == classic.PUBLISHED["mnist"].origin + "mnist.npz"


def test_classic_names_parse_offline():
    assert [parse_source(n).location for n in ("mnist", "fashion_mnist", "fashion-mnist", "cifar10")] == [
        "mnist",
        "fashion_mnist",
        "fashion_mnist",
        "cifar10",
    ]


@pytest.mark.slow
def test_the_cli_trains_on_mnist_fetched_into_its_data_folder(prefect_server, classic_site, tmp_path):
    from test_cli import ganflow

    out = ganflow(
        "run",
        *("--source", "mnist", "--size", "28", "--channels", "1", "--epochs", "1", "--batch-size", "3"),
        *("--latent-dim", "8", "--data-dir", str(tmp_path / "data")),
        env={"PREFECT_API_URL": prefect_server, **classic_site.env},
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Trained 2 steps this run" in out.stdout  # 6 images, batches of 3, one epoch
    assert (tmp_path / "runs").is_dir() and any((tmp_path / "runs").glob("mnist-28px-c1-*/progress.gif"))
    assert (tmp_path / "data/sources/classic/mnist/mnist.npz").is_file() and keras_caches(classic_site) == []
