"""Options that contradict each other or mean nothing for the run they describe, refused before any work.

Two kinds of check. `given_conflicts` looks at what the user gave (a value that differs from what the
recipe or the fallback would give): an option the chosen architecture, loss or optimizer has no use for
would otherwise be silently ignored. Judging only what was given keeps a parameter set that ganflow
resolved and dumped (a deployment's defaults) valid when it is validated again. `resolved_conflicts`
looks at the resolved values: combinations that make no sense whoever set them, non-finite numbers, and
files that must exist before hours of training depend on them.
"""

import math
import re
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

# Options that only some architectures, losses or optimizers read: (option, field, allowed values, for what).
_ONLY_FOR: tuple[tuple[str, str, tuple[Any, ...], str], ...] = (
    ("g_filters", "arch", ("dcgan", "dcgan64", "celeb32"), "the DCGANs"),
    ("d_filters", "arch", ("dcgan", "dcgan64", "celeb32"), "the DCGANs"),
    ("d_batchnorm", "arch", ("dcgan",), "--arch dcgan"),
    ("width", "arch", ("convdense", "gan-mlp"), "--arch convdense or gan-mlp"),
    ("hidden_units", "arch", ("mlp", "numpy-mlp"), "--arch mlp or numpy-mlp"),
    ("gp_weight", "loss", ("wgan-gp",), "--loss wgan-gp"),
    ("beta1", "optimizer", ("adam",), "--optimizer adam"),
    ("beta2", "optimizer", ("adam",), "--optimizer adam"),
    ("reuse_noise", "update_order", ("d-then-g", "g-then-d"), "--update-order d-then-g or g-then-d"),
)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def given_conflicts(
    data: dict[str, Any], resolve_options: Callable[[dict[str, Any]], dict[str, Any]], tunable: Collection[str]
) -> str | None:
    """The first contradiction among the options given in `data` (unresolved), as one line; None if none.

    `resolve_options` and the `tunable` names come from flows/params.py, which imports this module."""
    for name, value in data.items():
        if _not_finite(value):
            return f"{_flag(name)} is {value}; give a finite number"
    resolved = resolve_options(data)

    def given(name: str) -> bool:
        if data.get(name) is None:
            return False
        if name not in tunable:
            return True
        return data[name] != resolve_options({k: v for k, v in data.items() if k != name})[name]

    if given("epochs") and given("more_epochs"):
        return (
            "--epochs and --more-epochs contradict: --epochs N trains up to epoch N, --more-epochs N trains N "
            "epochs past those the run folder holds; give one of them"
        )
    for name, field, allowed, what in _ONLY_FOR:
        if given(name) and resolved.get(field) not in allowed:
            return (
                f"{_flag(name)} applies to {what} only; {_flag(field)} {resolved.get(field)} has no use for it, "
                "so leave it out"
            )
    if given("latent_dim") and resolved.get("noise_shape") == "image":
        return "--latent-dim sets the length of a latent vector, which --noise-shape image does not use; leave it out"
    if given("balance_max_steps") and resolved.get("balance_margin") is None:
        return (
            "--balance-max-steps limits the balance rule, which is off without --balance-margin; give both or neither"
        )
    return None


def resolved_conflicts(values: dict[str, Any]) -> str | None:
    """The first problem with the resolved option values, as one line; None if none."""
    for name, value in values.items():
        if _not_finite(value):
            return f"{_flag(name)} is {value}; give a finite number"
    if values.get("noise_shape") == "image" and values.get("arch") != "convdense":
        return (
            f"--noise-shape image is for --arch convdense, which convolves it; --arch {values.get('arch')} would "
            "flatten it into a plain latent vector: use --noise-shape vector and --latent-dim instead"
        )
    weights = values.get("inception_weights")
    if weights is not None and not Path(weights).expanduser().is_file():
        why = "is a folder" if Path(weights).expanduser().is_dir() else "does not exist"
        return (
            f"--inception-weights: {weights} {why}; give the InceptionV3 'no top' .h5 file, or leave the "
            "option out to use Keras' cache (FID/KID are skipped without it)"
        )
    return None


def _not_finite(value: Any) -> bool:
    """inf or nan, as a float or as the text a deployment's JSON or a CLI user would give."""
    if isinstance(value, str):
        text = value.strip().lower().lstrip("+-")
        return text in ("inf", "infinity", "nan")
    return isinstance(value, float) and not math.isfinite(value)


def check_auth_secret(name: str, source: str | None) -> str:
    """`--http-auth-secret` names a Prefect block (lowercase, digits, dashes) and goes with a URL source."""
    from tasks.acquire.task import parse_source

    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
        raise ValueError(f"{name!r} is not a Prefect block name: use lowercase letters, digits and dashes")
    if source and parse_source(source).kind != "url":
        raise ValueError(f"applies to a URL --source, not to {source!r}; leave it out")
    return name
