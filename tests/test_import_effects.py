"""Importing or running ganflow changes nothing global that a user set (issue 14, point 5)."""

import importlib
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest

import flows
import ganmodels
import tasks

ROOT = Path(__file__).resolve().parents[1]


def _all_modules():
    for package in (ganmodels, tasks, flows):
        yield package.__name__
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            yield info.name


def test_importing_and_drawing_curves_leave_matplotlib_s_backend_alone(tmp_path):
    before = matplotlib.get_backend()
    matplotlib.use("svg")  # a user's choice, as a notebook would make it
    try:
        for name in _all_modules():
            importlib.import_module(name)
        from tasks.train.curves import write_curves

        rows = [{"epoch": e, "d_loss": 1.0 / e, "g_loss": 0.5 * e, "swd": 3.0 - e} for e in (1, 2)]
        path = write_curves(rows, tmp_path / "curves.png")
        assert path.read_bytes().startswith(b"\x89PNG")
        assert matplotlib.get_backend() == "svg"
    finally:
        matplotlib.use(before)


@pytest.mark.slow
def test_another_keras_backend_in_the_environment_is_one_line_and_the_command_works(tmp_path):
    """`KERAS_BACKEND=torch ganflow generate` runs on TensorFlow and says so once, with no traceback (ganflow
    runs on tensorflow or jax: tests/test_backends.py)."""
    from ganmodels.config import GanConfig
    from ganmodels.networks import build_generator

    model, out_dir = tmp_path / "generator.keras", tmp_path / "o"
    build_generator(GanConfig(size=28, channels=1, g_filters=8, latent_dim=8)).save(model)
    env = {**os.environ, "KERAS_BACKEND": "torch", "PREFECT_API_URL": "http://127.0.0.1:9/api"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    args = ["generate", "--model", str(model), "--num", "2", "--out", str(out_dir)]
    out = subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    notes = [line for line in out.stderr.splitlines() if "KERAS_BACKEND" in line]
    assert notes == ["Note: KERAS_BACKEND=torch ignored: ganflow runs Keras on tensorflow or jax; using tensorflow."]
    assert len(list(out_dir.glob("*.png"))) == 2


def test_keras_imported_on_another_backend_is_one_clear_error():
    """ganmodels cannot switch a Keras already loaded on another backend: it says what to do."""
    code = (
        "import os, sys, types\n"
        "fake = types.ModuleType('keras'); fake.backend = types.SimpleNamespace(backend=lambda: 'jax')\n"
        "sys.modules['keras'] = fake\n"
        "try:\n    import ganmodels.tf\nexcept ImportError as exc:\n    print(exc)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert "already imported on the jax backend" in out.stdout and "KERAS_BACKEND=tensorflow" in out.stdout
