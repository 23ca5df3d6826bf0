"""Contradictory or meaningless options are refused before any work starts, each with one line (issue 13.6)."""

import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from flows.params import RunParams

REFUSED = [
    ({"epochs": 5, "more_epochs": 3}, "--epochs and --more-epochs"),
    ({"gp_weight": 5.0}, "--gp-weight applies to --loss wgan-gp"),
    ({"gp_weight": 5.0, "loss": "hinge"}, "--gp-weight"),
    ({"arch": "mlp", "noise_shape": "image"}, "--noise-shape image is for --arch convdense"),
    ({"arch": "dcgan", "noise_shape": "image"}, "--noise-shape image"),
    ({"lr_g": float("inf")}, "--lr-g is inf"),
    ({"gp_weight": float("nan"), "loss": "wgan-gp"}, "--gp-weight is nan"),
    ({"balance_margin": float("inf")}, "--balance-margin is inf"),
    ({"balance_margin": "Infinity"}, "--balance-margin is Infinity"),
    ({"width": float("nan"), "arch": "convdense"}, "--width is nan"),
    ({"arch": "mlp", "g_filters": 32}, "--g-filters applies to the DCGANs"),
    ({"arch": "dcgan", "hidden_units": 64}, "--hidden-units applies to --arch mlp"),
    ({"arch": "dcgan", "width": 0.5}, "--width applies to --arch convdense"),
    ({"optimizer": "rmsprop", "beta2": 0.9}, "--beta2 applies to --optimizer adam"),
    ({"balance_max_steps": 3}, "--balance-max-steps"),
    ({"arch": "convdense", "latent_dim": 50}, "--latent-dim"),
    ({"recipe": "seed-celeba28", "arch": "mlp"}, "--noise-shape image"),  # the recipe's image noise, now for an MLP
    ({"reuse_noise": True}, "--reuse-noise applies to --update-order d-then-g or g-then-d"),  # joint: one set anyway
]


@pytest.mark.parametrize(("options", "expected"), REFUSED)
def test_contradictions_are_refused_with_one_line(options, expected):
    with pytest.raises(ValidationError) as caught:
        RunParams(**options)
    message = caught.value.errors()[0]["msg"]
    assert expected in message and "\n" not in message


def test_inception_weights_are_checked_at_the_start(tmp_path):
    with pytest.raises(ValidationError, match="--inception-weights: .* does not exist"):
        RunParams(inception_weights=tmp_path / "missing.h5")
    with pytest.raises(ValidationError, match="is a folder"):
        RunParams(inception_weights=tmp_path)
    weights = tmp_path / "inception.h5"
    weights.write_bytes(b"not checked further here")
    assert RunParams(inception_weights=weights).inception_weights == weights


@pytest.mark.parametrize(
    "options",
    [
        {"more_epochs": 3},
        {"gp_weight": 5.0, "loss": "wgan-gp"},
        {"recipe": "seed-celeb32"},  # sets gp_weight and beta2 itself: not the user's doing
        {"recipe": "seed-celeb32", "loss": "bce"},
        {"recipe": "seed-celeba28"},
        {"recipe": "seed-mlp"},
        {"recipe": "seed-jhayes14", "update_order": "joint"},  # the recipe's --reuse-noise is not the user's doing
        {"update_order": "d-then-g", "reuse_noise": True},
        {"arch": "convdense"},
        {"balance_margin": 0.5, "balance_max_steps": 2},
        {"optimizer": "rmsprop"},
        {"epochs": 300, "more_epochs": 2},  # --epochs at its default says nothing
    ],
)
def test_consistent_options_pass_and_survive_a_dump(options):
    """A resolved, dumped parameter set (a deployment's defaults) validates again unchanged."""
    params = RunParams(**options)
    again = RunParams(**params.model_dump(mode="json"))
    assert again == params


def _ganflow(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")])}
    # Old code would start a 300-epoch run here: the timeout makes that a failure, not a wait.
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--epochs", "5", "--more-epochs", "2"], "--epochs and --more-epochs"),
        (["--arch", "mlp", "--noise-shape", "image"], "--noise-shape image"),
        (["--gp-weight", "inf", "--loss", "wgan-gp"], "--gp-weight is inf"),
        (["--inception-weights", "no-such-weights.h5"], "--inception-weights"),
    ],
)
def test_cli_refuses_before_any_work(args, expected, tmp_path):
    out = _ganflow(*args, "--data-dir", str(tmp_path / "data"), "--run-dir", str(tmp_path / "run"))
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and expected in lines[0], out.stderr
    assert not (tmp_path / "data").exists() and not (tmp_path / "run").exists()
