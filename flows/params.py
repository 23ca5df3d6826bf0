"""The one definition of every `ganflow run` option: the flow's parameter model and the CLI's options.

Prefect validates it before any task runs and renders it as a form in the UI; the CLI builds its
options from the same fields, so help texts and defaults cannot drift apart.
"""

import hashlib
import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ganmodels.config import GanConfig
from tasks.acquire import parse_source
from tasks.image_decode import DEFAULT_MAX_PIXELS, DEFAULT_MIN_SIDE


class RunParams(BaseModel):
    """Parameters of the `ganflow` flow."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field("sample", description="'sample' (100 built-in faces, offline) or a folder of images.")
    size: Literal[28, 32, 64] = Field(32, description="Image side in pixels.")
    channels: Literal[1, 3] = Field(3, description="1 for grayscale, 3 for RGB (gray sources are replicated).")
    crop: Literal["center", "celeba", "pad", "none"] = Field(
        "center",
        description="How to make images square: 'center' keeps the largest centred square; 'celeba' the "
        "CelebA face box (rows 55:163, cols 35:143 of 218x178, scaled to other sizes); 'pad' keeps the whole "
        "image and pads it with black to a square; 'none' stretches the whole image to the square.",
    )
    dedupe: bool = Field(False, description="Drop exact duplicate files (same bytes), keeping the first.")
    min_side: int = Field(
        DEFAULT_MIN_SIDE, ge=1, le=65535, description="Skip images whose width or height is below this (px)."
    )
    max_pixels: int = Field(
        DEFAULT_MAX_PIXELS,
        ge=1,
        description="Skip images whose header claims more pixels than this (decompression bombs), before decoding.",
    )
    workers: int = Field(0, ge=0, le=1024, description="Preprocessing processes; 0 uses every core.")
    epochs: int = Field(300, ge=1, le=1_000_000, description="Total epochs; a rerun with more continues training.")
    batch_size: int = Field(16, ge=1, le=8192, description="Images per training step.")
    latent_dim: int = Field(100, ge=1, le=4096, description="Length of the generator's noise vector.")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="Seed for weights, shuffling and latents.")
    run_dir: Path | None = Field(
        None, description="Where this run's outputs go. Default: runs/<source>-<size>px-c<channels>-<settings hash>."
    )
    data_dir: Path = Field(Path("data"), description="Where preprocessed caches go; shared across runs.")

    @field_validator("source")
    @classmethod
    def _source_exists(cls, value: str) -> str:
        parse_source(value)
        return value.strip()

    @model_validator(mode="after")
    def _resolve_dirs(self) -> "RunParams":
        self.data_dir = self.data_dir.expanduser().resolve()
        if self.run_dir is None:
            self.run_dir = Path("runs") / self.default_run_name()
        self.run_dir = self.run_dir.expanduser().resolve()
        return self

    def gan_config(self) -> GanConfig:
        return GanConfig(
            size=self.size,
            channels=self.channels,
            latent_dim=self.latent_dim,
            batch_size=self.batch_size,
            seed=self.seed,
        )

    def default_run_name(self) -> str:
        """Same data and model settings give the same folder, so a rerun with more epochs continues it."""
        source = parse_source(self.source)
        data = {"crop": self.crop, "dedupe": self.dedupe, "min_side": self.min_side, "max_pixels": self.max_pixels}
        identity = {"source": [source.kind, source.location], **data, **self.gan_config().to_dict()}
        digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:8]
        return f"{source.name}-{self.size}px-c{self.channels}-{digest}"
