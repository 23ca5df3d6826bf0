"""BatchNorm statistics for the generator that draws the pictures, recomputed from its own weights.

Training calls G in training mode, where BatchNorm normalises with the batch's own statistics and only
drifts its moving averages towards them (momentum 0.99: after n steps, 0.99**n of the initial mean 0 and
variance 1 is still in them). Pictures are drawn in inference mode, with those moving averages. On the
100-face sample (6 steps an epoch) they still held ~75% of their initial variance after 5 epochs, while
the layers' real variance was far smaller, so every activation was scaled down and the grids, the GIF,
`generate` and `evaluate` showed flat grey squares (per-image pixel std 2 to 7 of 255 in the first five
epochs, against ~60 for the same generator in training mode). The EMA generator has the same fault, and
a subtler one later: it copies G's averages, which belong to G's weights, not to its own.

So before the sampler draws or is saved, each BatchNorm layer gets the exact mean and variance of its
input over a fixed batch of latents, layer by layer in inference mode ("precise BN", Wu and Johnson 2021).
Training never reads these moving averages (G is always called in training mode), and the EMA generator
overwrites its own with G's at every update, so the trajectory is unchanged; the latents are a fixed
stateless draw (`ganmodels.streams.stats_latents`), so the result is a pure function of the weights and
resumed runs stay bit-exact. On JAX the sums are numpy's (float64) over JAX's own stats latents.
"""

import numpy as np

from ganmodels.config import GanConfig
from ganmodels.keras_import import BACKEND, keras
from ganmodels.multihost import local_copy

STATS_LATENTS = 256  # latents the statistics are measured on: ~0.3 s of CPU at 32 px
CHUNK = 256  # forwarded at a time, so a 64 px generator stays small in memory


def batchnorm_layers(model: keras.Model) -> list:
    """The model's BatchNormalization layers in graph order, including those inside nested models."""
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            found.append(layer)
        elif isinstance(getattr(layer, "layers", None), list):
            found.extend(batchnorm_layers(layer))
    return found


def recompute_batchnorm(model: keras.Model, latents) -> None:
    """Set every BatchNorm layer's moving mean and variance to its input's statistics over `latents`.

    Layer k is measured with layers before it already set, so the statistics are those the
    inference-mode network itself produces. A BatchNorm inside a nested model cannot be probed from
    the outer inputs: then one training-mode pass with momentum 0 sets them all from that batch.
    """
    layers = batchnorm_layers(model)
    if any(layer not in model.layers for layer in layers):
        _from_one_batch(model, latents, layers)
        return
    chunks = [latents[i : i + CHUNK] for i in range(0, int(latents.shape[0]), CHUNK)]
    if BACKEND == "jax":
        _measure_numpy(model, layers, chunks)
        return
    from ganmodels.tf import tf

    for layer in layers:
        probe = keras.Model(model.inputs, layer.input)  # the network up to this layer only
        total = sum_x = sum_xx = 0.0
        for z in chunks:
            x = tf.cast(probe(z, training=False), tf.float64)
            axes = [i for i in range(len(x.shape)) if i != layer.axis % len(x.shape)]
            total += tf.cast(tf.reduce_prod(tf.gather(tf.shape(x), axes)), tf.float64)
            sum_x += tf.reduce_sum(x, axes)
            sum_xx += tf.reduce_sum(tf.square(x), axes)
        mean = sum_x / total
        var = tf.maximum(sum_xx / total - tf.square(mean), 0.0)
        layer.moving_mean.assign(tf.cast(mean, layer.moving_mean.dtype))
        layer.moving_variance.assign(tf.cast(var, layer.moving_variance.dtype))


def _measure_numpy(model: keras.Model, layers: list, chunks: list) -> None:
    """`recompute_batchnorm`'s measurement with numpy sums, for backends without TensorFlow."""
    for layer in layers:
        probe = keras.Model(model.inputs, layer.input)
        total, sum_x, sum_xx = 0, 0.0, 0.0
        for z in chunks:
            x = np.asarray(local_copy(probe(z, training=False)), np.float64)
            axes = tuple(i for i in range(x.ndim) if i != layer.axis % x.ndim)
            total += int(np.prod([x.shape[i] for i in axes]))
            sum_x = sum_x + x.sum(axes)
            sum_xx = sum_xx + np.square(x).sum(axes)
        mean = sum_x / total
        var = np.maximum(sum_xx / total - np.square(mean), 0.0)
        layer.moving_mean.assign(mean.astype(layer.moving_mean.dtype))
        layer.moving_variance.assign(var.astype(layer.moving_variance.dtype))


def _from_one_batch(model: keras.Model, latents, layers: list) -> None:
    """Moving statistics = the batch statistics of one training-mode pass over all `latents`."""
    saved = [layer.momentum for layer in layers]
    try:
        for layer in layers:
            layer.momentum = 0.0
        model(latents, training=True)
    finally:
        for layer, momentum in zip(layers, saved, strict=True):
            layer.momentum = momentum


def refresh_sampler_stats(generator: keras.Model, config: GanConfig) -> keras.Model:
    """Recompute `generator`'s BatchNorm statistics on the run's fixed statistics latents; returns it."""
    if BACKEND == "jax":
        from ganmodels.backends.jax_streams import stats_latents
    else:
        from ganmodels.streams import stats_latents
    recompute_batchnorm(generator, stats_latents(config, STATS_LATENTS))
    return generator
