"""lsgan: least squares towards the labels (Mao et al. 2017): gradients that do not vanish far from them."""

from ganmodels.loss_functions import Loss, register
from ganmodels.loss_ops import ops


def mse(labels, logits):
    return 0.5 * ops.mean(ops.square(logits - labels))


register(
    Loss(
        "lsgan",
        order=20,
        d_loss=lambda real_logits, fake_logits, real_labels, fake_labels: mse(real_labels, real_logits)
        + mse(fake_labels, fake_logits),
        g_loss=lambda fake_logits, target: mse(target, fake_logits),
        help="lsgan (least squares)",
        labelled=True,
    )
)
