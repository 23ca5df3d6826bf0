"""An exponential moving average of the generator's weights (Yazici et al. 2019; ProGAN, StyleGAN).

GAN weights oscillate around a good solution from step to step; their moving average sits nearer
to it, so it draws smoother, more stable faces than the raw generator at no training cost. The EMA
generator is a second copy of G that is never trained, only blended towards G after each G update:

    ema = d * ema + (1 - d) * g,   with d = min(decay, (1 + step) / (10 + step))

The warm-up in d (as in `tf.train.ExponentialMovingAverage` with num_updates) keeps the first
epochs from being an average dominated by the random initial weights. Non-trainable weights
(BatchNorm's running statistics) are copied, not averaged; they fit G's weights, so before the EMA
generator draws or is saved they are recomputed from its own (`ganmodels/sampler_stats.py`).
Its weights are in the checkpoint.
"""

from ganmodels.tf import keras, tf


def effective_decay(decay: float, step):
    """The decay at global step `step`: `decay`, lowered early in training."""
    step = tf.cast(step, tf.float32)
    return tf.minimum(tf.constant(decay, tf.float32), (1.0 + step) / (10.0 + step))


def copy_weights(source: keras.Model, target: keras.Model) -> None:
    for t, s in zip(target.weights, source.weights, strict=True):
        t.assign(s)


def update_ema(ema: keras.Model, model: keras.Model, decay: float, step) -> None:
    """Blend `ema` towards `model` (trainable weights) and copy the rest; call in cross-replica context."""
    d = effective_decay(decay, step)
    for e, w in zip(ema.trainable_weights, model.trainable_weights, strict=True):
        e.assign(d * e + (1.0 - d) * w)
    for e, w in zip(ema.non_trainable_weights, model.non_trainable_weights, strict=True):
        e.assign(w)
