"""`numpy-mlp`, the numpy MLP GAN of github.com/hideyukiinada/ml (examples/neural_network_mnist_gan_example).

G: 100 -> `hidden_units` LeakyReLU -> one unit per pixel through the output activation (the seed's sigmoid,
on images in [0, 1]), weights drawn from N(0, 0.02) as the seed's `wparam(init_type=NORMAL, stddev=0.02)`.
D: the flattened image -> `hidden_units` ReLU -> one logit (the seed's sigmoid unit, folded into the loss),
weights drawn from N(0, 0.1), the framework's default (`w = np.random.randn(...) * 0.1`). Biases start at 0.
No Dropout (`dropout` does not apply). At 28x28x1 and 512 units: 453,904 parameters in G, 402,433 in D.
"""

from ganmodels import mlp
from ganmodels.blocks import Seeds, logit
from ganmodels.config import GanConfig
from ganmodels.keras_import import keras

layers = keras.layers


def generator(cfg: GanConfig) -> keras.Model:
    """The MLP generator (same layers as `mlp`), with the seed's N(0, 0.02) weights."""
    return mlp.generator(cfg, init="normal_0.02")


def discriminator(cfg: GanConfig) -> keras.Model:
    seeds = Seeds(cfg.seed + 1, "normal_0.1")
    image = keras.Input((cfg.size, cfg.size, cfg.channels), name="image")
    x = layers.ReLU()(seeds.dense(cfg.hidden_units)(layers.Flatten()(image)))
    return keras.Model(image, logit(seeds)(x), name="discriminator")
