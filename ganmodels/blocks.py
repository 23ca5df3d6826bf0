"""Layer factories shared by the architectures, each with an explicit initializer seed.

Keras initializers without a seed draw one from Python's global `random`, which other threads
(Prefect's client, for one) also use, so the initial weights would depend on timing. Every layer
with weights is made here, from a `Seeds` counter, so its initial values depend on the run seed alone.
"""

from ganmodels.keras_import import BACKEND, keras

layers = keras.layers


class Seeds:
    """Explicit, distinct initializer seeds per layer, in the order the layers are made."""

    def __init__(self, seed: int, init: str = "glorot_uniform"):
        self.seed, self.count, self.init = seed, 0, init

    def glorot(self) -> keras.initializers.Initializer:
        """The next layer's kernel initializer: Keras' default Glorot uniform unless the net asked otherwise
        ("glorot_normal" as the 32 px celebrity seed; "normal_0.02" and "normal_0.1", N(0, stddev), as the
        numpy MLP seed's generator and discriminator)."""
        self.count += 1
        seed = self.seed * 1000 + self.count
        if self.init == "glorot_normal":
            return keras.initializers.GlorotNormal(seed=seed)
        if self.init.startswith("normal_"):
            return keras.initializers.RandomNormal(stddev=float(self.init.removeprefix("normal_")), seed=seed)
        return keras.initializers.GlorotUniform(seed=seed)

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
    """Synchronized across replicas, so a mirrored run normalises over the global batch like one device.

    On JAX the data-parallel step is one program over the global batch, so its statistics are global
    already (and Keras refuses `synchronized` there)."""
    return layers.BatchNormalization(momentum=momentum, synchronized=BACKEND == "tensorflow")


def logit(seeds: Seeds) -> layers.Layer:
    """D's single output, in float32 so losses stay exact under a mixed-precision policy."""
    return seeds.dense(1, dtype="float32")


def image_out(output: str = "tanh") -> layers.Layer:
    """G's last activation, in float32: tanh for images in [-1, 1], sigmoid for [0, 1] (`GanConfig.output`)."""
    return layers.Activation(output, dtype="float32")


def dense_to_image(seeds: Seeds, size: int, channels: int, x, output: str = "tanh"):
    """The dense generators' last layer: one unit per pixel, shaped into the image, through tanh or sigmoid."""
    x = seeds.dense(size * size * channels)(x)
    return image_out(output)(layers.Reshape((size, size, channels))(x))
