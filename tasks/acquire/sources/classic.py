"""The seed projects' classic datasets (mnist, fashion_mnist, cifar10) through `keras.datasets` and its cache.

A file already in keras.datasets' cache (`$KERAS_HOME/datasets`, default `~/.keras/datasets`) is read
directly: no TensorFlow import and no network, and a file placed there by hand works too (keras's
own loader would re-download anything whose hash differs from the official file). A missing file is
downloaded by `keras.datasets.<name>.load_data()`, into that same cache. The training split is used,
as the seed projects did, and written once as PNG files so it takes the same preprocess path as any folder.
"""

import gzip
import hashlib
import os
import pickle
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tasks.errors import NetworkError, UserError
from tasks.progress import run_logger

CLASSIC_NAMES = ("mnist", "fashion_mnist", "cifar10")


def keras_datasets_dir() -> Path:
    """keras.datasets' cache folder, by keras's own rule (read now, so a changed KERAS_HOME counts)."""
    home = os.environ.get("KERAS_HOME")
    if not home:
        base = Path("~").expanduser()
        home = str((base if os.access(base, os.W_OK) else Path("/tmp")) / ".keras")
    return Path(home).expanduser() / "datasets"


def cache_files(name: str) -> list[Path]:
    """The files keras.datasets keeps for `name`, whether or not they exist yet."""
    root = keras_datasets_dir()
    if name == "mnist":
        return [root / "mnist.npz"]
    if name == "fashion_mnist":
        return [root / "fashion-mnist" / "train-images-idx3-ubyte.gz"]
    batches = root / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    return [batches / f"data_batch_{i}" for i in range(1, 6)]


def training_images(name: str) -> np.ndarray:
    """uint8 (N, 28, 28) gray or (N, 32, 32, 3) RGB: from the cache when it is there, else via keras.datasets."""
    files = cache_files(name)
    if all(f.exists() for f in files):
        try:
            images = _READERS[name](files)
        except (OSError, ValueError, KeyError, EOFError, pickle.UnpicklingError) as exc:
            raise UserError(
                f"--source {name}: cannot read keras.datasets' cache file {getattr(exc, 'path', files[0])} ({exc}); "
                "delete it to have it downloaded again"
            ) from None
    else:
        images = _download(name)
    return _checked(images, name)


def array_digest(images: np.ndarray) -> str:
    """sha256 of the pixels and shape: the identity of the data, whichever file it came from."""
    h = hashlib.sha256(str(images.shape).encode())
    h.update(np.ascontiguousarray(images).data)
    return h.hexdigest()


def _read_mnist(files: list[Path]) -> np.ndarray:
    with np.load(files[0], allow_pickle=False) as data:
        return data["x_train"]


def _read_idx_images(files: list[Path]) -> np.ndarray:
    """An IDX image file (magic 2051, count, rows, cols, then pixels), as in Fashion-MNIST."""
    raw = gzip.decompress(files[0].read_bytes())
    magic, count, rows, cols = (int.from_bytes(raw[i : i + 4], "big") for i in range(0, 16, 4))
    if magic != 2051:
        raise ValueError(f"not an IDX image file (magic {magic})")
    return np.frombuffer(raw, np.uint8, offset=16).reshape(count, rows, cols)


class _ArraysOnly(pickle.Unpickler):
    """An unpickler that builds numpy arrays and plain containers and nothing else.

    CIFAR-10's batches are pickles, and a pickle can name any function to call: one planted in a shared
    cache (keras falls back to the system temp folder when HOME is not writable) would run code here.
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


def _read_cifar(files: list[Path]) -> np.ndarray:
    """CIFAR-10's python batches (pickles, as keras.datasets reads them), as (N, 32, 32, 3) RGB."""
    batches = []
    for path in files:
        try:
            _check_owner(path)
            with open(path, "rb") as f:
                batch = _ArraysOnly(f, encoding="bytes").load()  # arrays and dicts only: a pickle can be code
        except (ValueError, pickle.UnpicklingError) as exc:
            exc.path = path  # the message names the file to delete
            raise
        batches.append(np.asarray(batch[b"data"], np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    return np.concatenate(batches)


def _check_owner(path: Path) -> None:
    """A cache file written by someone else (not this user, not root) is not read: it may have been planted."""
    owner = path.stat().st_uid
    if owner not in (os.geteuid(), 0):
        raise ValueError(f"it belongs to another user (uid {owner}); set KERAS_HOME to a folder of your own")


_READERS: dict[str, Callable[[list[Path]], np.ndarray]] = {
    "mnist": _read_mnist,
    "fashion_mnist": _read_idx_images,
    "cifar10": _read_cifar,
}


def _download(name: str) -> np.ndarray:
    run_logger().info("%s: not in %s; downloading it through keras.datasets", name, keras_datasets_dir())
    try:
        import keras

        (x_train, _), _ = getattr(keras.datasets, name).load_data()
    except Exception as exc:  # keras reports network failures as a bare Exception
        raise NetworkError(
            f"--source {name}: keras.datasets could not download it ({str(exc).splitlines()[0][:200]}); "
            f"check the network connection, or put the file in {keras_datasets_dir()}"
        ) from None
    return x_train


def _checked(images: np.ndarray, name: str) -> np.ndarray:
    images = np.asarray(images)
    gray = images.ndim == 3 and images.shape[1:] == (28, 28)
    rgb = images.ndim == 4 and images.shape[1:] == (32, 32, 3)
    if images.dtype != np.uint8 or not (gray or rgb) or len(images) == 0:
        raise UserError(
            f"--source {name}: keras.datasets' cache holds {images.dtype} images of shape {images.shape}, "
            f"not uint8 28x28 gray or 32x32 RGB; delete the files under {keras_datasets_dir()} to download them again"
        )
    return images
