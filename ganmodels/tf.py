"""Import TensorFlow and Keras once, on the TensorFlow backend, without the C++ start-up chatter.

For the TensorFlow-only modules (the TensorFlow train step, tf.train checkpoints, tf.distribute, tf.data):
they need Keras on TensorFlow, so importing this module first pins KERAS_BACKEND to TensorFlow. Code that
runs on either backend imports `keras` from `ganmodels.keras_import` instead, and never this module on JAX
(`ganmodels.backend` chooses). Otherwise: the variable is pinned before Keras is imported
(`ganmodels.tf_backend`; the CLI calls it first and says so when it overrides a setting). Keras already
imported on another backend cannot be switched: that is one clear error, not a traceback deep inside.

TensorFlow prints oneDNN and CUDA notices from C++ before its log level is read, so
TF_CPP_MIN_LOG_LEVEL alone does not silence them: stderr is muted for the import only.
Every ganmodels module takes `tf` and `keras` from here.
"""

import os
import sys

from ganmodels.backend import requested_backend
from ganmodels.tf_backend import BACKEND, pin_keras_backend

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _check_chosen_backend() -> None:
    """A process that chose JAX (`ganmodels.backend.choose_backend`, or KERAS_BACKEND=jax) gets no TensorFlow
    Keras behind its back: importing this module then is a bug in the importer, said in one line."""
    if "keras" not in sys.modules and requested_backend(None) == "jax":
        raise ImportError(
            "ganmodels.tf is TensorFlow-only, but this process runs Keras on jax (KERAS_BACKEND=jax): "
            "import keras from ganmodels.keras_import instead"
        )


def _check_loaded_backend() -> None:
    keras = sys.modules.get("keras")
    backend = getattr(getattr(keras, "backend", None), "backend", None)
    if backend is not None and backend() != BACKEND:
        raise ImportError(
            f"Keras was already imported on the {backend()} backend; ganflow needs TensorFlow. "
            f"Set KERAS_BACKEND={BACKEND} before importing keras (or import ganflow first)"
        )


def _import_quietly():
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import keras
        import tensorflow

        tensorflow.get_logger().setLevel("ERROR")
        return tensorflow, keras
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


_check_chosen_backend()
pin_keras_backend()
_check_loaded_backend()
tf, keras = _import_quietly()

__all__ = ["tf", "keras"]
