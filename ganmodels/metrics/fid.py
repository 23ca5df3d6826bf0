"""FID and KID on InceptionV3 pool features, only when the ImageNet weights are already on disk.

Nothing is downloaded: without weights the metric is skipped with a message saying how to enable
it, never reported as a made-up number.
"""

from pathlib import Path

import numpy as np

from ganmodels.metrics.registry import Metric, Sets, register

WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
# `ganflow evaluate --inception-weights`: the CLI imports this module for it, so scipy waits for a computation
# What the Inception weights are for, in the words of the option checks (flows/option_checks.py).
WEIGHTS_USE = "FID/KID are skipped without it"
WEIGHTS_HELP = "InceptionV3 'no top' ImageNet weights (.h5) for FID/KID; else Keras' cache, else skipped."


def find_weights(explicit: Path | None = None) -> Path | None:
    """`explicit` if given (it must exist), else Keras' cache (KERAS_HOME or ~/.keras)/models."""
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"InceptionV3 weights not found at {path}")
        return path
    import os

    home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    cached = home / "models" / WEIGHTS_FILE
    return cached if cached.is_file() else None


def how_to_enable() -> str:
    return (
        "FID/KID skipped: no InceptionV3 ImageNet weights on disk; run once with network "
        '`python -c "import keras; keras.applications.InceptionV3(include_top=False)"`, '
        "or pass --inception-weights PATH to the 'no top' .h5 file"
    )


def frechet_distance(mu1: np.ndarray, s1: np.ndarray, mu2: np.ndarray, s2: np.ndarray) -> float:
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 sqrt(S1 S2)) (Heusel et al. 2017)."""
    from scipy import linalg

    covmean = linalg.sqrtm(s1 @ s2)
    if not np.isfinite(covmean).all():
        offset = np.eye(len(s1)) * 1e-6
        covmean = linalg.sqrtm((s1 + offset) @ (s2 + offset))
    covmean = covmean.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def kernel_inception_distance(
    f1: np.ndarray, f2: np.ndarray, subsets: int = 10, size: int = 1000, seed: int = 0
) -> float:
    """Unbiased MMD^2 with the cubic polynomial kernel, averaged over random subsets (Binkowski et al. 2018)."""
    rng = np.random.default_rng(seed)
    d = f1.shape[1]
    m = min(size, len(f1), len(f2))
    total = 0.0
    for _ in range(subsets):
        x = f1[rng.choice(len(f1), m, replace=False)]
        y = f2[rng.choice(len(f2), m, replace=False)]
        kxx, kyy, kxy = ((x @ x.T) / d + 1) ** 3, ((y @ y.T) / d + 1) ** 3, ((x @ y.T) / d + 1) ** 3
        total += (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1)) - 2 * kxy.mean()
    return float(total / subsets)


def inception_features(images: np.ndarray, weights: Path, batch: int = 64) -> np.ndarray:
    """2048-d average-pool features of uint8 images, resized to 299 px (gray replicated to RGB)."""
    from ganmodels.backend import current_backend

    if current_backend() == "jax":
        return _inception_features_keras(images, weights, batch)
    from ganmodels.tf import keras, tf

    model = keras.applications.InceptionV3(
        include_top=False, weights=str(weights), pooling="avg", input_shape=(299, 299, 3)
    )
    feats = []
    for start in range(0, len(images), batch):
        x = tf.convert_to_tensor(images[start : start + batch], tf.float32)
        if x.shape[-1] == 1:
            x = tf.repeat(x, 3, axis=-1)
        x = keras.applications.inception_v3.preprocess_input(tf.image.resize(x, (299, 299)))
        feats.append(np.asarray(model(x, training=False), np.float64))
    return np.concatenate(feats)


def _inception_features_keras(images: np.ndarray, weights: Path, batch: int) -> np.ndarray:
    """`inception_features` with keras.ops (JAX): the resize is the backend's bilinear, so the figures are
    close to, not bit-equal with, TensorFlow's."""
    from ganmodels.keras_import import keras

    ops = keras.ops
    model = keras.applications.InceptionV3(
        include_top=False, weights=str(weights), pooling="avg", input_shape=(299, 299, 3)
    )
    feats = []
    for start in range(0, len(images), batch):
        x = ops.convert_to_tensor(np.asarray(images[start : start + batch], np.float32))
        if x.shape[-1] == 1:
            x = ops.repeat(x, 3, axis=-1)
        x = keras.applications.inception_v3.preprocess_input(ops.image.resize(x, (299, 299)))
        feats.append(np.asarray(model(x, training=False), np.float64))
    return np.concatenate(feats)


def fid_kid(real: np.ndarray, fake: np.ndarray, weights: Path) -> dict:
    f_real, f_fake = inception_features(real, weights), inception_features(fake, weights)
    fid = frechet_distance(f_real.mean(0), np.cov(f_real, rowvar=False), f_fake.mean(0), np.cov(f_fake, rowvar=False))
    return {"fid": fid, "kid": kernel_inception_distance(f_real, f_fake)}


def _once(sets: Sets) -> dict:
    weights = find_weights(sets.inception_weights)
    return {"skipped": how_to_enable()} if weights is None else fid_kid(sets.real, sets.fake, weights)


register(
    Metric(
        "fid",
        order=60,
        lower_is_better=True,
        once=_once,
        option="--inception-weights",
        lines=lambda e: [f"FID {e['fid']:.2f}, KID {e['kid']:.4f}" if "fid" in e else e["skipped"]],
    )
)
