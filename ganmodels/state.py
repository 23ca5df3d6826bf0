"""The training state of the process's Keras backend: `TrainingState.build(config, runtime)` on either.

Both have the same methods the training loop uses (`train_batch`, `finish_epoch`, `extra_updates`,
`fixed_latents`, `counters`, `to_arrays`, `load_arrays`, `models`, `config`, the counters `step`, `epoch`,
`batch_in_epoch` read with `int(x.numpy())`). On TensorFlow it also has `checkpoint`, the
`tf.train.Checkpoint` run folders have always held (`ganmodels/backends/tensorflow.py`); on JAX the state
is plain arrays and is saved as `to_arrays()` (`ganmodels/backends/jax.py`).
"""

from ganmodels.backend import current_backend
from ganmodels.state_arrays import load_generator_arrays

if current_backend() == "jax":
    from ganmodels.backends.jax import JaxTrainingState as TrainingState
else:
    from ganmodels.backends.tensorflow import TrainingState

__all__ = ["TrainingState", "load_generator_arrays"]
