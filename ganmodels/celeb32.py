"""`celeb32`, the 32 px celebrity DCGAN (github.com/hklchung/GAN-GenerativeAdversarialNetwork, DCGAN/main.py).

G: Dense to an 8x8 map of 8 x g_filters, BatchNorm (momentum 0.9), LeakyReLU 0.3, Dropout; then twice
2x upsampling + 5x5 stride-1 transposed convolution (4, then 2 x g_filters) + BatchNorm + LeakyReLU 0.3;
a 5x5 transposed convolution of g_filters + BatchNorm + LeakyReLU 0.3; and a 5x5 transposed convolution to
the image through the output activation (the seed's sigmoid, on images in [0, 1]).
D: 5x5 convolutions of 1, 2, 4 and 8 x d_filters, strides 2, 2, 2 and 1, each with LeakyReLU and Dropout;
Flatten; one logit (the seed's Dense + sigmoid, folded into the loss).

Every kernel starts from Glorot normal, as the seed's `kernel_initializer='glorot_normal'`. The seed fixed G's
LeakyReLU slope (0.3) and its first BatchNorm's momentum (0.9) apart from D's slope and the later momenta,
so those two are constants here; `leaky_alpha` sets D's slope, `bn_momentum` G's later BatchNorms, and
`dropout` both nets' Dropout. At g_filters = d_filters = 64 (the seed's `depth`) that is 12,860,291
parameters in G and 4,314,753 in D, as the seed's `summary()` printed.
"""

from ganmodels.blocks import Seeds, batch_norm, image_out, logit
from ganmodels.config import GanConfig
from ganmodels.keras_import import keras

layers = keras.layers

BASE = 8  # the seed's `dim`
G_ALPHA = 0.3  # LeakyReLU(alpha=0.3) in every G layer
G_FIRST_MOMENTUM = 0.9  # BatchNormalization(momentum=0.9) after G's Dense; the later ones use bn_momentum
GENERATOR_DROPOUT_SEED = 100  # offset of G's Dropout seed from the run seed, apart from D's


def generator(cfg: GanConfig) -> keras.Model:
    seeds = Seeds(cfg.seed, "glorot_normal")
    widest = 8 * cfg.g_filters
    z = keras.Input(cfg.latent_shape, name="z")
    x = layers.Flatten()(z) if len(cfg.latent_shape) > 1 else z
    x = seeds.dense(BASE * BASE * widest)(x)
    x = layers.LeakyReLU(G_ALPHA)(batch_norm(G_FIRST_MOMENTUM)(x))
    x = layers.Reshape((BASE, BASE, widest))(x)
    x = layers.Dropout(cfg.dropout, seed=cfg.seed + GENERATOR_DROPOUT_SEED)(x)
    for filters, upsample in ((widest // 2, True), (widest // 4, True), (widest // 8, False)):
        if upsample:
            x = layers.UpSampling2D()(x)
        x = seeds.deconv(filters, 5, strides=1)(x)
        x = layers.LeakyReLU(G_ALPHA)(batch_norm(cfg.bn_momentum)(x))
    x = seeds.deconv(cfg.channels, 5, strides=1)(x)
    return keras.Model(z, image_out(cfg.output)(x), name="generator")


def discriminator(cfg: GanConfig) -> keras.Model:
    seeds = Seeds(cfg.seed + 1, "glorot_normal")
    image = keras.Input((cfg.size, cfg.size, cfg.channels), name="image")
    x = image
    for i, (mult, strides) in enumerate(((1, 2), (2, 2), (4, 2), (8, 1))):
        x = seeds.conv(cfg.d_filters * mult, 5, strides=strides)(x)
        if cfg.d_batchnorm and i > 0:
            x = batch_norm(cfg.bn_momentum)(x)
        x = layers.LeakyReLU(cfg.leaky_alpha)(x)
        x = layers.Dropout(cfg.dropout, seed=cfg.seed + i)(x)
    x = layers.Flatten()(x)
    return keras.Model(image, logit(seeds)(x), name="discriminator")
