"""The training configuration: every choice that shapes the models and their trajectory."""

import dataclasses
import hashlib
import json
from dataclasses import dataclass

SIZES = (28, 32, 64)
CHANNELS = (1, 3)


@dataclass(frozen=True)
class GanConfig:
    """What a run trains. Two runs with equal configs and seeds follow the same trajectory.

    `epochs` is deliberately absent: it says how long to train, not what, so a run can be
    continued with a larger number.
    """

    size: int = 32
    channels: int = 3
    latent_dim: int = 100
    batch_size: int = 32
    lr: float = 2e-4
    beta1: float = 0.5
    seed: int = 0
    g_filters: int = 64
    d_filters: int = 64
    dropout: float = 0.3
    leaky_alpha: float = 0.2

    def __post_init__(self) -> None:
        if self.size not in SIZES:
            raise ValueError(f"size must be one of {SIZES}, not {self.size}")
        if self.channels not in CHANNELS:
            raise ValueError(f"channels must be one of {CHANNELS}, not {self.channels}")
        if self.latent_dim < 1 or self.batch_size < 1:
            raise ValueError("latent_dim and batch_size must be positive")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def fingerprint(self) -> str:
        """A short stable hash of every field: equal fingerprints follow the same trajectory."""
        return _digest(self.to_dict())

    def architecture(self) -> dict:
        """The fields that shape the weights: a checkpoint only loads into a config that matches them."""
        return {k: v for k, v in self.to_dict().items() if k in ARCHITECTURE_FIELDS}


ARCHITECTURE_FIELDS = ("size", "channels", "latent_dim", "g_filters", "d_filters")


def _digest(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
