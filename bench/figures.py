"""What every bench script reports beside its timings: the CPU it ran on and the work one image costs.

Backend-neutral (Keras is taken on the process's backend), so the TensorFlow-only loop comparison and the
per-backend step children count FLOPs the same way.
"""

import platform

import numpy as np


def cpu_model() -> str:
    """The CPU's model name, so a printed figure says what it was measured on."""
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
    except OSError:
        names = []
    return names[0] if names else platform.processor() or "unknown CPU"


def forward_flops(model) -> int:
    """Multiply-adds x 2 of the convolutions, transposed convolutions and dense layers, per image."""
    from ganmodels.keras_import import keras

    flops = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2DTranspose):
            h, w, c_in = layer.input.shape[1:]
            flops += 2 * h * w * c_in * layer.filters * int(np.prod(layer.kernel_size))
        elif isinstance(layer, keras.layers.Conv2D):
            h, w, _ = layer.output.shape[1:]
            flops += 2 * h * w * layer.input.shape[-1] * layer.filters * int(np.prod(layer.kernel_size))
        elif isinstance(layer, keras.layers.Dense):
            flops += 2 * layer.input.shape[-1] * layer.units
    return flops
