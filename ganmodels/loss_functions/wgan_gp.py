"""wgan-gp: the critic's Wasserstein estimate plus a penalty that keeps its gradient norm near 1 on points
between real and fake images (Gulrajani et al. 2017); the penalty is `ganmodels.losses.gradient_penalty`."""

from ganmodels.loss_functions import Loss, register
from ganmodels.loss_ops import ops

register(
    Loss(
        "wgan-gp",
        order=40,
        d_loss=lambda real_logits, fake_logits, real_labels, fake_labels: ops.mean(fake_logits)
        - ops.mean(real_logits),
        g_loss=lambda fake_logits, target: -ops.mean(fake_logits),
        help="wgan-gp (Wasserstein with gradient penalty; use with --n-critic)",
        penalty=True,
        n_critic=5,
    )
)
