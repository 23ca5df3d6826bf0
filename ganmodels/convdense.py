"""`convdense`, from the CelebA 28 px seed: convolutions first, then dense layers, in both networks.

The generator takes image-shaped noise (size x size x channels), convolves it, and maps the features
through dense layers to every pixel, reshaped to the image. The discriminator is convolutional, then
dense. At `width` 1 and 28 px RGB this is about 28M (G) and 52M (D) parameters, near the seed's
26M/56M; almost all of it sits in the first dense layer, so `width` 0.25 (2.2M/3.2M) is fine on CPU.
"""

from ganmodels.blocks import Seeds, batch_norm, dense_to_image, logit
from ganmodels.config import GanConfig
from ganmodels.keras_import import keras

layers = keras.layers


def _units(base: int, width: float) -> int:
    return max(1, round(base * width))


def generator(cfg: GanConfig) -> keras.Model:
    seeds = Seeds(cfg.seed)
    noise = keras.Input(cfg.latent_shape, name="z")
    x = noise if len(cfg.latent_shape) == 3 else layers.Reshape((cfg.size, cfg.size, cfg.channels))(noise)
    x = layers.LeakyReLU(cfg.leaky_alpha)(seeds.conv(_units(64, cfg.width), 5)(x))
    x = seeds.conv(_units(128, cfg.width), 5, strides=2, use_bias=False)(x)
    x = layers.LeakyReLU(cfg.leaky_alpha)(batch_norm(cfg.bn_momentum)(x))
    x = seeds.dense(_units(1024, cfg.width), use_bias=False)(layers.Flatten()(x))
    x = layers.LeakyReLU(cfg.leaky_alpha)(batch_norm(cfg.bn_momentum)(x))
    return keras.Model(noise, dense_to_image(seeds, cfg.size, cfg.channels, x, cfg.output), name="generator")


def discriminator(cfg: GanConfig) -> keras.Model:
    seeds = Seeds(cfg.seed + 1)
    image = keras.Input((cfg.size, cfg.size, cfg.channels), name="image")
    x = image
    for i, (filters, strides) in enumerate([(64, 1), (128, 2)]):
        x = layers.LeakyReLU(cfg.leaky_alpha)(seeds.conv(_units(filters, cfg.width), 5, strides=strides)(x))
        x = layers.Dropout(cfg.dropout, seed=cfg.seed + i)(x)
    x = layers.LeakyReLU(cfg.leaky_alpha)(seeds.dense(_units(2048, cfg.width))(layers.Flatten()(x)))
    x = layers.Dropout(cfg.dropout, seed=cfg.seed + 2)(x)
    return keras.Model(image, logit(seeds)(x), name="discriminator")
