"""The non-saturating GAN loss on logits (Goodfellow et al. 2014, as in the DCGAN paper)."""

from ganmodels.tf import tf


def _bce(labels, logits):
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))


def discriminator_loss(real_logits, fake_logits):
    """D learns to call real images 1 and generated ones 0."""
    return _bce(tf.ones_like(real_logits), real_logits) + _bce(tf.zeros_like(fake_logits), fake_logits)


def generator_loss(fake_logits):
    """G maximises log D(G(z)) rather than minimising log(1 - D(G(z))): strong gradients early on."""
    return _bce(tf.ones_like(fake_logits), fake_logits)
