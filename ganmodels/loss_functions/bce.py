"""bce: non-saturating binary cross-entropy (Goodfellow et al. 2014, as in the DCGAN paper)."""

from ganmodels.loss_functions import Loss, register
from ganmodels.loss_ops import ops


def bce(labels, logits):
    return ops.mean(ops.sigmoid_cross_entropy(labels, logits))


register(
    Loss(
        "bce",
        order=10,
        d_loss=lambda real_logits, fake_logits, real_labels, fake_labels: bce(real_labels, real_logits)
        + bce(fake_labels, fake_logits),
        # G maximises log D(G(z)) rather than minimising log(1 - D(G(z))): strong gradients early on.
        g_loss=lambda fake_logits, target: bce(target, fake_logits),
        help="bce (non-saturating)",
        labelled=True,
    )
)
