"""Import Keras once, on the backend `ganmodels.backend` chose, without TensorFlow's C++ start-up chatter.

Backend-neutral modules (the networks, the losses, the JAX trainer) take `keras` from here; TensorFlow-only
ones take `tf` and `keras` from `ganmodels.tf`. With no backend chosen yet, KERAS_BACKEND decides when it
names one ganflow runs on, else TensorFlow (as ganflow always ran). TensorFlow prints oneDNN and CUDA
notices from C++ before its log level is read, so stderr is muted for the import only.
"""

import os

from ganmodels.backend import BACKENDS, BackendError, choose_backend, current_backend

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _import_quietly():
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import keras

        if keras.backend.backend() == "tensorflow":
            import tensorflow

            tensorflow.get_logger().setLevel("ERROR")
        return keras
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


if current_backend() not in BACKENDS:
    raise BackendError(
        f"Keras was already imported on the {current_backend()} backend; ganflow runs on "
        f"{' or '.join(BACKENDS)}: set KERAS_BACKEND before importing keras"
    )
choose_backend(current_backend())
keras = _import_quietly()
BACKEND = keras.backend.backend()

__all__ = ["keras", "BACKEND"]
