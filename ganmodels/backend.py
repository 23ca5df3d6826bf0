"""Which Keras backend ganflow runs on: chosen once per process, before Keras is imported.

Keras fixes its backend at import from KERAS_BACKEND (else ~/.keras/keras.json), and a process cannot switch
later. `choose_backend` sets the variable (so child processes inherit it) and refuses, in one line, what
cannot work: a Keras already loaded on another backend, or JAX asked for where it is not installed.
This module imports neither Keras, TensorFlow nor JAX, so the CLI can call it first.
"""

import importlib.util
import os
import sys

BACKENDS = ("tensorflow", "jax")
DEFAULT = "tensorflow"
JAX_INSTALL = "--backend jax needs JAX: pip install -e '.[jax]'"


class BackendError(ValueError):
    """A backend that cannot be used in this process; the message is one line saying what to do."""


def _loaded_backend() -> str | None:
    """The backend of a Keras this process already imported, else None."""
    keras = sys.modules.get("keras")
    backend = getattr(getattr(keras, "backend", None), "backend", None)
    return backend() if callable(backend) else None


def requested_backend(name: str | None = None) -> str:
    """`name`, else KERAS_BACKEND when it is one ganflow runs on, else TensorFlow."""
    if name is None:
        asked = os.environ.get("KERAS_BACKEND")
        return asked if asked in BACKENDS else DEFAULT
    if name not in BACKENDS:
        raise BackendError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)}")
    return name


def choose_backend(name: str | None = None) -> str:
    """Set KERAS_BACKEND for this process and its children to `name` (see `requested_backend`); return it."""
    chosen = requested_backend(name)
    loaded = _loaded_backend()
    if loaded is not None and loaded != chosen:
        raise BackendError(
            f"Keras was already imported on the {loaded} backend, not {chosen}: "
            f"set KERAS_BACKEND={chosen} before importing keras (or import ganflow first)"
        )
    if chosen == "jax" and importlib.util.find_spec("jax") is None:
        raise BackendError(JAX_INSTALL)
    os.environ["KERAS_BACKEND"] = chosen
    return chosen


def current_backend() -> str:
    """The backend Keras runs on in this process: the loaded Keras's, else the one it would load."""
    return _loaded_backend() or requested_backend(None)


def is_jax() -> bool:
    return current_backend() == "jax"
