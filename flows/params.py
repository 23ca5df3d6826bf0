"""The one definition of every `ganflow run` option: the flow's parameter model and the CLI's options.

The flow validates it before any task runs; its parameters (flows/flow_parameters.py: flat fields and one
`options` group, the UI's form) and the CLI's options are built from the same fields, so help texts and
defaults cannot drift apart.

The options that shape the model and its training are "tunable": their field default is None, which
means "not given", and validation resolves each to the value given, else the `--recipe`'s, else the
option's fallback (in the field's schema, shown as the CLI default). So a recipe never overrides
what a user asked for, and a resolved model reads the same however it was built.
"""

import dataclasses
import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ByteSize,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from flows.option_checks import (
    OptionError,
    dask_address_conflict,
    given_conflicts,
    resolved_conflicts,
    source_conflicts,
)
from flows.recipes import DEFAULT_RECIPE, RECIPES, RecipeName
from ganmodels.config import (
    ARCHS,
    AUGMENTS,
    CHANNELS,
    LABEL_CONVENTIONS,
    LATENT_DISTS,
    LOSSES,
    NOISE_SHAPES,
    OPTIMIZERS,
    OUTPUTS,
    SAMPLINGS,
    SIZES,
    UPDATE_ORDERS,
    GanConfig,
)
from ganmodels.loss_functions import default_n_critic, labelled_losses, loss_help, n_critic_help, penalty_losses
from tasks.acquire.sources.archive import DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES
from tasks.acquire.task import Source, parse_source
from tasks.preprocess.chunk_runners import TASK_RUNNERS
from tasks.preprocess.crops import CROPS
from tasks.preprocess.image_decode import DEFAULT_MAX_PIXELS, DEFAULT_MIN_SIDE
from tasks.preprocess.split import DEFAULT_HOLDOUT, MAX_SHARE, MIN_HELD_OUT, MIN_SET_SIZE
from tasks.train.options import TrainOptions

# The headings `ganflow run --help` and docs/options.md sort the options under, in the order shown: the
# everyday ones first (the same as the flow's flat parameters, flows/flow_parameters.FLOW_FIELDS).
OPTION_GROUPS = {
    "everyday": "Everyday options",
    "data": "Data: reading and checking images",
    "model": "Model: the networks",
    "training": "Training: loss, optimizer, schedule",
    "quality": "Quality measures",
    "checkpoints": "Checkpoints and restarts",
    "hardware": "Hardware and task runner",
}


def option(default: Any, group: str, **kwargs: Any) -> Any:
    """A field no recipe sets, listed under `group` (a key of OPTION_GROUPS) in the help."""
    return Field(default, json_schema_extra={"group": group}, **kwargs)


def tunable(fallback: Any, group: str, **kwargs: Any) -> Any:
    """A field a recipe may set: None (not given) until validation resolves it; `fallback` if nobody sets it."""
    return Field(None, json_schema_extra={"fallback": fallback, "group": group}, **kwargs)


def option_group(name: str) -> str:
    """The OPTION_GROUPS key a `RunParams` field is listed under."""
    extra = RunParams.model_fields[name].json_schema_extra
    return extra["group"] if isinstance(extra, dict) else ""


def _fallback(name: str) -> Any:
    extra = RunParams.model_fields[name].json_schema_extra
    return extra["fallback"] if isinstance(extra, dict) and "fallback" in extra else None


def tunable_names() -> list[str]:
    return [n for n, f in RunParams.model_fields.items() if "fallback" in (f.json_schema_extra or {})]


def resolve_options(given: dict[str, Any]) -> dict[str, Any]:
    """Given values (None means not given) over the recipe's settings over the fallbacks."""
    recipe = RECIPES.get(given.get("recipe") or DEFAULT_RECIPE)
    resolved = {n: _fallback(n) for n in tunable_names()}
    resolved.update(recipe.settings if recipe else {})
    resolved.update({k: v for k, v in given.items() if v is not None})
    if resolved.get("noise_shape") is None:
        resolved["noise_shape"] = "image" if resolved["arch"] == "convdense" else "vector"
    if resolved.get("n_critic") is None:
        resolved["n_critic"] = default_n_critic(resolved["loss"])
    return resolved


LABELLED = "/".join(labelled_losses())  # the losses with D's targets, which the label options change


def parse_augment(policies: str) -> tuple[str, ...]:
    """'translation,cutout' -> ('translation', 'cutout'); 'none' or '' -> ()."""
    items = [p.strip().lower() for p in policies.split(",") if p.strip()]
    return () if items in ([], ["none"], ["off"]) else tuple(items)


class RunParams(BaseModel):
    """Parameters of the `ganflow` flow."""

    model_config = ConfigDict(extra="forbid")

    source: str = option(
        "sample",
        description="'sample' (100 built-in faces, offline); a folder, .zip or .tar(.gz) of images; an http(s) "
        "URL of such an archive; kaggle:OWNER/SLUG[/versions/N]; or celeba, celebrities-100k, mnist, "
        "fashion_mnist, cifar10.",
        group="everyday",
    )
    sha256: str | None = option(
        None,
        description="Expected sha256 of a URL or archive source; a mismatch stops the run.",
        group="data",
    )
    max_extract_bytes: ByteSize = option(
        ByteSize(DEFAULT_MAX_BYTES),
        gt=0,
        description="Largest total size an archive may unpack to, in bytes or with a unit (500MB, 20GB).",
        group="data",
    )
    max_extract_entries: int = option(
        DEFAULT_MAX_ENTRIES,
        ge=1,
        le=10**9,
        description="Most files and folders an archive may hold.",
        group="data",
    )
    recipe: RecipeName = option(
        DEFAULT_RECIPE,
        description="A named preset of the options below ('ganflow recipes' lists them); options you give beat it.",
        group="everyday",
    )
    size: Literal[SIZES] | None = tunable(32, description="Image side in pixels.", group="everyday")
    channels: Literal[CHANNELS] | None = tunable(
        3, description="1 for grayscale, 3 for RGB (gray sources are replicated).", group="everyday"
    )
    crop: Literal[CROPS] | None = tunable(
        "center",
        description="How to make images square: 'center' keeps the largest centred square; 'celeba' the "
        "CelebA face box (rows 55:163, cols 35:143 of 218x178, scaled to other sizes); 'pad' keeps the whole "
        "image and pads it with black to a square (shrunk as PIL's thumbnail, never enlarged, as the 32 px "
        "seed); 'none' stretches the whole image to the square.",
        group="everyday",
    )
    dedupe: bool = option(
        False, description="Drop exact duplicate files (same bytes), keeping the first.", group="data"
    )
    min_side: int = option(
        DEFAULT_MIN_SIDE,
        ge=1,
        le=65535,
        description="Skip images whose width or height is below this (px).",
        group="data",
    )
    max_pixels: int = option(
        DEFAULT_MAX_PIXELS,
        ge=1,
        description="Skip images whose header claims more pixels than this (decompression bombs), before decoding.",
        group="data",
    )
    workers: int = option(0, ge=0, le=1024, description="Preprocessing processes; 0 uses every core.", group="data")
    epochs: int | None = tunable(
        300,
        ge=1,
        le=1_000_000,
        description="Total epochs; a rerun with more continues training.",
        group="everyday",
    )
    more_epochs: int | None = option(
        None,
        ge=1,
        le=1_000_000,
        description="Train this many epochs beyond those already in the run folder, instead of up to --epochs: "
        "a scheduled run with a fixed --run-dir then continues training every time it runs.",
        group="everyday",
    )
    batch_size: int | None = tunable(16, ge=1, le=8192, description="Images per training step.", group="everyday")
    arch: Literal[ARCHS] | None = tunable(
        "dcgan",
        description="Network pair: dcgan (TF tutorial DCGAN), dcgan64 (jhayes14's 64/32 px DCGAN, no BatchNorm "
        "in D), convdense (conv then dense layers on image-shaped noise), mlp (two-layer MLP GAN), celeb32 "
        "(the 32 px celebrity seed's DCGAN), gan-mlp (Keras-GAN's non-convolutional GAN, 3 hidden layers in G), "
        "numpy-mlp (the numpy MLP seed: LeakyReLU G, ReLU D).",
        group="model",
    )
    g_filters: int | None = tunable(
        64,
        ge=1,
        le=4096,
        description="dcgan/dcgan64: filters of G's last hidden layer (doubling towards the input).",
        group="model",
    )
    d_filters: int | None = tunable(
        64,
        ge=1,
        le=4096,
        description="dcgan/dcgan64: filters of D's first layer (doubling with depth).",
        group="model",
    )
    leaky_alpha: float | None = tunable(0.2, ge=0, le=1, description="Negative slope of the LeakyReLUs.", group="model")
    dropout: float | None = tunable(0.3, ge=0, lt=1, description="Dropout rate in D (0 turns it off).", group="model")
    bn_momentum: float | None = tunable(
        0.99,
        gt=0,
        lt=1,
        description="Momentum of BatchNorm's running statistics (Keras' default 0.99).",
        group="model",
    )
    d_batchnorm: bool | None = tunable(
        False,
        description="dcgan: BatchNorm in D too (not on its first layer). jhayes14 found it made D too strong.",
        group="model",
    )
    width: float | None = tunable(
        1.0,
        gt=0,
        le=4,
        description="convdense: scale of every layer's width; 1 is the full size of the 28 px CelebA model that "
        "--recipe seed-celeba28 reproduces (about 28M/52M parameters), 0.25 about 2M/3M and quick on CPU.",
        group="model",
    )
    hidden_units: int | None = tunable(
        512, ge=1, le=65536, description="mlp: units of the hidden layer of G and D.", group="model"
    )
    noise_shape: Literal[NOISE_SHAPES] | None = tunable(
        None,
        description="G's input: a latent vector (--latent-dim long), or image-shaped noise of size x size x "
        "channels. Default: image for convdense, else vector.",
        group="model",
    )
    latent_dim: int | None = tunable(
        100,
        ge=1,
        le=4096,
        description="Length of the latent vector (100, 128 and 256 are usual).",
        group="model",
    )
    latent_dist: Literal[LATENT_DISTS] | None = tunable(
        "normal",
        description="Distribution of the latents: standard normal, or uniform in [-1, 1].",
        group="model",
    )
    loss: Literal[LOSSES] | None = tunable("bce", description=loss_help(), group="training")
    n_critic: int | None = tunable(
        None,
        ge=1,
        le=100,
        description=f"D updates per G update, on the same batch. {n_critic_help()}",
        group="training",
    )
    gp_weight: float | None = tunable(
        10.0, ge=0, description=f"{'/'.join(penalty_losses())}: weight of the gradient penalty.", group="training"
    )
    label_smoothing: float | None = tunable(
        1.0,
        gt=0,
        le=1,
        description=f"{LABELLED}: the label D learns for real images; below 1 (e.g. 0.9) is one-sided label smoothing.",
        group="training",
    )
    label_noise: float | None = tunable(
        0.0,
        ge=0,
        lt=1,
        description=f"{LABELLED}: jitter labels uniformly, real in [label - x, label] and fake in [0, x].",
        group="training",
    )
    flip_labels: float | None = tunable(
        0.0,
        ge=0,
        lt=1,
        description=f"{LABELLED}: the fraction of D's labels swapped between real and fake.",
        group="training",
    )
    optimizer: Literal[OPTIMIZERS] | None = tunable(
        "adam", description="Optimizer of both networks.", group="training"
    )
    lr_g: float | None = tunable(2e-4, gt=0, le=1, description="Learning rate of G.", group="training")
    lr_d: float | None = tunable(2e-4, gt=0, le=1, description="Learning rate of D.", group="training")
    beta1: float | None = tunable(
        0.5, ge=0, lt=1, description="Adam's beta_1 (momentum); the DCGAN paper's 0.5.", group="training"
    )
    beta2: float | None = tunable(0.999, ge=0, lt=1, description="Adam's beta_2; WGAN-GP used 0.9.", group="training")
    d_pretrain_steps: int | None = tunable(
        0,
        ge=0,
        le=10**7,
        description="Train D alone for the first N steps, before G starts learning.",
        group="training",
    )
    balance_margin: float | None = tunable(
        None,
        ge=0,
        description="jhayes14's rule: after each step, while D's loss per image exceeds G's by more than this, "
        "train D again on the batch, and the other way round. Off unless given.",
        group="training",
    )
    balance_max_steps: int | None = tunable(
        5,
        ge=0,
        le=1000,
        description="Most extra updates the balance rule gives a network per batch; 0 turns it off.",
        group="training",
    )
    ema: float | None = tunable(
        0.0,
        ge=0,
        lt=1,
        description="Keep an exponential moving average of G's weights with this decay (e.g. 0.999) and use it "
        "for samples, the GIF and generator.keras. 0 turns it off.",
        group="training",
    )
    diffaugment: str | None = tunable(
        "none",
        description="DiffAugment policies for D's real and fake images, comma-separated: color, translation, "
        "cutout (e.g. translation,cutout); 'none' turns it off. Helps small data sets most.",
        group="training",
    )
    # What the seed projects fixed beyond the options above (see docs/recipes.md).
    output: Literal[OUTPUTS] | None = tunable(
        "tanh",
        description="G's last activation, and so the range images are scaled to: tanh on [-1, 1], or sigmoid "
        "on [0, 1] (x / 255, as the 32 px celebrity and numpy MLP seeds). Samples, GIF and metrics follow it.",
        group="model",
    )
    labels: Literal[LABEL_CONVENTIONS] | None = tunable(
        "real1",
        description=f"{LABELLED}: D's label convention: real1 (real 1, fake 0), or real0, flipped (real 0, fake 1, "
        "G aiming at 0) as the GAN-hacks seed; --label-noise then draws real from [0, x] and fake from [1 - x, 1].",
        group="training",
    )
    clipvalue: float | None = tunable(
        0.0,
        ge=0,
        description="Clip every gradient element to [-x, x] in both optimizers (Keras' clipvalue); 0: off.",
        group="training",
    )
    lr_decay_g: float | None = tunable(
        0.0,
        ge=0,
        description="Keras 2's optimizer decay for G: its rate is lr-g / (1 + x * updates); 0: constant.",
        group="training",
    )
    lr_decay_d: float | None = tunable(
        0.0,
        ge=0,
        description="Keras 2's optimizer decay for D: its rate is lr-d / (1 + x * updates); 0: constant.",
        group="training",
    )
    epsilon: float | None = tunable(
        1e-7,
        gt=0,
        lt=1,
        description="The optimizers' epsilon as Keras 2 meant it: added to the root of the second-moment "
        "average, in Adam and RMSprop alike (the seed-jhayes14 and seed-mlp recipes use 1e-8).",
        group="training",
    )
    update_order: Literal[UPDATE_ORDERS] | None = tunable(
        "joint",
        description="How a step updates the nets: joint (D and G from one forward pass, ganflow's), or one after "
        "the other as the original projects' train_on_batch calls: d-then-g (Keras-GAN, jhayes14, the 32 px "
        "celebrity DCGAN) or g-then-d (the numpy MLP), D then seeing fakes made in inference mode (Keras' predict).",
        group="training",
    )
    reuse_noise: bool | None = tunable(
        False,
        description="d-then-g and g-then-d: the second update takes the first's latents (jhayes14, the numpy MLP) "
        "instead of fresh ones (Keras-GAN, the 32 px celebrity DCGAN).",
        group="training",
    )
    sampling: Literal[SAMPLINGS] | None = tunable(
        "permutation",
        description="How an epoch draws its batches: permutation (N // batch batches of one shuffle, each image "
        "once) or replacement (round(N / batch) batches drawn at random with replacement, as the Keras seeds).",
        group="training",
    )
    seed: int = option(0, ge=0, le=2**31 - 1, description="Seed for weights, shuffling and latents.", group="everyday")
    run_dir: Path | None = option(
        None,
        description="Where this run's outputs go. Default: runs/<source>-<size>px-c<channels>-<settings hash>.",
        group="everyday",
    )
    data_dir: Path = option(
        Path("data"), description="Where preprocessed caches go; shared across runs.", group="everyday"
    )
    checkpoint_every: int | None = option(
        None,
        ge=1,
        description="Also checkpoint every N steps. Default: at each epoch end and every 5 minutes.",
        group="checkpoints",
    )
    keep_checkpoints: int = option(
        3, ge=1, le=1000, description="How many recent checkpoints to keep.", group="checkpoints"
    )
    restart: bool = option(
        False, description="Discard this run's checkpoints and samples and train from scratch.", group="checkpoints"
    )
    precision: Literal["auto", "fp32", "bf16"] = option(
        "auto",
        description="auto: mixed bfloat16 where the CPU (AMX/AVX512-BF16) or GPU (Ampere+) has it, else fp32.",
        group="hardware",
    )
    jit: Literal["auto", "on", "off"] = option(
        "auto", description="XLA compile the train step; auto: on for GPU only.", group="hardware"
    )
    deterministic: Literal["auto", "on", "off"] = option(
        "auto",
        description="Deterministic ops, for bit-exact reruns and resumes; auto: on for CPU. "
        "GPU runs are not bit-exact unless 'on' (slower).",
        group="hardware",
    )
    threads: int | None = option(
        None,
        ge=1,
        le=1024,
        description="CPU threads for TensorFlow ops (pinned and recorded). Default: all cores.",
        group="hardware",
    )
    devices: int | None = option(
        None,
        ge=1,
        le=64,
        description="Devices to mirror training over. Default: all GPUs when there are several.",
        group="hardware",
    )
    backend: Literal["tensorflow", "jax"] | None = option(
        None,
        description="Keras backend to train on (jax needs pip install -e '.[jax]'). Default: KERAS_BACKEND when it "
        "names one of them, else tensorflow. A run folder continues on the backend it was trained on.",
        group="hardware",
    )

    max_minutes: float | None = option(
        None,
        gt=0,
        le=10**7,
        description="Time budget: end training at the first step boundary after this many minutes of training in "
        "this run, then checkpoint, render and evaluate as usual. A later run with a larger budget or more "
        "epochs continues it.",
        group="training",
    )
    eval_every: int = option(
        1,
        ge=0,
        le=1_000_000,
        description="Evaluate quality (SWD, NDB) every N epochs; the best SWD picks generator.keras. 0: never.",
        group="quality",
    )
    holdout: float = option(
        DEFAULT_HOLDOUT,
        ge=0,
        le=MAX_SHARE,
        description="Share of the images held out: never trained on, and the real images quality is scored "
        f"against (train figures beside them). At least {MIN_HELD_OUT} images, at most {MAX_SHARE:.0%} of the "
        f"set; sets under {MIN_SET_SIZE} images hold none out. Fixed and seeded, the same for every --seed. 0: none.",
        group="everyday",
    )
    eval_images: int = option(
        2048,
        ge=2,
        le=1_000_000,
        description="Real and generated images in the final quality report.",
        group="quality",
    )
    inception_weights: Path | None = option(
        None,
        description="InceptionV3 'no top' weights (.h5) for FID/KID; default: Keras' cache, else skipped.",
        group="quality",
    )
    task_runner: Literal[TASK_RUNNERS] = option(
        "default",
        description="Where preprocessing runs: 'default' in the flow's own process; 'dask' in chunks on a Dask "
        "cluster through prefect-dask (pip install 'ganflow[dask]'): a new local one, or --dask-address.",
        group="hardware",
    )
    dask_address: str | None = option(
        None,
        description="Scheduler address of an existing Dask cluster, e.g. tcp://10.0.0.5:8786 "
        "(with --task-runner dask).",
        group="hardware",
    )
    http_auth_secret: str | None = option(
        None,
        description="Name of a Prefect Secret block holding the login for a URL --source: USER:PASSWORD (HTTP "
        "Basic) or a bearer token. Read when downloading, never stored. Without it, ~/.netrc is used.",
        group="data",
    )

    @model_validator(mode="before")
    @classmethod
    def _apply_recipe(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("recipe", DEFAULT_RECIPE) not in RECIPES:
            return data  # not a mapping, or an unknown recipe, which the field's validation reports
        return resolve_options(data)

    @field_validator("diffaugment")
    @classmethod
    def _known_policies(cls, value: str | None) -> str | None:
        if value is None:
            return None
        policies = parse_augment(value)
        if unknown := [p for p in policies if p not in AUGMENTS]:
            raise ValueError(f"unknown policy {unknown[0]!r}: give a comma list of {', '.join(AUGMENTS)}, or none")
        return ",".join(policies) or "none"

    @field_validator("sha256")
    @classmethod
    def _sha256_looks_right(cls, value: str | None) -> str | None:
        if not value:
            return None
        value = value.strip().lower()
        if not re.fullmatch(r"[0-9a-f]{64}", value):
            raise ValueError(f"{value!r} is not a sha256: give the 64 hexadecimal digits that sha256sum prints")
        return value

    @field_validator("dask_address")
    @classmethod
    def _dask_address_fits_runner(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not value:
            return None
        value = value.strip()
        if not re.fullmatch(r"(tcp|tls|ucx|ws|wss)://[^\s/]+", value):
            raise ValueError(f"{value!r} is not a Dask scheduler address; give one like tcp://10.0.0.5:8786")
        if problem := dask_address_conflict(value, info.data.get("task_runner")):
            raise ValueError(problem)
        return value

    @field_validator("http_auth_secret")
    @classmethod
    def _secret_is_a_block_name(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", value := value.strip()):
            raise ValueError(f"{value!r} is not a Prefect block name: use lowercase letters, digits and dashes")
        return value

    # What validation builds on its way, kept for the specs (flows/specs.py): the parsed --source and the
    # GanConfig, each made once per validation.
    _source: Source | None = PrivateAttr(None)
    _gan: GanConfig | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _checked(self) -> "RunParams":
        """The rules that need the parsed source or the model (flows/option_checks.py), then the folders."""
        try:
            self._source = parse_source(self.source)
        except ValueError as exc:
            raise OptionError("source", str(exc)) from None
        source_conflicts(self._source, self.source, self.sha256, self.http_auth_secret)
        self.source = self.source.strip()
        try:
            self._gan = gan_config_of(self)  # options that do not fit together stop here, with a message naming them
        except ValueError as exc:
            if settings := RECIPES[self.recipe].settings:
                raise ValueError(f"{exc} (--recipe {self.recipe} sets: {', '.join(settings)})") from None
            raise
        if problem := resolved_conflicts(dict(self)):
            raise ValueError(problem)
        self.data_dir = self.data_dir.expanduser().resolve()
        if self.run_dir is None:
            self.run_dir = Path("runs") / self.default_run_name()
        self.run_dir = self.run_dir.expanduser().resolve()
        return self

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> "RunParams":
        """A copy; one whose changes reach the source or the model derives those again (unchecked, as
        pydantic's copies are)."""
        copy = super().model_copy(update=update, deep=deep)
        if set(update or ()) - {"run_dir", "data_dir", "backend"}:  # those reach neither
            copy._source, copy._gan = parse_source(copy.source), gan_config_of(copy)
        return copy

    def parsed_source(self) -> Source:
        """`--source` as its kind parsed it, when these options were validated."""
        return self._source if self._source is not None else parse_source(self.source)

    def gan_config(self) -> GanConfig:
        """The model and trajectory these options describe, as validation built it."""
        return self._gan if self._gan is not None else gan_config_of(self)

    def train_options(self) -> TrainOptions:
        """How to train, as these options say (--more-epochs aside: tasks/train/options.TrainSpec)."""
        return TrainOptions(**values_for(self, TrainOptions))

    def default_run_name(self) -> str:
        """Same data and model settings give the same folder, so a rerun with more epochs continues it."""
        source = self.parsed_source()
        data = {"crop": self.crop, "dedupe": self.dedupe, "min_side": self.min_side, "max_pixels": self.max_pixels}
        if self.holdout != DEFAULT_HOLDOUT:  # only then: folders named before the split keep their names
            data["holdout"] = self.holdout
        identity = {"source": [source.kind, source.location], **data, **self.gan_config().identity()}
        digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:8]
        return f"{source.name}-{self.size}px-c{self.channels}-{digest}"

    # Contradictory or meaningless options (flows/option_checks.py). Defined after `_apply_recipe` on
    # purpose: pydantic runs "before" model validators last-defined first, so this one sees the options as
    # given, before the recipe fills them in.
    @model_validator(mode="before")
    @classmethod
    def _refuse_given_conflicts(cls, data: Any) -> Any:
        known_recipe = isinstance(data, dict) and data.get("recipe", DEFAULT_RECIPE) in RECIPES
        if known_recipe and (problem := given_conflicts(data, resolve_options, tunable_names())):
            raise ValueError(problem)
        return data


def values_for(params: RunParams, target: type) -> dict[str, Any]:
    """The options' values for the dataclass `target`, whose every field is an option of the same name
    (a field without one fails here, at the first validation, not silently at its default)."""
    return {f.name: getattr(params, f.name) for f in dataclasses.fields(target) if f.init}


def gan_config_of(params: RunParams) -> GanConfig:
    """The model and trajectory the options describe (0 turns EMA off, 0 extra steps the balance rule);
    GanConfig refuses what does not fit (ganmodels/config.py), and nothing here checks it again."""
    return GanConfig(
        **{
            **values_for(params, GanConfig),
            "balance_margin": params.balance_margin if params.balance_max_steps else None,
            "ema": params.ema or None,
            "diffaugment": parse_augment(params.diffaugment),
            "clipvalue": params.clipvalue or None,
        }
    )
