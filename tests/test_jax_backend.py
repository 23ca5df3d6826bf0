"""The JAX backend: choosing it, training every step option on it, exact resume from `to_arrays`, and a
data-parallel run over 2 CPU devices. JAX code runs in child processes (tests/backend_process.py)."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest
from backend_process import ROOT, run_on_backend

from ganmodels.backend import BACKENDS, BackendError, choose_backend, current_backend, requested_backend

needs_jax = pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="JAX is not installed")

# A tiny model and batch; `train(cfg_kwargs, steps)` trains and reports what the tests check.
TRAIN = """
import json, sys
import numpy as np
from ganmodels.config import GanConfig
from ganmodels.runtime import resolve_runtime
from ganmodels.state import TrainingState

def batches(n, size=28, channels=1, batch=4):
    rng = np.random.default_rng(5)
    return [rng.integers(0, 256, (batch, size, size, channels), dtype=np.uint8) for _ in range(n)]

def config(**kw):
    base = dict(size=28, channels=1, g_filters=8, d_filters=8, latent_dim=8, batch_size=4, seed=3)
    return GanConfig(**{**base, **kw})

def build(cfg, devices=1):
    return TrainingState.build(cfg, resolve_runtime("fp32", devices=devices))

def run(state, data):
    return [state.train_batch(b) for b in data]
"""


def test_choose_backend_defaults_and_refusals(monkeypatch):
    from ganmodels.tf import keras  # noqa: F401  (this process runs Keras on TensorFlow)

    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    assert requested_backend(None) == "tensorflow"
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    assert requested_backend(None) == "tensorflow"  # a backend ganflow does not run on is not honoured
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    assert requested_backend(None) == "jax"
    assert BACKENDS == ("tensorflow", "jax")
    assert current_backend() == "tensorflow"  # the loaded Keras's, whatever the variable says now
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    assert current_backend() == "tensorflow"
    with pytest.raises(BackendError, match="already imported on the tensorflow backend") as err:
        choose_backend("jax")
    assert "\n" not in str(err.value) and isinstance(err.value, ValueError)
    with pytest.raises(BackendError, match="unknown backend"):
        choose_backend("mxnet")
    assert choose_backend("tensorflow") == "tensorflow" and os.environ["KERAS_BACKEND"] == "tensorflow"


def test_backend_module_imports_no_framework_and_names_the_jax_install():
    code = (
        "import sys, importlib.util\n"
        "real = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda name, *a: None if name == 'jax' else real(name, *a)\n"
        "from ganmodels.backend import choose_backend, BackendError\n"
        "loaded = [m for m in ('keras', 'tensorflow', 'jax') if m in sys.modules]\n"
        "try:\n    choose_backend('jax')\nexcept BackendError as exc:\n    print(loaded, exc)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.stdout.strip() == "[] --backend jax needs JAX: pip install -e '.[jax]'", out.stderr


@pytest.mark.slow
@needs_jax
def test_every_step_option_trains_on_jax_without_tensorflow():
    """Losses, update orders, n_critic, D pre-training, the balance rule, EMA, label tricks and DiffAugment."""
    result = run_on_backend(
        "jax",
        TRAIN
        + """
variants = {
    "bce": {},
    "wgan-gp": dict(loss="wgan-gp", n_critic=2),
    "hinge+diffaugment": dict(loss="hinge", diffaugment=("color", "translation", "cutout")),
    "lsgan+labels": dict(loss="lsgan", label_smoothing=0.9, label_noise=0.1, flip_labels=0.1, labels="real0"),
    "d-then-g": dict(update_order="d-then-g"),
    "g-then-d+reuse": dict(update_order="g-then-d", reuse_noise=True),
    "pretrain+balance+ema": dict(d_pretrain_steps=1, balance_margin=0.0, balance_max_steps=2, ema=0.9),
    "celeb32-sigmoid": dict(arch="celeb32", size=32, channels=3, output="sigmoid"),
}
out = {}
for name, kw in variants.items():
    cfg = config(**kw)
    state = build(cfg)
    before = [w.copy() for k, w in state.to_arrays().items() if k.startswith(("generator/", "discriminator/"))]
    shape = (cfg.size, cfg.channels)
    logs = run(state, batches(2, *shape))
    after = [w for k, w in state.to_arrays().items() if k.startswith(("generator/", "discriminator/"))]
    finite = all(np.isfinite(v) for log in logs for k, v in log.items() if k == "g_loss")
    out[name] = dict(finite=bool(finite), changed=sum(not np.array_equal(a, b) for a, b in zip(before, after)),
                     step=state.counters()["step"], extra=state.extra_updates())
from ganmodels.data import epoch_dataset
from ganmodels.metrics.registry import metrics
from ganmodels.pixels import to_uint8
state.models.refresh_sampler()  # the sampler's BatchNorm statistics, measured with numpy
grid = to_uint8(state.models.generate(state.fixed_latents(2)))
fed = [b.shape for b in epoch_dataset(np.zeros((10, 32, 32, 3), np.uint8), 4, 0, 0)]
out["other"] = dict(grid=list(grid.shape), fed=[list(f) for f in fed], metrics=len(metrics()))
out["tensorflow_loaded"] = "tensorflow" in sys.modules
print(json.dumps(out))
""",
    )
    assert result.pop("tensorflow_loaded") is False
    other = result.pop("other")
    assert other["grid"] == [2, 32, 32, 3] and other["fed"] == [[4, 32, 32, 3]] * 2 and other["metrics"] >= 5
    for name, r in result.items():
        assert r["finite"] and r["changed"] > 0 and r["step"] == 2, (name, r)
    assert sum(result["pretrain+balance+ema"]["extra"].values()) > 0


RESUME = """
cfg = config(ema=0.9, diffaugment=("translation",), balance_margin=0.0, balance_max_steps=1)
data = batches(4)
whole = build(cfg, DEVICES)
run(whole, data)
first = build(cfg, DEVICES)
run(first, data[:2])
import io
buffer = io.BytesIO(); np.savez(buffer, **first.to_arrays()); buffer.seek(0)
second = build(cfg, DEVICES)
second.load_arrays(dict(np.load(buffer)))
run(second, data[2:])
a, b = whole.to_arrays(), second.to_arrays()
same = sorted(k for k in a if np.array_equal(a[k], b[k]))
differ = sorted(k for k in a if not np.array_equal(a[k], b[k]))
try:
    second.load_arrays({k: v for k, v in a.items() if k != "discriminator/0000"})
    error = None
except ValueError as exc:
    error = str(exc)
import jax
print(json.dumps(dict(differ=differ, same=len(same), total=len(a), error=error, step=b["counters/step"].tolist(),
                      devices=len(jax.devices()), losses=[l["d_loss"] for l in run(second, data[:1])])))
"""


@pytest.mark.slow
@needs_jax
@pytest.mark.parametrize("devices", [1, 2])
def test_jax_resume_from_arrays_is_bit_exact(devices):
    """2 steps, save to .npz, a fresh state loads it, 2 more: every array equals the 4-step run's. With 2 devices
    the batch is sharded over 2 CPU devices (keras.distribution.DataParallel)."""
    result = run_on_backend("jax", TRAIN + f"DEVICES = {devices}\n" + RESUME, devices=devices)
    assert result["devices"] == devices
    assert result["differ"] == [] and result["same"] == result["total"] > 20
    assert result["step"] == 4
    assert "missing discriminator/0000" in result["error"]
    assert all(abs(x) < 1e6 for x in result["losses"])


@pytest.mark.slow
@needs_jax
def test_the_train_step_bench_measures_both_backends_in_one_run():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, str(ROOT / "bench" / "train_step.py"), "--batch", "8", "--windows", "1"]
    out = subprocess.run(
        [*command, "--steps", "1", "--rounds", "1", "--precision", "fp32"],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert set(summary["backends"]) == {"tensorflow", "jax"}
    for result in summary["backends"].values():
        assert result["per_s"] > 0 and result["gemm_share"] > 0 and result["precision"] == "fp32"
    assert summary["jax_vs_tf"] > 0 and "JAX / TensorFlow:" in out.stdout
