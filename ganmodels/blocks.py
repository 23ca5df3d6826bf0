"""Layer factories shared by the architectures, each with an explicit initializer seed.

Keras initializers without a seed draw one from Python's global `random`, which other threads
(Prefect's client, for one) also use, so the initial weights would depend on timing. Every layer
with weights is made here, from a `Seeds` counter, so its initial values depend on the run seed alone.
"""

from ganmodels.tf import keras

layers = keras.layers


class Seeds:
    """Explicit, distinct initializer seeds per layer, in the order the layers are made."""

    def __init__(self, seed: int):
        self.seed, self.count = seed, 0

    def glorot(self) -> keras.initializers.Initializer:
        self.count += 1
        return keras.initializers.GlorotUniform(seed=self.seed * 1000 + self.count)

    def dense(self, units: int, **kwargs) -> layers.Layer:
        return layers.Dense(units, kernel_initializer=self.glorot(), **kwargs)

    def conv(self, filters: int, kernel: int, strides: int = 1, **kwargs) -> layers.Layer:
        return layers.Conv2D(
            filters, kernel, strides=strides, padding="same", kernel_initializer=self.glorot(), **kwargs
        )

    def deconv(self, filters: int, kernel: int, strides: int = 2, **kwargs) -> layers.Layer:
        return layers.Conv2DTranspose(
            filters, kernel, strides=strides, padding="same", kernel_initializer=self.glorot(), **kwargs
        )


def batch_norm(momentum: float) -> layers.Layer:
    """Synchronized across replicas, so a mirrored run normalises over the global batch like one device."""
    return layers.BatchNormalization(momentum=momentum, synchronized=True)


def logit(seeds: Seeds) -> layers.Layer:
    """D's single output, in float32 so losses stay exact under a mixed-precision policy."""
    return seeds.dense(1, dtype="float32")


def image_out() -> layers.Layer:
    """G's tanh, in float32: images in [-1, 1] whatever the policy inside."""
    return layers.Activation("tanh", dtype="float32")


def dense_to_image(seeds: Seeds, size: int, channels: int, x):
    """The dense generators' last layer: one unit per pixel, shaped into the image, through tanh."""
    x = seeds.dense(size * size * channels)(x)
    return image_out()(layers.Reshape((size, size, channels))(x))
