"""The generator and discriminator of a config's architecture (`arch`), by name: the one list of architectures.

Each architecture lives in its own module; all of them take (size, size, channels) images in
[-1, 1] (or [0, 1] with `output` sigmoid), return one float32 logit from D and a float32 image from G
through tanh (or sigmoid), and make every layer
through `ganmodels.blocks.Seeds`, so the initial weights depend on the run seed alone.

`--arch`'s choices and GanConfig's check take their names from here (`arch_names()`), so the modules are
imported only when a network is built: listing the choices needs no TensorFlow. This module imports no
config (GanConfig checks `arch` against this list, so it imports this module).
"""

import importlib
from typing import Any

# name -> (module, its generator builder, its discriminator builder); each builder takes a GanConfig.
ARCHITECTURES: dict[str, tuple[str, str, str]] = {
    "dcgan": ("ganmodels.dcgan", "generator", "discriminator"),
    "dcgan64": ("ganmodels.dcgan", "generator64", "discriminator64"),
    "convdense": ("ganmodels.convdense", "generator", "discriminator"),
    "mlp": ("ganmodels.mlp", "generator", "discriminator"),
    "celeb32": ("ganmodels.celeb32", "generator", "discriminator"),
    "gan-mlp": ("ganmodels.gan_mlp", "generator", "discriminator"),
    "numpy-mlp": ("ganmodels.numpy_mlp", "generator", "discriminator"),
}


def arch_names() -> tuple[str, ...]:
    """Every architecture's `--arch` name, in the order `--arch` offers them."""
    return tuple(ARCHITECTURES)


def _builder(cfg: Any, which: int) -> Any:
    module, *builders = ARCHITECTURES[cfg.arch]
    return getattr(importlib.import_module(module), builders[which])


def build_generator(cfg: Any) -> Any:
    """G of `cfg` (a GanConfig) as a keras.Model."""
    return _builder(cfg, 0)(cfg)


def build_discriminator(cfg: Any) -> Any:
    """D of `cfg` (a GanConfig) as a keras.Model."""
    return _builder(cfg, 1)(cfg)
