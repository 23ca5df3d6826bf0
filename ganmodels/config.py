"""The training configuration: every choice that shapes the models and their trajectory."""

import dataclasses
import hashlib
import json
from dataclasses import dataclass

from ganmodels.flags import flag
from ganmodels.loss_functions import labelled_losses, loss_named, loss_names
from ganmodels.networks import arch_names

SIZES = (28, 32, 64)
CHANNELS = (1, 3)
ARCHS = arch_names()  # ganmodels/networks.py
LOSSES = loss_names()  # as registered when this module was imported (ganmodels/loss_functions/)
OPTIMIZERS = ("adam", "rmsprop")
NOISE_SHAPES = ("vector", "image")
LATENT_DISTS = ("normal", "uniform")
AUGMENTS = ("color", "translation", "cutout")
DCGAN64_SIZES = (32, 64)
OUTPUTS = ("tanh", "sigmoid")  # G's last activation, and so the range images are scaled to: [-1, 1] or [0, 1]
LABEL_CONVENTIONS = ("real1", "real0")  # which target D learns for real images; real0 is the flipped one
SAMPLINGS = ("permutation", "replacement")  # how an epoch draws its batches (ganmodels/data.py)
# How a step updates D and G (ganmodels/train_step.py): both from one forward pass, or one after the other as
# the Keras seeds' train_on_batch calls did (D's fakes made by G in inference mode, as Keras' `predict`).
UPDATE_ORDERS = ("joint", "d-then-g", "g-then-d")


@dataclass(frozen=True)
class GanConfig:
    """What a run trains. Two runs with equal configs and seeds follow the same trajectory.

    `epochs` is deliberately absent: it says how long to train, not what, so a run can be
    continued with a larger number. Error messages name the CLI options, which carry the same names.
    """

    size: int = 32
    channels: int = 3
    arch: str = "dcgan"
    latent_dim: int = 100
    noise_shape: str = "vector"  # "image": the generator takes a size x size x channels noise tensor
    latent_dist: str = "normal"
    batch_size: int = 32
    seed: int = 0
    # Architecture knobs: filters for dcgan/dcgan64, width for convdense, hidden_units for mlp.
    g_filters: int = 64
    d_filters: int = 64
    dropout: float = 0.3
    leaky_alpha: float = 0.2
    bn_momentum: float = 0.99
    d_batchnorm: bool = False
    width: float = 1.0
    hidden_units: int = 512
    # Loss and label tricks.
    loss: str = "bce"
    n_critic: int = 1  # D updates per G update
    gp_weight: float = 10.0
    label_smoothing: float = 1.0  # the real label D is trained towards (one-sided smoothing below 1)
    label_noise: float = 0.0
    flip_labels: float = 0.0
    # Optimizers.
    optimizer: str = "adam"
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    # Schedule, balance and the modern aids.
    d_pretrain_steps: int = 0
    balance_margin: float | None = None  # None: off
    balance_max_steps: int = 5
    ema: float | None = None  # decay of the generator's moving average; None: off
    diffaugment: tuple[str, ...] = ()
    # What the seed projects fixed beyond the above (issue 15). Each default keeps an older config's meaning.
    output: str = "tanh"  # "sigmoid": G ends in a sigmoid and real images are scaled to [0, 1]
    labels: str = "real1"  # "real0": the flipped convention, real images 0 and fakes 1 (G aims at 0)
    clipvalue: float | None = None  # clip every gradient element to [-c, c] before the optimizer (Keras' clipvalue)
    lr_decay_g: float = 0.0  # Keras 2's `decay`: the rate is lr / (1 + decay * iterations)
    lr_decay_d: float = 0.0
    sampling: str = "permutation"  # "replacement": round(N / batch) batches drawn with replacement per epoch
    # Keras 2's optimizer epsilon, added to the root of the second-moment average in Adam and RMSprop alike
    # (Keras 3's RMSprop adds its epsilon under the root instead: train_step.build_optimizer translates).
    epsilon: float = 1e-7
    update_order: str = "joint"
    reuse_noise: bool = False  # d-then-g, g-then-d: the second update takes the first's latents, not fresh ones

    def __post_init__(self) -> None:
        if isinstance(self.diffaugment, list | str):
            object.__setattr__(self, "diffaugment", tuple(_split(self.diffaugment)))
        for error in self._errors():
            raise ValueError(error)

    def _errors(self):
        choices = {
            "arch": ARCHS,
            "loss": loss_names(),
            "optimizer": OPTIMIZERS,
            "noise_shape": NOISE_SHAPES,
            "latent_dist": LATENT_DISTS,
            "output": OUTPUTS,
            "labels": LABEL_CONVENTIONS,
            "sampling": SAMPLINGS,
            "update_order": UPDATE_ORDERS,
        }
        if self.size not in SIZES:
            yield f"size must be one of {SIZES}, not {self.size}"
        if self.channels not in CHANNELS:
            yield f"channels must be one of {CHANNELS}, not {self.channels}"
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                yield f"{flag(name)} must be one of {', '.join(allowed)}, not {getattr(self, name)!r}"
        if self.latent_dim < 1 or self.batch_size < 1:
            yield "latent_dim and batch_size must be positive"
        if unknown := [a for a in self.diffaugment if a not in AUGMENTS]:
            yield f"--diffaugment: unknown policy {unknown[0]!r}; use a comma list of {', '.join(AUGMENTS)}"
        if self.arch == "dcgan64" and self.size not in DCGAN64_SIZES:
            yield f"--arch dcgan64 is the 64 px (or 32 px) jhayes14 DCGAN; use --size 64 or 32, not {self.size}"
        if self.arch == "dcgan64" and self.d_batchnorm:
            yield "--arch dcgan64 has no BatchNorm in D by design; use --arch dcgan for --d-batchnorm"
        if self.arch == "convdense" and self.noise_shape != "image":
            yield "--arch convdense convolves image-shaped noise; use --noise-shape image"
        labelled = labelled_losses()
        if self.loss not in labelled and (self.label_smoothing != 1.0 or self.label_noise or self.flip_labels):
            yield (
                f"--label-smoothing, --label-noise and --flip-labels change D's targets, which --loss {self.loss} "
                f"does not have; use them with --loss {' or '.join(labelled)}"
            )
        if self.loss in loss_names() and loss_named(self.loss).penalty and self.d_batchnorm:
            yield (
                f"--loss {self.loss} penalises each sample's gradient, which BatchNorm in D mixes; drop --d-batchnorm"
            )
        if self.labels != "real1" and self.loss not in labelled:
            choices = " or ".join(labelled)
            yield f"--labels {self.labels} changes D's targets, which --loss {self.loss} lacks; use {choices}"
        if self.arch == "celeb32" and self.size != 32:
            yield f"--arch celeb32 is the 32 px celebrity DCGAN (8x8 upsampled twice); use --size 32, not {self.size}"
        if self.clipvalue is not None and self.clipvalue <= 0:
            yield "--clipvalue must be positive (leave it out for no clipping)"
        if not 0 < self.epsilon < 1:
            yield f"--epsilon must be above 0 and below 1, not {self.epsilon}"
        if self.lr_decay_g < 0 or self.lr_decay_d < 0:
            yield "--lr-decay-g and --lr-decay-d must be 0 or positive"
        if self.label_noise and self.label_noise >= self.label_smoothing:
            yield "--label-noise must stay below the real label (--label-smoothing), or real and fake targets meet"

    @property
    def latent_shape(self) -> tuple[int, ...]:
        """The shape of one generator input: a vector, or an image-shaped noise tensor."""
        if self.noise_shape == "image":
            return (self.size, self.size, self.channels)
        return (self.latent_dim,)

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["diffaugment"] = list(self.diffaugment)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "GanConfig":
        """A config recorded by any ganflow version: unknown keys are dropped, a single `lr` is split."""
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "lr" in data:
            values.setdefault("lr_g", data["lr"])
            values.setdefault("lr_d", data["lr"])
        return cls(**values)

    def identity(self) -> dict:
        """Every field, less the later ones at their defaults: a config written before them names the same run."""
        defaults = {f.name: f.default for f in dataclasses.fields(self)}
        return {k: v for k, v in self.to_dict().items() if k not in LATER_FIELDS or v != defaults[k]}

    def fingerprint(self) -> str:
        """A short stable hash of every field: equal fingerprints follow the same trajectory."""
        return _digest(self.identity())

    def architecture(self) -> dict:
        """The fields that shape the weights: a checkpoint only loads into a config that matches them."""
        return {k: v for k, v in self.to_dict().items() if k in ARCHITECTURE_FIELDS}


# Fields added after run folders were first named from the config (issue 15): left out of `identity` at
# their defaults, so an older run's folder name and fingerprint stay the same.
LATER_FIELDS = (
    "output",
    "labels",
    "clipvalue",
    "lr_decay_g",
    "lr_decay_d",
    "sampling",
    "epsilon",
    "update_order",
    "reuse_noise",
)

# What the checkpoint's variables depend on. Everything else (dropout, alpha, momentum, learning rates,
# loss, tricks, EMA on or off) can change between a run and its resume.
ARCHITECTURE_FIELDS = (
    "size",
    "channels",
    "arch",
    "latent_dim",
    "noise_shape",
    "g_filters",
    "d_filters",
    "d_batchnorm",
    "width",
    "hidden_units",
    "optimizer",
)



def _split(policies: str | list) -> list[str]:
    items = policies.split(",") if isinstance(policies, str) else policies
    return [p.strip() for p in items if p.strip()]


def _digest(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
