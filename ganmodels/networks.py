"""DCGAN generator and discriminator sized for 28, 32 or 64 px images.

The shape follows the TensorFlow DCGAN tutorial: a Dense layer to a 7x7 (28 px) or 4x4 (32, 64 px)
map, then stride-2 transposed convolutions up to the image, ending in tanh. The discriminator mirrors
it with stride-2 convolutions, LeakyReLU and Dropout, and returns one logit.
"""

import math

from ganmodels.config import GanConfig
from ganmodels.tf import keras

layers = keras.layers


class _Seeds:
    """Explicit, distinct initializer seeds per layer.

    Keras initializers without a seed draw one from Python's global `random`, which other threads
    (Prefect's client, for one) also use, so the initial weights would depend on timing.
    """

    def __init__(self, seed: int):
        self.seed, self.count = seed, 0

    def glorot(self) -> keras.initializers.Initializer:
        self.count += 1
        return keras.initializers.GlorotUniform(seed=self.seed * 1000 + self.count)


def _batch_norm():
    """Synchronized across replicas, so a mirrored run normalises over the global batch like one device."""
    return layers.BatchNormalization(synchronized=True)


def _base_side(size: int) -> int:
    return 7 if size % 7 == 0 else 4


def upsampling_steps(size: int) -> int:
    """How many stride-2 layers lead from the base map to `size` (2 for 28 and 32, 4 for 64)."""
    return int(math.log2(size // _base_side(size)))


def build_generator(cfg: GanConfig) -> keras.Model:
    base, steps = _base_side(cfg.size), upsampling_steps(cfg.size)
    widest = cfg.g_filters * 2 ** (steps - 1)
    seeds = _Seeds(cfg.seed)
    z = keras.Input((cfg.latent_dim,), name="z")
    x = layers.Dense(base * base * widest, use_bias=False, kernel_initializer=seeds.glorot())(z)
    x = _batch_norm()(x)
    x = layers.LeakyReLU(cfg.leaky_alpha)(x)
    x = layers.Reshape((base, base, widest))(x)
    for i in range(1, steps):
        x = layers.Conv2DTranspose(
            widest // 2**i, 5, strides=2, padding="same", use_bias=False, kernel_initializer=seeds.glorot()
        )(x)
        x = _batch_norm()(x)
        x = layers.LeakyReLU(cfg.leaky_alpha)(x)
    x = layers.Conv2DTranspose(cfg.channels, 5, strides=2, padding="same", kernel_initializer=seeds.glorot())(x)
    image = layers.Activation("tanh", dtype="float32")(x)
    return keras.Model(z, image, name="generator")


def build_discriminator(cfg: GanConfig) -> keras.Model:
    image = keras.Input((cfg.size, cfg.size, cfg.channels), name="image")
    seeds = _Seeds(cfg.seed + 1)
    x = image
    for i in range(upsampling_steps(cfg.size)):
        x = layers.Conv2D(cfg.d_filters * 2**i, 5, strides=2, padding="same", kernel_initializer=seeds.glorot())(x)
        x = layers.LeakyReLU(cfg.leaky_alpha)(x)
        x = layers.Dropout(cfg.dropout, seed=cfg.seed + i)(x)
    x = layers.Flatten()(x)
    logit = layers.Dense(1, dtype="float32", kernel_initializer=seeds.glorot())(x)
    return keras.Model(image, logit, name="discriminator")
