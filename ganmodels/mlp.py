"""`mlp`, the two-layer GAN of the MNIST seeds (and the small baseline of the CelebA 28 px seed).

G: noise -> `hidden_units` (LeakyReLU) -> size*size*channels (tanh), reshaped to the image.
D: the flattened image -> `hidden_units` (LeakyReLU, Dropout) -> one logit. With 512 units at
28 px RGB that is about 1.3M parameters per network; at 28 px gray, 0.46M and 0.40M.
"""

from ganmodels.blocks import Seeds, dense_to_image, logit
from ganmodels.config import GanConfig
from ganmodels.keras_import import keras

layers = keras.layers


def generator(cfg: GanConfig, init: str = "glorot_uniform") -> keras.Model:
    """`init`: the kernel initializer (the numpy MLP's generator draws from N(0, 0.02))."""
    seeds = Seeds(cfg.seed, init)
    z = keras.Input(cfg.latent_shape, name="z")
    x = layers.Flatten()(z) if len(cfg.latent_shape) > 1 else z
    x = layers.LeakyReLU(cfg.leaky_alpha)(seeds.dense(cfg.hidden_units)(x))
    return keras.Model(z, dense_to_image(seeds, cfg.size, cfg.channels, x, cfg.output), name="generator")


def discriminator(cfg: GanConfig) -> keras.Model:
    seeds = Seeds(cfg.seed + 1)
    image = keras.Input((cfg.size, cfg.size, cfg.channels), name="image")
    x = layers.LeakyReLU(cfg.leaky_alpha)(seeds.dense(cfg.hidden_units)(layers.Flatten()(image)))
    x = layers.Dropout(cfg.dropout, seed=cfg.seed)(x)
    return keras.Model(image, logit(seeds)(x), name="discriminator")
