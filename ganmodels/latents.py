"""Latent vectors for sampling: seeded draws, the truncation trick, and spherical interpolation."""

import numpy as np


def draw_latents(rng: np.random.Generator, count: int, shape: tuple[int, ...], dist: str = "normal") -> np.ndarray:
    """`count` latents of `shape` from the distribution the generator was trained on."""
    if dist == "uniform":
        return rng.uniform(-1.0, 1.0, (count, *shape)).astype(np.float32)
    return rng.standard_normal((count, *shape)).astype(np.float32)


def sample_latents(
    count: int, shape: int | tuple[int, ...], seed: int, truncation: float | None = None, dist: str = "normal"
) -> np.ndarray:
    """Seeded latents; with `truncation` t, entries with |z| > t are redrawn until none remain.

    Truncation trades variety for fidelity: smaller t gives more typical, cleaner faces.
    """
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    rng = np.random.default_rng(seed)
    z = draw_latents(rng, count, shape, dist)
    if truncation is not None:
        if truncation <= 0:
            raise ValueError("truncation must be positive")
        while (outside := np.abs(z) > truncation).any():
            z[outside] = draw_latents(rng, int(outside.sum()), (), dist)
    return z


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation: stays at the typical norm of Gaussian latents, unlike a straight line."""
    a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
    cos = np.dot(a64 / np.linalg.norm(a64), b64 / np.linalg.norm(b64))
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    if omega < 1e-6:
        return ((1 - t) * a64 + t * b64).astype(np.float32)
    return ((np.sin((1 - t) * omega) * a64 + np.sin(t * omega) * b64) / np.sin(omega)).astype(np.float32)


def latent_walk(points: np.ndarray, frames_per_leg: int) -> np.ndarray:
    """A closed loop through `points` (K, dim): (K * frames_per_leg, dim) latents."""
    legs = []
    for i in range(len(points)):
        a, b = points[i], points[(i + 1) % len(points)]
        legs.extend(slerp(a, b, f / frames_per_leg) for f in range(frames_per_leg))
    return np.stack(legs)
