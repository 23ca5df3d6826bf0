"""hinge: D's margin loss, G raises D's score (Lim & Ye 2017; SAGAN, BigGAN)."""

from ganmodels.loss_functions import Loss, register
from ganmodels.loss_ops import ops


def _d_loss(real_logits, fake_logits, real_labels, fake_labels):
    return ops.mean(ops.relu(1.0 - real_logits)) + ops.mean(ops.relu(1.0 + fake_logits))


register(
    Loss(
        "hinge",
        order=30,
        d_loss=_d_loss,
        g_loss=lambda fake_logits, target: -ops.mean(fake_logits),
        help="hinge",
    )
)
