"""The seed projects' classic datasets (mnist, fashion_mnist, cifar10): fetched into the data folder, verified, read.

This module owns their layout: each published file is kept as downloaded, at
`<data-dir>/sources/classic/<name>/<file>` (`mnist/mnist.npz`, `fashion_mnist/train-images-idx3-ubyte.gz`,
`cifar10/cifar-10-python.tar.gz`). Nothing goes to keras.datasets' cache (`~/.keras`, or `.keras` in the
system temp folder when HOME is not writable, where another local user could plant a pickle), and
keras.datasets is never called.

Every file is checked against its published sha256 before a byte of it is parsed or unpickled: once when
downloaded (a mismatch deletes it) and again, on the bytes that are then read, each time it is reused (a
mismatch refuses it, naming the file to delete). The hashes are the ones Keras's own loaders pin
(`keras/src/datasets/mnist.py`, `cifar10.py`; a test compares); Keras pins none for Fashion-MNIST, so
its train-images file carries the sha256 of Zalando's published file (README MD5
8d4fb7e6c68d591d4c3dfef9ec88bf0d). The URLs are the ones Keras downloads from.

`GANFLOW_CLASSIC_URL` names a mirror (a folder URL holding the same file names) instead; with it,
`GANFLOW_CLASSIC_SHA256` (`FILE=SHA256[,FILE=SHA256...]`) may pin other files, for a mirror of your own
data or a test. The training split is used, as the seed projects did, and written once as PNG files so it
takes the same preprocess path as any folder.
"""

import gzip
import hashlib
import io
import os
import pickle
import re
import tarfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tasks.acquire.sources.download import download, redact
from tasks.acquire.sources.folder import file_fingerprint
from tasks.errors import UserError
from tasks.progress import run_logger

CLASSIC_NAMES = ("mnist", "fashion_mnist", "cifar10")
MIRROR_ENV = "GANFLOW_CLASSIC_URL"
SHA256_ENV = "GANFLOW_CLASSIC_SHA256"
_UNREADABLE = (OSError, ValueError, KeyError, EOFError, pickle.UnpicklingError, tarfile.TarError, zipfile.BadZipFile)
_KERAS_DATASETS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


@dataclass(frozen=True)
class Published:
    """One published file: its name, the folder URL Keras fetches it from, and its sha256."""

    file: str
    origin: str
    sha256: str


PUBLISHED: dict[str, Published] = {
    "mnist": Published(
        "mnist.npz", _KERAS_DATASETS, "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
    ),
    "fashion_mnist": Published(
        "train-images-idx3-ubyte.gz",
        _KERAS_DATASETS,
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    ),
    "cifar10": Published(
        "cifar-10-python.tar.gz",
        "https://www.cs.toronto.edu/~kriz/",
        "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
    ),
}


def local_file(name: str, data_dir: Path) -> Path:
    """Where the data folder keeps `name`'s published file, whether or not it is there yet."""
    return Path(data_dir) / "sources" / "classic" / name / PUBLISHED[name].file


def file_url(name: str) -> str:
    """Where `name`'s file is downloaded from: the mirror in $GANFLOW_CLASSIC_URL, else Keras's origin."""
    mirror = os.environ.get(MIRROR_ENV, "").strip()
    base = mirror.rstrip("/") + "/" if mirror else PUBLISHED[name].origin
    return base + PUBLISHED[name].file


def expected_sha256(name: str) -> str:
    """The sha256 `name`'s file must have: the published one, unless a mirror's own is pinned."""
    pinned = _pinned_hashes()
    return pinned.get(PUBLISHED[name].file, PUBLISHED[name].sha256)


def _pinned_hashes() -> dict[str, str]:
    text = os.environ.get(SHA256_ENV, "").strip()
    if not text:
        return {}
    if not os.environ.get(MIRROR_ENV, "").strip():
        raise UserError(
            f"{SHA256_ENV} is set but {MIRROR_ENV} is not: files from the official origins are checked against "
            f"their published sha256 only; unset {SHA256_ENV}, or set {MIRROR_ENV} to the mirror it is for"
        )
    known = {p.file for p in PUBLISHED.values()}
    pinned = {}
    for entry in filter(None, (e.strip() for e in text.split(","))):
        file, _, digest = entry.partition("=")
        file, digest = file.strip(), digest.strip().lower()
        if file not in known or not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise UserError(
                f"{SHA256_ENV}: {entry!r} is not FILE=SHA256 with FILE one of {', '.join(sorted(known))} "
                "and SHA256 64 hex digits; fix or unset it"
            )
        pinned[file] = digest
    return pinned


def cache_key(name: str, data_dir: Path) -> str:
    """What says the data may have changed: the local file's fingerprint and the hash it must have."""
    path = local_file(name, data_dir)
    try:
        expected = expected_sha256(name)
    except UserError:
        expected = "invalid"  # acquire itself reports it, in one line
    return f"{file_fingerprint(path) if path.exists() else '-'}:{expected}"


def training_images(name: str, data_dir: Path) -> np.ndarray:
    """uint8 (N, 28, 28) gray or (N, 32, 32, 3) RGB, from the verified file in the data folder (fetched once)."""
    expected = expected_sha256(name)
    if expected != PUBLISHED[name].sha256:
        run_logger().warning(
            "%s: %s pins %s to %s instead of its published sha256", name, SHA256_ENV, PUBLISHED[name].file, expected
        )
    path = local_file(name, data_dir)
    if not path.exists():
        _fetch(name, path, expected)
    data = _verified_bytes(name, path, expected)
    try:
        images = _READERS[name](data)
    except _UNREADABLE as exc:
        raise UserError(f"--source {name}: cannot read {path} ({exc}); delete it to have it downloaded again") from None
    return _checked(images, name, path)


def _fetch(name: str, path: Path, expected: str) -> None:
    url = file_url(name)
    run_logger().info("%s: downloading %s into %s", name, redact(url), path.parent)

    def refusal(actual: str) -> str:
        return (
            f"--source {name}: {redact(url)} sent a file with sha256 {actual}, not the published {expected}; "
            f"it was deleted unread. Check the network (a proxy or captive portal?) or {MIRROR_ENV}, and run again"
        )

    download(url, path, expected, mismatch=refusal)


def _verified_bytes(name: str, path: Path, expected: str) -> bytes:
    """The file's bytes, read once and hashed: what is parsed is exactly what was checked."""
    try:
        with open(path, "rb") as f:
            owner = os.fstat(f.fileno()).st_uid
            if owner not in (os.geteuid(), 0):
                raise UserError(
                    f"--source {name}: {path} belongs to another user (uid {owner}) and may have been planted; "
                    "it was not read. Use a --data-dir of your own"
                )
            data = f.read()
    except OSError as exc:
        raise UserError(f"--source {name}: cannot read {path} ({exc.strerror or exc})") from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise UserError(
            f"--source {name}: {path} has sha256 {actual}, not the published {expected}, so it was not read "
            "(damaged or replaced); delete it to have it downloaded again"
        )
    return data


def array_digest(images: np.ndarray) -> str:
    """sha256 of the pixels and shape: the identity of the data, whichever file it came from."""
    h = hashlib.sha256(str(images.shape).encode())
    h.update(np.ascontiguousarray(images).data)
    return h.hexdigest()


def _read_mnist(data: bytes) -> np.ndarray:
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        return arrays["x_train"]


def _read_idx_images(data: bytes) -> np.ndarray:
    """A gzipped IDX image file (magic 2051, count, rows, cols, then pixels), as Fashion-MNIST publishes it."""
    raw = gzip.decompress(data)
    magic, count, rows, cols = (int.from_bytes(raw[i : i + 4], "big") for i in range(0, 16, 4))
    if magic != 2051 or len(raw) != 16 + count * rows * cols:
        raise ValueError(f"not an IDX image file (magic {magic}, {len(raw)} bytes)")
    return np.frombuffer(raw, np.uint8, offset=16).reshape(count, rows, cols)


class _ArraysOnly(pickle.Unpickler):
    """An unpickler that builds numpy arrays and plain containers and nothing else.

    CIFAR-10's batches are pickles, and a pickle can name any function to call. The archive's hash is
    checked first; this is the second wall, for a mirror's file pinned by GANFLOW_CLASSIC_SHA256.
    """

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("_codecs", "encode"),  # how Python 2 pickles (the published batches) store bytes
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"it names {module}.{name}, which a CIFAR-10 batch never does")
        return super().find_class(module, name)


def _read_cifar(data: bytes) -> np.ndarray:
    """The five training batches inside cifar-10-python.tar.gz (pickles), as (N, 32, 32, 3) RGB; not extracted."""
    batches = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for i in range(1, 6):
            member = f"cifar-10-batches-py/data_batch_{i}"
            stream = archive.extractfile(member)  # KeyError when missing; None when not a regular file
            if stream is None:
                raise ValueError(f"{member} is not a regular file")
            try:
                batch = _ArraysOnly(stream, encoding="bytes").load()  # arrays and dicts only: a pickle can be code
            except pickle.UnpicklingError as exc:
                raise pickle.UnpicklingError(f"{member}: {exc}") from None
            batches.append(np.asarray(batch[b"data"], np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    return np.concatenate(batches)


_READERS: dict[str, Callable[[bytes], np.ndarray]] = {
    "mnist": _read_mnist,
    "fashion_mnist": _read_idx_images,
    "cifar10": _read_cifar,
}


def _checked(images: np.ndarray, name: str, path: Path) -> np.ndarray:
    images = np.asarray(images)
    gray = images.ndim == 3 and images.shape[1:] == (28, 28)
    rgb = images.ndim == 4 and images.shape[1:] == (32, 32, 3)
    if images.dtype != np.uint8 or not (gray or rgb) or len(images) == 0:
        raise UserError(
            f"--source {name}: {path} holds {images.dtype} images of shape {images.shape}, "
            "not uint8 28x28 gray or 32x32 RGB; delete it to have it downloaded again"
        )
    return images
