"""Tiny but correctly formatted copies of the classic datasets' published files, served from 127.0.0.1.

`classic_site` writes mnist.npz, train-images-idx3-ubyte.gz and cifar-10-python.tar.gz (a few images
each) into a folder, serves it with the real file server, and points ganflow at it the documented way:
GANFLOW_CLASSIC_URL for the mirror, GANFLOW_CLASSIC_SHA256 for the hashes of these stand-ins. HOME and
TMPDIR are fresh folders, so a test can see that nothing lands in a keras cache.
"""

import gzip
import hashlib
import io
import os
import pickle
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from loopback import FileServer, serving


def mnist_npz(count: int = 6, seed: int = 0) -> tuple[bytes, np.ndarray]:
    """mnist.npz as Keras publishes it: x_train, y_train, x_test, y_test."""
    x_train = np.random.default_rng(seed).integers(0, 255, (count, 28, 28), dtype=np.uint8)
    labels = np.arange(count, dtype=np.uint8) % 10
    buf = io.BytesIO()
    np.savez(buf, x_train=x_train, y_train=labels, x_test=x_train[:2], y_test=labels[:2])
    return buf.getvalue(), x_train


def idx_images_gz(images: np.ndarray) -> bytes:
    """A gzipped IDX image file, as Fashion-MNIST publishes train-images-idx3-ubyte.gz."""
    header = b"".join(n.to_bytes(4, "big") for n in (2051, *images.shape))
    return gzip.compress(header + images.tobytes())


def cifar_tar_gz(batches: dict[int, object]) -> bytes:
    """cifar-10-python.tar.gz: `cifar-10-batches-py/data_batch_N`, each a pickle of `batches[N]`."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as archive:
        for i, batch in batches.items():
            data = pickle.dumps(batch)
            info = tarfile.TarInfo(f"cifar-10-batches-py/data_batch_{i}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def red_cifar() -> bytes:
    """Five batches of two pure-red images, channel-first rows as CIFAR's python batches store them."""
    red = np.zeros((2, 3, 32, 32), np.uint8)
    red[:, 0] = 255
    return cifar_tar_gz({i: {b"data": red.reshape(2, -1), b"labels": [0, 1]} for i in range(1, 6)})


class Planted:
    """What an attacker would put in a batch: unpickling it runs a command that creates `marker`."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def planted_cifar(marker: Path) -> bytes:
    good = {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 1]}
    return cifar_tar_gz({1: good, 2: good, 3: {b"data": Planted(marker), b"labels": [0]}, 4: good, 5: good})


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class ClassicSite:
    server: FileServer
    root: Path  # what the server serves
    home: Path  # $HOME for the test
    tmp: Path  # $TMPDIR for the test
    mnist: np.ndarray  # the images in the served mnist.npz
    env: dict  # the variables that point ganflow at this site (for a subprocess)
    monkeypatch: pytest.MonkeyPatch

    def serve(self, file: str, data: bytes, pin: bool = True) -> None:
        """Put `data` on the site as `file`; `pin` also pins its sha256 the documented way."""
        (self.root / file).write_bytes(data)
        if pin:
            self.pin(file, sha256(data))

    def pin(self, file: str, digest: str) -> None:
        pins = dict(e.split("=") for e in self.env["GANFLOW_CLASSIC_SHA256"].split(",") if e)
        pins[file] = digest
        self.env["GANFLOW_CLASSIC_SHA256"] = ",".join(f"{k}={v}" for k, v in pins.items())
        self.monkeypatch.setenv("GANFLOW_CLASSIC_SHA256", self.env["GANFLOW_CLASSIC_SHA256"])

    def fetched(self, file: str) -> int:
        """How many times the server was asked for `file`."""
        return sum(r["path"] == f"/{file}" for r in self.server.requests)


@pytest.fixture
def classic_site(tmp_path, monkeypatch) -> Iterator[ClassicSite]:
    root, home, tmp = tmp_path / "site", tmp_path / "home", tmp_path / "tmp"
    for folder in (root, home, tmp):
        folder.mkdir()
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() reads TMPDIR again
    with serving(FileServer(root)) as server:
        env = {"GANFLOW_CLASSIC_URL": server.url(""), "GANFLOW_CLASSIC_SHA256": "", "HOME": str(home)}
        env["TMPDIR"] = str(tmp)
        monkeypatch.setenv("GANFLOW_CLASSIC_URL", env["GANFLOW_CLASSIC_URL"])
        npz, x_train = mnist_npz()
        site = ClassicSite(server, root, home, tmp, x_train, env, monkeypatch)
        site.serve("mnist.npz", npz)
        yield site


def keras_caches(site: ClassicSite) -> list[Path]:
    """keras.datasets' cache folders in this test's HOME and temp folder, where they exist.

    `.keras` itself may appear: importing Keras writes its `keras.json` there. `datasets` would be the cache."""
    return [p for p in (site.home / ".keras" / "datasets", site.tmp / ".keras" / "datasets") if p.exists()]
