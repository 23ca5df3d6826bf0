"""The few array operations the losses are written with, from the process's backend, looked up at first use.

The loss modules (ganmodels/loss_functions/) are listed by the CLI before any framework is imported, so
nothing here imports one at import time. On TensorFlow these are exactly the ops the losses always used
(tf.reduce_mean, tf.nn.sigmoid_cross_entropy_with_logits, ...), so trajectories stay bit-identical; on
JAX their jax.numpy equivalents (the cross-entropy in TensorFlow's stable form).
"""


class _TensorFlowOps:
    def __init__(self):
        from ganmodels.tf import tf

        self.mean = tf.reduce_mean
        self.relu = tf.nn.relu
        self.square = tf.square

        def sigmoid_cross_entropy(labels, logits):
            return tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)

        self.sigmoid_cross_entropy = sigmoid_cross_entropy


class _JaxOps:
    def __init__(self):
        import jax
        import jax.numpy as jnp

        self.mean = jnp.mean
        self.relu = jax.nn.relu
        self.square = jnp.square

        def sigmoid_cross_entropy(labels, logits):
            # max(x, 0) - x * z + log(1 + exp(-|x|)): TensorFlow's formula, stable for large |x|.
            return jax.nn.relu(logits) - logits * labels + jnp.log1p(jnp.exp(-jnp.abs(logits)))

        self.sigmoid_cross_entropy = sigmoid_cross_entropy


class _LazyOps:
    _ops = None

    def __getattr__(self, name: str):
        if _LazyOps._ops is None:
            from ganmodels.backend import current_backend

            _LazyOps._ops = _JaxOps() if current_backend() == "jax" else _TensorFlowOps()
        return getattr(_LazyOps._ops, name)


ops = _LazyOps()
