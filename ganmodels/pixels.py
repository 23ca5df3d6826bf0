"""Generator output to displayable uint8 and the range a saved generator works in: numpy only, any backend."""

import numpy as np


def to_uint8(images, output: str = "tanh") -> np.ndarray:
    """Generator output in [-1, 1] (or [0, 1] for a sigmoid generator) back to displayable uint8."""
    images = np.asarray(images, np.float32)
    scaled = images * 255.0 if output == "sigmoid" else (images + 1.0) * 127.5
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def output_of(generator) -> str:
    """ "sigmoid" when the generator's last layer is a sigmoid, else "tanh": a saved generator says its range."""
    activation = getattr(generator.layers[-1], "activation", None)
    return "sigmoid" if getattr(activation, "__name__", "") == "sigmoid" else "tanh"
