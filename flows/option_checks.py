"""Every rule across options, in one module: options that contradict each other or mean nothing for the
run they describe, refused before any work, each as one line naming the option.

Three kinds of check. `given_conflicts` looks at what the user gave (a value that differs from what the
recipe or the fallback would give): an option the chosen architecture, loss or optimizer has no use for
would otherwise be silently ignored. Judging only what was given keeps a parameter set that ganflow
resolved and dumped (a deployment's defaults) valid when it is validated again. `resolved_conflicts`
looks at the resolved values: combinations that make no sense whoever set them, non-finite numbers, and
files that must exist before hours of training depend on them. `source_conflicts` and `dask_address_conflict`
judge an option against the one it goes with (the parsed `--source`, `--task-runner`). What a single
option must look like is checked at its field (flows/params.py); what shapes the model, by `GanConfig`
itself (ganmodels/config.py), and nowhere else.

A rule that belongs to one option raises `OptionError`, which names it: the CLI and the flow then present
it as they present that option's own errors (`first_problem`).
"""

import math
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ganmodels.flags import flag
from ganmodels.loss_functions import penalty_losses
from ganmodels.metrics.fid import WEIGHTS_USE
from tasks.acquire.kinds import Source, kind_of


class OptionError(ValueError):
    """A problem that belongs to one option (`option`, a field name), found by a rule across options."""

    def __init__(self, option: str, message: str):
        super().__init__(message)
        self.option = option


def first_problem(exc: ValidationError) -> tuple[str | None, str]:
    """The first error of a validation as (the option's field name, or None for a rule across several; one line)."""
    err = exc.errors()[0]
    message = err["msg"].removeprefix("Value error, ")
    error = (err.get("ctx") or {}).get("error")
    if isinstance(error, OptionError):
        return error.option, message
    return (str(err["loc"][0]) if err["loc"] else None), message


# Options that only some architectures, losses or optimizers read: (option, field, allowed values, for what).
_ONLY_FOR: tuple[tuple[str, str, tuple[Any, ...], str], ...] = (
    ("g_filters", "arch", ("dcgan", "dcgan64", "celeb32"), "the DCGANs"),
    ("d_filters", "arch", ("dcgan", "dcgan64", "celeb32"), "the DCGANs"),
    ("d_batchnorm", "arch", ("dcgan",), "--arch dcgan"),
    ("width", "arch", ("convdense", "gan-mlp"), "--arch convdense or gan-mlp"),
    ("hidden_units", "arch", ("mlp", "numpy-mlp"), "--arch mlp or numpy-mlp"),
    ("beta1", "optimizer", ("adam",), "--optimizer adam"),
    ("beta2", "optimizer", ("adam",), "--optimizer adam"),
    ("reuse_noise", "update_order", ("d-then-g", "g-then-d"), "--update-order d-then-g or g-then-d"),
)


def _only_for() -> tuple[tuple[str, str, tuple[Any, ...], str], ...]:
    """`_ONLY_FOR` and the rules the loss registry says (a loss registered later counts too)."""
    penalised = penalty_losses()
    return (*_ONLY_FOR, ("gp_weight", "loss", penalised, "--loss " + " or ".join(penalised)))


def given_conflicts(
    data: dict[str, Any], resolve_options: Callable[[dict[str, Any]], dict[str, Any]], tunable: Collection[str]
) -> str | None:
    """The first contradiction among the options given in `data` (unresolved), as one line; None if none.

    `resolve_options` and the `tunable` names come from flows/params.py, which imports this module."""
    for name, value in data.items():
        if _not_finite(value):
            return f"{flag(name)} is {value}; give a finite number"
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
    for name, field, allowed, what in _only_for():
        if given(name) and resolved.get(field) not in allowed:
            return (
                f"{flag(name)} applies to {what} only; {flag(field)} {resolved.get(field)} has no use for it, "
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
            return f"{flag(name)} is {value}; give a finite number"
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
            f"option out to use Keras' cache ({WEIGHTS_USE})"
        )
    return None


def _not_finite(value: Any) -> bool:
    """inf or nan, as a float or as the text a deployment's JSON or a CLI user would give."""
    if isinstance(value, str):
        text = value.strip().lower().lstrip("+-")
        return text in ("inf", "infinity", "nan")
    return isinstance(value, float) and not math.isfinite(value)


def source_conflicts(source: Source, text: str, sha256: str | None, auth_secret: str | None) -> None:
    """`--sha256` and `--http-auth-secret` go with the kinds of `--source` (its `text`) that read them."""
    kind = kind_of(source.kind)
    if sha256 and not kind.sha256:
        raise OptionError("sha256", f"applies to a URL or archive source, not to {text!r}; leave it out")
    if auth_secret and not kind.auth:
        raise OptionError("http_auth_secret", f"applies to a URL --source, not to {text!r}; leave it out")


def dask_address_conflict(address: str | None, task_runner: str | None) -> str | None:
    """`--dask-address` goes with `--task-runner dask`: what is wrong, or None."""
    if address and task_runner != "dask":
        return "applies with --task-runner dask only; add it or leave the address out"
    return None
