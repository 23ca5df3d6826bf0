"""The two networks, the EMA generator and both optimizers, built in one order on every backend.

The order matters: each layer's initial weights come from the run seed (`ganmodels.blocks.Seeds`), and the
EMA generator is built from the same seeds as G, so it starts equal to it. The caller opens its backend's
device scope around the call (a tf.distribute strategy, or JAX's placement).
"""

from ganmodels.config import GanConfig
from ganmodels.keras_import import keras
from ganmodels.networks import build_discriminator, build_generator
from ganmodels.optimizers import build_optimizer
from ganmodels.runtime import dtype_policy

Parts = tuple[keras.Model, keras.Model, keras.Model | None, keras.optimizers.Optimizer, keras.optimizers.Optimizer]


def build_parts(config: GanConfig, policy: str) -> Parts:
    """(G, D, the EMA generator or None, G's optimizer, D's optimizer) under the dtype `policy`."""
    with dtype_policy(policy):
        g, d = build_generator(config), build_discriminator(config)
        ema = build_generator(config) if config.ema is not None else None
        g_opt = build_optimizer(config, config.lr_g, config.lr_decay_g)
        d_opt = build_optimizer(config, config.lr_d, config.lr_decay_d)
        # Build the slot variables now, so a checkpoint restores into them instead of deferring.
        g_opt.build(g.trainable_variables)
        d_opt.build(d.trainable_variables)
    return g, d, ema, g_opt, d_opt
