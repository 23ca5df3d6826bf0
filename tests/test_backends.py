"""Two Keras backends (issue 24): `--backend tensorflow|jax`, its record in the run folder, JAX's .npz
checkpoints, exact resume on JAX, and the one-line refusals (JAX missing, a run folder of the other backend).

The JAX runs are `ganflow` subprocesses: Keras picks its backend once per process, and this one (pytest's)
runs on TensorFlow.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from mid_epoch_kill import kill_mid_epoch

from tasks.errors import UserError
from tasks.run_folder import RunFolder
from tasks.train.checkpoints import ArrayCheckpoints, check_backend, read_arrays, restore_newest

ROOT = Path(__file__).resolve().parents[1]
STEPS_PER_EPOCH = 4  # 16 images, batch 4


def _env(prefect_server: str | None = None, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}  # the default backend unless `extra` names one
    env.update(PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]), **extra)
    if prefect_server:
        env["PREFECT_API_URL"] = prefect_server
    return env


def _ganflow(*args: str, env: dict, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def _run_args(faces: Path, run_dir: Path, data_dir: Path, backend: str, epochs: int = 3, *extra: str) -> list[str]:
    return [
        "run", "--backend", backend, "--source", str(faces), "--size", "28", "--channels", "1",
        "--epochs", str(epochs), "--batch-size", "4", "--latent-dim", "16", "--g-filters", "8", "--d-filters", "8",
        "--checkpoint-every", "1", "--eval-every", "0", "--run-dir", str(run_dir), "--data-dir", str(data_dir),
        *extra,
    ]  # fmt: skip


def _weights(path: Path) -> list[np.ndarray]:
    """A saved generator's weights, read in a process of its own (generator.keras is backend-neutral)."""
    code = (
        "import sys, numpy as np\nfrom ganmodels.keras_import import keras\n"
        "np.savez(sys.argv[2], *keras.models.load_model(sys.argv[1], compile=False).get_weights())"
    )
    out = path.parent / f"{path.stem}-weights.npz"
    subprocess.run([sys.executable, "-c", code, str(path), str(out)], check=True, env=_env(), timeout=300)
    with np.load(out) as saved:
        return [saved[f"arr_{i}"] for i in range(len(saved.files))]


def _one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr[-3000:]
    return errors[0]


def _newest_npz(folder: Path) -> int | None:
    steps = [int(m.group(1)) for p in folder.glob("ckpt-*.npz") if (m := re.fullmatch(r"ckpt-(\d+)\.npz", p.name))]
    return max(steps, default=None)


# Without a server or training -------------------------------------------------------------------------------


def test_a_run_folder_of_one_backend_is_refused_by_the_other_in_one_line(tmp_path):
    run = RunFolder(tmp_path / "run")
    run.write_config({}, {}, {}, "f", backend="tensorflow")
    check_backend(run, "tensorflow")
    with pytest.raises(UserError) as refused:
        check_backend(run, "jax")
    line = str(refused.value)
    assert "\n" not in line
    assert f"--run-dir {run.root} was trained on tensorflow" in line
    assert "--backend tensorflow" in line and "--restart" in line
    run.write_config({}, {}, {}, "f", backend="jax")
    with pytest.raises(UserError, match="was trained on jax; continue it with --backend jax"):
        check_backend(run, "tensorflow")


def test_a_folder_from_before_the_record_is_tensorflow(tmp_path):
    run = RunFolder(tmp_path / "run")
    assert run.recorded_backend() is None  # never trained: either backend may start it
    (run.checkpoints).mkdir(parents=True)
    run.config_record.write_text('{"fingerprint": "f", "config": {}, "runtime": {}, "data": {}}')
    assert run.recorded_backend() == "tensorflow"


def test_npz_checkpoints_keep_the_newest_and_fall_back_past_a_damaged_one(tmp_path):
    folder = tmp_path / "checkpoints"
    files = ArrayCheckpoints(folder, keep=3)
    folder.mkdir()
    (folder / ".ckpt-9.abc123.tmp.npz").write_bytes(b"PK")  # what kill -9 during a save leaves behind
    for step in (1, 2, 3, 4, 10):
        files.save({"counters/step": np.array(step), "w": np.full((3,), step, np.float32)}, step)
    assert sorted(p.name for p in folder.iterdir()) == ["ckpt-10.npz", "ckpt-3.npz", "ckpt-4.npz"]  # no temp files
    (folder / "ckpt-10.npz").write_bytes((folder / "ckpt-10.npz").read_bytes()[:100])  # cut short, as by a crash
    loaded = {}

    def restore(path: str) -> None:
        loaded.update(read_arrays(path))

    assert restore_newest(folder, restore, "training", forget=True) == str(folder / "ckpt-4.npz")
    assert int(loaded["counters/step"]) == 4
    assert not (folder / "ckpt-10.npz").exists()  # training forgets what does not restore
    for path in folder.glob("*.npz"):
        path.write_bytes(b"not a zip file")
    with pytest.raises(UserError, match=r"none of the 2 checkpoints in .* restores; pass --restart"):
        restore_newest(folder, restore, "training")


def test_the_flow_module_imports_no_keras():
    """A worker imports the flow before it knows its parameters: the `backend` one must still decide."""
    code = "import sys, flows.ganflow, flows.cli; print('keras' in sys.modules, 'tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False", "False"]


def test_a_flow_run_asking_for_another_backend_than_its_process_loaded_is_one_line():
    """pytest's process runs Keras on TensorFlow (this module imported it): the flow cannot switch it."""
    from flows.ganflow import _chosen_backend

    assert _chosen_backend("tensorflow") == "tensorflow"
    with pytest.raises(UserError) as refused:
        _chosen_backend("jax")
    assert "\n" not in str(refused.value)
    assert str(refused.value).startswith("Keras was already imported on the tensorflow backend, not jax")


def test_without_jax_backend_jax_is_one_line_saying_how_to_install_it(tmp_path):
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text("import sys\nsys.modules['jax'] = None  # `import jax` fails\n")
    env = _env(PREFECT_API_URL="http://127.0.0.1:9/api")
    env["PYTHONPATH"] = os.pathsep.join([str(shim), env["PYTHONPATH"]])
    result = _ganflow("run", "--backend", "jax", "--run-dir", str(tmp_path / "run"), env=env, timeout=120)
    assert _one_error_line(result) == "Error: --backend jax needs JAX: pip install -e '.[jax]'"
    assert not (tmp_path / "run").exists()  # refused before anything started
    env["KERAS_BACKEND"] = "jax"
    (tmp_path / "g.keras").write_bytes(b"")  # never read: the backend is refused first
    result = _ganflow("generate", "--model", str(tmp_path / "g.keras"), env=env, timeout=120)
    assert _one_error_line(result) == "Error: --backend jax needs JAX: pip install -e '.[jax]'"


@pytest.mark.slow
def test_a_tensorflow_generator_file_generates_on_jax(tmp_path):
    """TensorFlow saves BatchNormalization synchronized across replicas, which Keras refuses on JAX: still read."""
    from ganmodels.config import GanConfig
    from ganmodels.networks import build_generator

    model = tmp_path / "generator.keras"
    build_generator(GanConfig(size=28, channels=1, g_filters=8, latent_dim=8)).save(model)
    env = _env(KERAS_BACKEND="jax")
    made = _ganflow("generate", "--model", str(model), "--num", "2", "--out", str(tmp_path / "o"), env=env)
    assert made.returncode == 0, made.stderr[-3000:]
    assert len(list((tmp_path / "o").glob("*.png"))) == 2


# Training on JAX -------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_jax_trains_resumes_bit_identical_after_kill_9_and_serves_generate_and_evaluate(
    prefect_server, make_faces, tmp_path
):
    faces, data_dir, env = make_faces(16), tmp_path / "data", _env(prefect_server)
    clean = _ganflow(*_run_args(faces, tmp_path / "clean", data_dir, "jax"), env=env)
    assert clean.returncode == 0, clean.stderr[-3000:]
    run = RunFolder(tmp_path / "clean")
    assert run.recorded_backend() == "jax"
    assert run.read_summary()["params"]["backend"] == "jax"
    assert _newest_npz(run.checkpoints) == 3 * STEPS_PER_EPOCH and not (run.checkpoints / "checkpoint").exists()
    assert len(list(run.checkpoints.glob("ckpt-*.npz"))) == 3  # --keep-checkpoints 3

    killed = tmp_path / "killed"
    command = [sys.executable, "-m", "flows.cli", *_run_args(faces, killed, data_dir, "jax")]
    kill_mid_epoch(command, env, lambda: _newest_npz(killed / "checkpoints"), STEPS_PER_EPOCH, 400)
    rerun = _ganflow(*_run_args(faces, killed, data_dir, "jax"), env=env)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    resumed = re.search(r"resuming at step (\d+): epoch (\d+), batch (\d+)", rerun.stdout + rerun.stderr)
    assert resumed and int(resumed.group(3)) > 0, "the rerun did not resume mid-epoch"
    for a, b in zip(_weights(run.generator), _weights(killed / "generator.keras"), strict=True):
        np.testing.assert_array_equal(a, b)

    # The other backend refuses to continue it, in one line; generate and evaluate read it on either.
    other = _ganflow(*_run_args(faces, killed, data_dir, "tensorflow", 4), env=env)
    assert _one_error_line(other).endswith(
        f"--run-dir {killed} was trained on jax; continue it with --backend jax, or pass --restart to train it "
        "from scratch on tensorflow, or choose another --run-dir"
    )
    for backend in ("tensorflow", "jax"):
        out = tmp_path / f"gen-{backend}"
        gen_env = {**env, "KERAS_BACKEND": backend}
        made = _ganflow("generate", "--run-dir", str(killed), "--checkpoint", "latest", "--num", "2",
                        "--out", str(out), env=gen_env)  # fmt: skip
        assert made.returncode == 0, made.stderr[-3000:]
        assert len(list(out.glob("*.png"))) == 2
    scored = _ganflow("evaluate", "--run-dir", str(killed), "--checkpoint", "latest", "--num", "8", env=env)
    assert scored.returncode == 0, scored.stderr[-3000:]
    assert RunFolder(killed).evaluation().exists()


def _newest_checkpoint(folder: Path, backend: str) -> int | None:
    if backend == "jax":
        return _newest_npz(folder)
    state = folder / "checkpoint"
    found = re.search(r'^model_checkpoint_path: "ckpt-(\d+)"', state.read_text(), re.M) if state.exists() else None
    return int(found.group(1)) if found else None


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_a_damaged_newest_checkpoint_falls_back_and_the_other_backend_is_refused(
    backend, prefect_server, make_faces, tmp_path
):
    faces, data_dir, env = make_faces(16), tmp_path / "data", _env(prefect_server)
    run_dir = tmp_path / "run"
    first = _ganflow(*_run_args(faces, run_dir, data_dir, backend, 1), env=env)
    assert first.returncode == 0, first.stderr[-3000:]
    assert RunFolder(run_dir).recorded_backend() == backend
    name = f"ckpt-{STEPS_PER_EPOCH}"
    newest = run_dir / "checkpoints" / (f"{name}.npz" if backend == "jax" else f"{name}.data-00000-of-00001")
    newest.write_bytes(newest.read_bytes()[: newest.stat().st_size // 2])
    again = _ganflow(*_run_args(faces, run_dir, data_dir, backend, 2), env=env)
    assert again.returncode == 0, again.stderr[-3000:]
    text = again.stdout + again.stderr
    assert re.search(rf"checkpoint \S*{name}(\.npz)? does not restore \(\w+", text), text[-3000:]
    assert f"resuming at step {STEPS_PER_EPOCH - 1}: epoch 1, batch {STEPS_PER_EPOCH - 1}" in text
    assert _newest_checkpoint(run_dir / "checkpoints", backend) == 2 * STEPS_PER_EPOCH

    other = "tensorflow" if backend == "jax" else "jax"
    refused = _ganflow(*_run_args(faces, run_dir, data_dir, other, 3), env=env)
    assert _one_error_line(refused).endswith(
        f"--run-dir {run_dir} was trained on {backend}; continue it with --backend {backend}, or pass --restart "
        f"to train it from scratch on {other}, or choose another --run-dir"
    )
    assert _newest_checkpoint(run_dir / "checkpoints", backend) == 2 * STEPS_PER_EPOCH  # nothing was touched


@pytest.mark.slow
def test_jax_on_two_devices_trains_and_resumes_exactly(prefect_server, make_faces, tmp_path):
    faces, data_dir = make_faces(16), tmp_path / "data"
    env = _env(prefect_server, XLA_FLAGS="--xla_force_host_platform_device_count=2")
    clean = _ganflow(*_run_args(faces, tmp_path / "clean", data_dir, "jax", 2, "--devices", "2"), env=env)
    assert clean.returncode == 0, clean.stderr[-3000:]
    assert RunFolder(tmp_path / "clean").read_config()["runtime"]["replicas"] == 2
    parts = tmp_path / "parts"
    for epochs in (1, 2):
        part = _ganflow(*_run_args(faces, parts, data_dir, "jax", epochs, "--devices", "2"), env=env)
        assert part.returncode == 0, part.stderr[-3000:]
    assert "resuming at step 4" in part.stdout + part.stderr
    for a, b in zip(_weights(tmp_path / "clean" / "generator.keras"), _weights(parts / "generator.keras"), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_a_deployment_s_flow_run_trains_on_the_backend_its_parameter_names(prefect_server, make_faces, tmp_path):
    """As a worker does: import the flow module first, then run it with `backend` among its parameters."""
    faces, run_dir = make_faces(16), tmp_path / "run"
    code = (
        "import sys\nfrom flows.ganflow import ganflow\nassert 'keras' not in sys.modules\n"
        "ganflow(source=sys.argv[1], size=28, channels=1, epochs=1, batch_size=4, run_dir=sys.argv[2], "
        "data_dir=sys.argv[3], options={'backend': 'jax', 'latent_dim': 16, 'eval_every': 0})\n"
        "import keras; print('backend', keras.backend.backend())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(faces), str(run_dir), str(tmp_path / "data")],
        capture_output=True,
        text=True,
        env=_env(prefect_server),
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "backend jax" in out.stdout
    assert RunFolder(run_dir).recorded_backend() == "jax"
    assert list((run_dir / "checkpoints").glob("ckpt-*.npz"))
