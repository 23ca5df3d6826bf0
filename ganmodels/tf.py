"""Import TensorFlow and Keras once, without the C++ start-up chatter.

TensorFlow prints oneDNN and CUDA notices from C++ before its log level is read, so
TF_CPP_MIN_LOG_LEVEL alone does not silence them: stderr is muted for the import only.
Every ganmodels module takes `tf` and `keras` from here.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


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


tf, keras = _import_quietly()

__all__ = ["tf", "keras"]
