"""Which Keras backend ganflow runs on, set before Keras is imported (this module imports neither).

Keras picks its backend once, at import, from KERAS_BACKEND (else ~/.keras/keras.json). ganflow's
train step, checkpoints and distribution are TensorFlow code, so the variable is pinned here: by
`ganmodels.tf` for any importer, and first thing by the CLI, which also says when it overrode a value.
"""

import os

BACKEND = "tensorflow"


def pin_keras_backend() -> str | None:
    """Set KERAS_BACKEND to TensorFlow for this process and its children; return the other value asked for, if any."""
    asked = os.environ.get("KERAS_BACKEND")
    os.environ["KERAS_BACKEND"] = BACKEND
    return asked if asked and asked != BACKEND else None
