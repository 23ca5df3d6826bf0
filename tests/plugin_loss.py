"""A loss registered from this one file, as a user would add one: least squares towards 1 and -1."""

from ganmodels.lazy_tf import tf
from ganmodels.loss_functions import Loss, register

PLUS_MINUS = register(
    Loss(
        "plus-minus",
        order=90,
        d_loss=lambda real_logits, fake_logits, real_labels, fake_labels: tf.reduce_mean(tf.square(real_logits - 1.0))
        + tf.reduce_mean(tf.square(fake_logits + 1.0)),
        g_loss=lambda fake_logits, target: tf.reduce_mean(tf.square(fake_logits - 1.0)),
        help="plus-minus (least squares towards 1 and -1)",
    )
)
