"""The generator and discriminator of a config's architecture (`arch`), by name.

Each architecture lives in its own module; all of them take (size, size, channels) images in
[-1, 1] (or [0, 1] with `output` sigmoid), return one float32 logit from D and a float32 image from G
through tanh (or sigmoid), and make every layer
through `ganmodels.blocks.Seeds`, so the initial weights depend on the run seed alone.
"""

from collections.abc import Callable

from ganmodels import celeb32, convdense, dcgan, gan_mlp, mlp, numpy_mlp
from ganmodels.config import GanConfig
from ganmodels.keras_import import keras

Builder = Callable[[GanConfig], keras.Model]

ARCHITECTURES: dict[str, tuple[Builder, Builder]] = {
    "dcgan": (dcgan.generator, dcgan.discriminator),
    "dcgan64": (dcgan.generator64, dcgan.discriminator64),
    "convdense": (convdense.generator, convdense.discriminator),
    "mlp": (mlp.generator, mlp.discriminator),
    "celeb32": (celeb32.generator, celeb32.discriminator),
    "gan-mlp": (gan_mlp.generator, gan_mlp.discriminator),
    "numpy-mlp": (numpy_mlp.generator, numpy_mlp.discriminator),
}


def build_generator(cfg: GanConfig) -> keras.Model:
    return ARCHITECTURES[cfg.arch][0](cfg)


def build_discriminator(cfg: GanConfig) -> keras.Model:
    return ARCHITECTURES[cfg.arch][1](cfg)
