"""The generator and discriminator of a config's architecture (`arch`), by name.

Each architecture lives in its own module; all of them take (size, size, channels) images in
[-1, 1], return one float32 logit from D and a float32 tanh image from G, and make every layer
through `ganmodels.blocks.Seeds`, so the initial weights depend on the run seed alone.
"""

from collections.abc import Callable

from ganmodels import convdense, dcgan, mlp
from ganmodels.config import GanConfig
from ganmodels.tf import keras

Builder = Callable[[GanConfig], keras.Model]

ARCHITECTURES: dict[str, tuple[Builder, Builder]] = {
    "dcgan": (dcgan.generator, dcgan.discriminator),
    "dcgan64": (dcgan.generator64, dcgan.discriminator64),
    "convdense": (convdense.generator, convdense.discriminator),
    "mlp": (mlp.generator, mlp.discriminator),
}


def build_generator(cfg: GanConfig) -> keras.Model:
    return ARCHITECTURES[cfg.arch][0](cfg)


def build_discriminator(cfg: GanConfig) -> keras.Model:
    return ARCHITECTURES[cfg.arch][1](cfg)
