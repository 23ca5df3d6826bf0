"""uint8 images from a generator, in its own output range (tanh or sigmoid), in batches that keep memory small."""

import numpy as np

from ganmodels.pixels import output_of, to_uint8


def images_from(generator, z: np.ndarray, batch: int = 256) -> np.ndarray:
    """uint8 images for the latent vectors `z`, in batches that keep memory small, from G's own range."""
    output = output_of(generator)
    return np.concatenate(
        [to_uint8(generator(z[i : i + batch], training=False), output) for i in range(0, len(z), batch)]
    )


def latent_shape(generator) -> tuple[int, ...]:
    """The shape of one latent input: (latent_dim,), or an image's shape for image-shaped noise."""
    return tuple(generator.input_shape[1:])
