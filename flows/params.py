"""The one definition of every `ganflow run` option: the flow's parameter model and the CLI's options.

Prefect validates it before any task runs and renders it as a form in the UI; the CLI builds its
options from the same fields, so help texts and defaults cannot drift apart.
"""

import hashlib
import json
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ByteSize, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from ganmodels.config import GanConfig
from tasks.acquire import ARCHIVE_KINDS, parse_source
from tasks.image_decode import DEFAULT_MAX_PIXELS, DEFAULT_MIN_SIDE
from tasks.sources.archive import DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES
from tasks.train_options import TrainOptions


class RunParams(BaseModel):
    """Parameters of the `ganflow` flow."""

    # Revalidate instances too: the flow's default is built unvalidated at import (see `unresolved_defaults`) and
    # resolves its folders against the working directory of the run, not of whoever imported or deployed it.
    model_config = ConfigDict(extra="forbid", revalidate_instances="always")

    source: str = Field(
        "sample",
        description="'sample' (100 built-in faces, offline); a folder, .zip or .tar(.gz) of images; an http(s) "
        "URL of such an archive; kaggle:OWNER/SLUG[/versions/N]; or celeba, celebrities-100k, mnist, "
        "fashion_mnist, cifar10.",
    )
    sha256: str | None = Field(
        None,
        description="Expected sha256 of a URL or archive source; a mismatch stops the run.",
    )
    max_extract_bytes: ByteSize = Field(
        ByteSize(DEFAULT_MAX_BYTES),
        gt=0,
        description="Largest total size an archive may unpack to, in bytes or with a unit (500MB, 20GB).",
    )
    max_extract_entries: int = Field(
        DEFAULT_MAX_ENTRIES, ge=1, le=10**9, description="Most files and folders an archive may hold."
    )
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
    more_epochs: int | None = Field(
        None,
        ge=1,
        le=1_000_000,
        description="Train this many epochs beyond those already in the run folder, instead of up to --epochs: "
        "a scheduled run with a fixed --run-dir then continues training every time it runs.",
    )
    batch_size: int = Field(16, ge=1, le=8192, description="Images per training step.")
    latent_dim: int = Field(100, ge=1, le=4096, description="Length of the generator's noise vector.")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="Seed for weights, shuffling and latents.")
    run_dir: Path | None = Field(
        None, description="Where this run's outputs go. Default: runs/<source>-<size>px-c<channels>-<settings hash>."
    )
    data_dir: Path = Field(Path("data"), description="Where preprocessed caches go; shared across runs.")
    checkpoint_every: int | None = Field(
        None, ge=1, description="Also checkpoint every N steps. Default: at each epoch end and every 5 minutes."
    )
    keep_checkpoints: int = Field(3, ge=1, le=1000, description="How many recent checkpoints to keep.")
    restart: bool = Field(False, description="Discard this run's checkpoints and samples and train from scratch.")
    precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto", description="auto: mixed bfloat16 where the CPU (AMX/AVX512-BF16) or GPU (Ampere+) has it, else fp32."
    )
    jit: Literal["auto", "on", "off"] = Field("auto", description="XLA compile the train step; auto: on for GPU only.")
    deterministic: Literal["auto", "on", "off"] = Field(
        "auto",
        description="Deterministic ops, for bit-exact reruns and resumes; auto: on for CPU. "
        "GPU runs are not bit-exact unless 'on' (slower).",
    )
    threads: int | None = Field(
        None, ge=1, le=1024, description="CPU threads for TensorFlow ops (pinned and recorded). Default: all cores."
    )
    eval_every: int = Field(
        1,
        ge=0,
        le=1_000_000,
        description="Evaluate quality (SWD, NDB) every N epochs; the best SWD picks generator.keras. 0: never.",
    )
    eval_images: int = Field(
        2048, ge=2, le=1_000_000, description="Real and generated images in the final quality report."
    )
    inception_weights: Path | None = Field(
        None, description="InceptionV3 'no top' weights (.h5) for FID/KID; default: Keras' cache, else skipped."
    )
    devices: int | None = Field(
        None, ge=1, le=64, description="Devices to mirror training over. Default: all GPUs when there are several."
    )
    task_runner: Literal["default", "dask"] = Field(
        "default",
        description="Where preprocessing runs: 'default' in the flow's own process; 'dask' in chunks on a Dask "
        "cluster through prefect-dask (pip install 'ganflow[dask]'): a new local one, or --dask-address.",
    )
    dask_address: str | None = Field(
        None,
        description="Scheduler address of an existing Dask cluster, e.g. tcp://10.0.0.5:8786 "
        "(with --task-runner dask).",
    )

    @field_validator("source")
    @classmethod
    def _source_exists(cls, value: str) -> str:
        parse_source(value)
        return value.strip()

    @field_validator("sha256")
    @classmethod
    def _sha256_fits_source(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not value:
            return None
        value = value.strip().lower()
        if not re.fullmatch(r"[0-9a-f]{64}", value):
            raise ValueError(f"{value!r} is not a sha256: give the 64 hexadecimal digits that sha256sum prints")
        source = info.data.get("source")
        if source and parse_source(source).kind not in ARCHIVE_KINDS:
            raise ValueError(f"applies to a URL or archive source, not to {source!r}; leave it out")
        return value

    @field_validator("dask_address")
    @classmethod
    def _dask_address_fits_runner(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not value:
            return None
        value = value.strip()
        if not re.fullmatch(r"(tcp|tls|ucx|ws|wss)://[^\s/]+", value):
            raise ValueError(f"{value!r} is not a Dask scheduler address; give one like tcp://10.0.0.5:8786")
        if info.data.get("task_runner") != "dask":
            raise ValueError("applies with --task-runner dask only; add it or leave the address out")
        return value

    @model_validator(mode="after")
    def _resolve_dirs(self) -> "RunParams":
        self.data_dir = self.data_dir.expanduser().resolve()
        if self.run_dir is None:
            self.run_dir = Path("runs") / self.default_run_name()
        self.run_dir = self.run_dir.expanduser().resolve()
        return self

    @classmethod
    def unresolved_defaults(cls) -> "RunParams":
        """Every default, folders still relative: the flow's default, shown in the deployment form as is."""
        return cls.model_construct()

    def gan_config(self) -> GanConfig:
        return GanConfig(
            size=self.size,
            channels=self.channels,
            latent_dim=self.latent_dim,
            batch_size=self.batch_size,
            seed=self.seed,
        )

    def train_options(self) -> TrainOptions:
        return TrainOptions(
            epochs=self.epochs,
            checkpoint_every=self.checkpoint_every,
            keep_checkpoints=self.keep_checkpoints,
            restart=self.restart,
            precision=self.precision,
            jit=self.jit,
            threads=self.threads,
            deterministic=self.deterministic,
            devices=self.devices,
            eval_every=self.eval_every,
        )

    def default_run_name(self) -> str:
        """Same data and model settings give the same folder, so a rerun with more epochs continues it."""
        source = parse_source(self.source)
        data = {"crop": self.crop, "dedupe": self.dedupe, "min_side": self.min_side, "max_pixels": self.max_pixels}
        identity = {"source": [source.kind, source.location], **data, **self.gan_config().to_dict()}
        digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:8]
        return f"{source.name}-{self.size}px-c{self.channels}-{digest}"
