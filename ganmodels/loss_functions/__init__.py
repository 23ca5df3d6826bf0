"""The GAN losses by name: D's loss, G's loss, and what each needs (D's targets, the gradient penalty).

Every list of losses comes from here: `--loss`'s choices and help, GanConfig's checks, and the train
step's choice of D's targets and penalty. A loss is one module in this package that calls
`register(Loss(...))` at import; `losses()` imports every module here first, so adding a loss is adding
its file. Nothing here imports TensorFlow at import time (the CLI lists the choices without it): the
modules draw their array ops from ganmodels/loss_ops.py (the backend's, at first use).
ganmodels/losses.py applies them (with D's targets and the penalty).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ganmodels.plugins import Registry


@dataclass(frozen=True)
class Loss:
    name: str  # its --loss value
    order: int  # its place in --loss's choices and help
    d_loss: Callable  # (real_logits, fake_logits, real_labels, fake_labels) -> D's loss; lower: D tells them apart
    g_loss: Callable  # (fake_logits, target) -> G's loss; `target` is D's label for real images
    help: str  # its words in --loss's help
    labelled: bool = False  # D trains towards real/fake targets, which the label tricks change
    penalty: bool = False  # D's loss adds the gradient penalty (--gp-weight), which BatchNorm in D would mix
    n_critic: int = 1  # D updates per G update it is meant to run with: --n-critic's default with this loss


_LOSSES: Registry[Loss] = Registry(__name__, lambda loss: loss.name, lambda loss: loss.order)
register = _LOSSES.register  # --loss offers a loss to a process that registers it before the CLI is built


def losses() -> list[Loss]:
    """Every registered loss by `order`, after importing each module of this package once."""
    return _LOSSES.all()


def loss_names() -> tuple[str, ...]:
    return tuple(loss.name for loss in losses())


def labelled_losses() -> tuple[str, ...]:
    """The losses with real/fake targets, the ones the label tricks (smoothing, noise, flips, real0) change."""
    return tuple(loss.name for loss in losses() if loss.labelled)


def penalty_losses() -> tuple[str, ...]:
    """The losses with the gradient penalty, the ones `--gp-weight` applies to."""
    return tuple(loss.name for loss in losses() if loss.penalty)


def default_n_critic(name: str | None) -> int:
    """`--n-critic`'s default with the loss `name` (1 for a name no loss has: its check reports it)."""
    loss = _LOSSES.get(name or "")
    return loss.n_critic if loss else 1


def n_critic_help() -> str:
    """How `--n-critic`'s default follows the loss, e.g. 'Default: 5 for wgan-gp, else 1.'"""
    special = [f"{loss.n_critic} for {loss.name}" for loss in losses() if loss.n_critic != 1]
    return "Default: " + ", ".join([*special, "else 1"] if special else ["1"]) + "."


def loss_named(name: str) -> Loss:
    if (loss := _LOSSES.get(name)) is None:
        raise ValueError(f"unknown loss {name!r}")
    return loss


def loss_help() -> str:
    """--loss's help: every loss's words, in order."""
    words = [loss.help for loss in losses()]
    return "GAN loss: " + (", ".join(words[:-1]) + ", or " if len(words) > 1 else "") + words[-1] + "."
