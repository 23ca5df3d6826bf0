"""`gan-mlp`, the non-convolutional GAN of github.com/eriklindernoren/Keras-GAN (gan/gan.py).

The CelebA 28 px seed compared its conv/dense model against this baseline on the same 28x28x3 faces.
G: noise -> Dense 256 -> LeakyReLU -> BatchNorm -> Dense 512 -> LeakyReLU -> BatchNorm -> Dense 1024 ->
LeakyReLU -> BatchNorm -> one unit per pixel (tanh), reshaped to the image. D: the flattened image ->
Dense 512 -> LeakyReLU -> Dense 256 -> LeakyReLU -> one logit. No Dropout (`dropout` does not apply).
`width` scales every hidden layer. At 28x28x3 and width 1 that is 3,100,720 parameters in G and 1,336,321
in D (the seed's README says "about 1 million" for G and "about 3 million" for D: the two are swapped there).
"""

from ganmodels.blocks import Seeds, batch_norm, dense_to_image, logit
from ganmodels.config import GanConfig
from ganmodels.keras_import import keras

layers = keras.layers

G_UNITS = (256, 512, 1024)
D_UNITS = (512, 256)


def _units(base: int, width: float) -> int:
    return max(1, round(base * width))


def generator(cfg: GanConfig) -> keras.Model:
    seeds = Seeds(cfg.seed)
    z = keras.Input(cfg.latent_shape, name="z")
    x = layers.Flatten()(z) if len(cfg.latent_shape) > 1 else z
    for units in G_UNITS:
        x = layers.LeakyReLU(cfg.leaky_alpha)(seeds.dense(_units(units, cfg.width))(x))
        x = batch_norm(cfg.bn_momentum)(x)
    return keras.Model(z, dense_to_image(seeds, cfg.size, cfg.channels, x, cfg.output), name="generator")


def discriminator(cfg: GanConfig) -> keras.Model:
    seeds = Seeds(cfg.seed + 1)
    image = keras.Input((cfg.size, cfg.size, cfg.channels), name="image")
    x = layers.Flatten()(image)
    for units in D_UNITS:
        x = layers.LeakyReLU(cfg.leaky_alpha)(seeds.dense(_units(units, cfg.width))(x))
    return keras.Model(image, logit(seeds)(x), name="discriminator")
