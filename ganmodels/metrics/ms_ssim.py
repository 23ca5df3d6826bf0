"""MS-SSIM diversity: the mean multi-scale SSIM of random image pairs within a set.

High similarity among generated pairs, compared with the same figure on real pairs, means the
generator repeats itself. Three scales with a 5x5 window fit images as small as 28 px.
"""

import numpy as np

from ganmodels.metrics.registry import Metric, SweepColumn, num, register

POWER_FACTORS = (0.0448, 0.2856, 0.3001)  # the first three of Wang et al.'s five, renormalised by TF


SKIPPED = "MS-SSIM skipped: it needs TensorFlow (tf.image.ssim_multiscale), which this JAX process lacks"


def _tensorflow():
    """TensorFlow for tf.image: through ganmodels.tf on the TensorFlow backend; the bare library beside Keras
    on JAX (it needs no Keras), or None where it is not installed (the JAX GPU machines)."""
    from ganmodels.backend import current_backend

    if current_backend() != "jax":
        from ganmodels.tf import tf

        return tf
    try:
        import tensorflow
    except ImportError:
        return None
    return tensorflow


def pairwise_ms_ssim(images: np.ndarray, pairs: int = 256, seed: int = 0) -> float:
    """Mean MS-SSIM over `pairs` random pairs of distinct images (uint8, NHWC)."""
    tf = _tensorflow()  # here: listing the metrics (metrics.csv's columns) needs no TensorFlow

    rng = np.random.default_rng(seed)
    n = len(images)
    if n < 2:
        raise ValueError("MS-SSIM diversity needs at least two images")
    i = rng.integers(0, n, pairs)
    j = (i + rng.integers(1, n, pairs)) % n  # never the same image twice
    a = tf.convert_to_tensor(images[i], tf.float32)
    b = tf.convert_to_tensor(images[j], tf.float32)
    scores = tf.image.ssim_multiscale(a, b, max_val=255.0, power_factors=POWER_FACTORS, filter_size=5)
    return float(tf.reduce_mean(scores))


def diversity(real: np.ndarray, fake: np.ndarray, pairs: int = 256, seed: int = 0) -> dict:
    """MS-SSIM of generated pairs and of real pairs; `gap` > 0 means generated images are more alike."""
    if _tensorflow() is None:
        return {"skipped": SKIPPED}
    fake_score, real_score = pairwise_ms_ssim(fake, pairs, seed), pairwise_ms_ssim(real, pairs, seed)
    return {"ms_ssim_fake": fake_score, "ms_ssim_real": real_score, "gap": fake_score - real_score}


def _lines(e: dict | None) -> list[str]:
    if not e:
        return []
    if "skipped" in e:
        return [e["skipped"]]
    return [f"MS-SSIM: generated pairs {e['ms_ssim_fake']:.3f}, real pairs {e['ms_ssim_real']:.3f}"]


def _cell(c: dict) -> str:
    return f"{num(c.get('ms_ssim_fake'), 3)} ({num(c.get('ms_ssim_real'), 3)})" if c.get("ms_ssim_fake") else "-"


register(
    Metric(
        "ms_ssim",
        order=40,
        lower_is_better=True,  # generated pairs less alike than real ones is better; compare with ms_ssim_real
        once=lambda sets: diversity(sets.real, sets.fake) if len(sets.real) > 1 else None,
        lines=_lines,
        sweep=lambda e, train: {key: (e or {}).get(key) for key in ("ms_ssim_fake", "ms_ssim_real")},
        sweep_columns=(SweepColumn("MS-SSIM fake (real)", "---", _cell),),
    )
)
