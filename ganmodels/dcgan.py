"""The two DCGANs: `dcgan`, the TensorFlow tutorial's shape, and `dcgan64`, the jhayes14 face DCGAN.

dcgan: the noise goes through a Dense layer to a 7x7 (28 px) or 4x4 (32, 64 px) map, then stride-2
transposed convolutions with BatchNorm and LeakyReLU up to the image, ending in tanh. D mirrors it
with stride-2 convolutions, LeakyReLU and Dropout (BatchNorm too with `d_batchnorm`, never on the
first layer, as in the DCGAN paper) and returns one logit.

dcgan64 (github.com/jhayes14/GAN, model.py): Dense to a 4x4 map (2x2 for 32 px) of 8 x g_filters,
then four rounds of 2x upsampling + 5x5 convolution + BatchNorm + ReLU, halving the filters; D has
four stride-2 5x5 convolutions with LeakyReLU and Dropout and, by design, no BatchNorm: its author
found that BatchNorm made D far too good at telling real from fake.
"""

import math

from ganmodels.blocks import Seeds, batch_norm, image_out, logit
from ganmodels.config import GanConfig
from ganmodels.keras_import import keras

layers = keras.layers


def _base_side(size: int) -> int:
    return 7 if size % 7 == 0 else 4


def upsampling_steps(size: int) -> int:
    """How many stride-2 layers lead from the base map to `size` (2 for 28 and 32, 4 for 64)."""
    return int(math.log2(size // _base_side(size)))


def _noise(cfg: GanConfig):
    z = keras.Input(cfg.latent_shape, name="z")
    return z, (layers.Flatten()(z) if len(cfg.latent_shape) > 1 else z)


def generator(cfg: GanConfig) -> keras.Model:
    base, steps = _base_side(cfg.size), upsampling_steps(cfg.size)
    widest = cfg.g_filters * 2 ** (steps - 1)
    seeds = Seeds(cfg.seed)
    z, x = _noise(cfg)
    x = seeds.dense(base * base * widest, use_bias=False)(x)
    x = batch_norm(cfg.bn_momentum)(x)
    x = layers.LeakyReLU(cfg.leaky_alpha)(x)
    x = layers.Reshape((base, base, widest))(x)
    for i in range(1, steps):
        x = seeds.deconv(widest // 2**i, 5, use_bias=False)(x)
        x = batch_norm(cfg.bn_momentum)(x)
        x = layers.LeakyReLU(cfg.leaky_alpha)(x)
    x = seeds.deconv(cfg.channels, 5)(x)
    return keras.Model(z, image_out(cfg.output)(x), name="generator")


def _discriminator(cfg: GanConfig, steps: int, batchnorm: bool) -> keras.Model:
    image = keras.Input((cfg.size, cfg.size, cfg.channels), name="image")
    seeds = Seeds(cfg.seed + 1)
    x = image
    for i in range(steps):
        x = seeds.conv(cfg.d_filters * 2**i, 5, strides=2)(x)
        if batchnorm and i > 0:
            x = batch_norm(cfg.bn_momentum)(x)
        x = layers.LeakyReLU(cfg.leaky_alpha)(x)
        x = layers.Dropout(cfg.dropout, seed=cfg.seed + i)(x)
    x = layers.Flatten()(x)
    return keras.Model(image, logit(seeds)(x), name="discriminator")


def discriminator(cfg: GanConfig) -> keras.Model:
    return _discriminator(cfg, upsampling_steps(cfg.size), cfg.d_batchnorm)


DCGAN64_STEPS = 4


def generator64(cfg: GanConfig) -> keras.Model:
    base = cfg.size // 2**DCGAN64_STEPS  # 4 for 64 px, 2 for 32 px, as the seed's xdim/ydim
    widest = cfg.g_filters * 2 ** (DCGAN64_STEPS - 1)
    seeds = Seeds(cfg.seed)
    z, x = _noise(cfg)
    x = seeds.dense(base * base * widest)(x)
    x = batch_norm(cfg.bn_momentum)(x)
    x = layers.ReLU()(x)
    x = layers.Reshape((base, base, widest))(x)
    for i in range(1, DCGAN64_STEPS):
        x = layers.UpSampling2D()(x)
        x = seeds.conv(widest // 2**i, 5)(x)
        x = batch_norm(cfg.bn_momentum)(x)
        x = layers.ReLU()(x)
    x = layers.UpSampling2D()(x)
    x = seeds.conv(cfg.channels, 5)(x)
    return keras.Model(z, image_out(cfg.output)(x), name="generator")


def discriminator64(cfg: GanConfig) -> keras.Model:
    return _discriminator(cfg, DCGAN64_STEPS, batchnorm=False)
