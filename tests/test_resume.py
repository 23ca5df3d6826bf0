"""Resume you can trust: SIGKILL mid-epoch, rerun, and end bit-identical to an uninterrupted run."""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from mid_epoch_kill import kill_mid_epoch

from flows.flow_parameters import of_run
from flows.ganflow import ganflow
from tasks.errors import UserError

pytestmark = pytest.mark.slow  # every test here starts servers, clusters, runs or training

STEPS_PER_EPOCH = 4  # 16 images, batch 4


def _run_args(faces: Path, run_dir: Path, data_dir: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "flows.cli",
        "run",
        "--source",
        str(faces),
        "--size",
        "28",
        "--channels",
        "1",
        "--epochs",
        "6",
        "--batch-size",
        "4",
        "--latent-dim",
        "16",
        "--checkpoint-every",
        "1",
        "--run-dir",
        str(run_dir),
        "--data-dir",
        str(data_dir),
    ]


def _env(prefect_server: str) -> dict:
    return {
        **os.environ,
        "PREFECT_API_URL": prefect_server,
        "PYTHONPATH": os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")]),
    }


def _latest_step(ckpt_dir: Path) -> int | None:
    try:
        text = (ckpt_dir / "checkpoint").read_text()
    except OSError:
        return None
    m = re.search(r'^model_checkpoint_path: "ckpt-(\d+)"', text, re.MULTILINE)
    return int(m.group(1)) if m else None


def _generator_weights(path: Path) -> list[np.ndarray]:
    from ganmodels.tf import keras

    return keras.models.load_model(path, compile=False).get_weights()


def test_sigkill_mid_epoch_then_rerun_is_bit_identical(prefect_server, make_faces, tmp_path):
    faces = make_faces(16)
    data_dir, env = tmp_path / "data", _env(prefect_server)

    clean = subprocess.run(
        _run_args(faces, tmp_path / "clean", data_dir), env=env, capture_output=True, text=True, timeout=600
    )
    assert clean.returncode == 0, clean.stderr[-3000:]

    killed_dir = tmp_path / "killed"
    # Killed right after a checkpoint in the middle of epoch 2 or later.
    kill_mid_epoch(
        _run_args(faces, killed_dir, data_dir),
        env,
        lambda: _latest_step(killed_dir / "checkpoints"),
        STEPS_PER_EPOCH,
        300,
    )
    assert not (killed_dir / "generator-last.keras").exists()  # written only when training finishes

    rerun = subprocess.run(_run_args(faces, killed_dir, data_dir), env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    m = re.search(r"resuming at step (\d+): epoch (\d+), batch (\d+)", rerun.stdout + rerun.stderr)
    assert m, "the rerun did not resume from a checkpoint"
    assert int(m.group(3)) > 0, f"resumed at an epoch boundary, not mid-epoch: {m.group(0)}"

    for name in ("generator-last.keras", "generator.keras"):  # the last epoch's, and the best epoch's
        clean_weights = _generator_weights(tmp_path / "clean" / name)
        for a, b in zip(clean_weights, _generator_weights(killed_dir / name), strict=True):
            np.testing.assert_array_equal(a, b)
    assert (tmp_path / "clean" / "metrics.csv").read_text().splitlines()[-1].split(",")[:4] == (
        killed_dir / "metrics.csv"
    ).read_text().splitlines()[-1].split(",")[:4]


def test_another_shape_is_refused_and_restart_starts_over(params):
    ganflow(**of_run(params))
    with pytest.raises(UserError, match=r"another shape \(latent_dim 16 -> 8\).*--restart"):
        ganflow(**of_run(params.model_copy(update={"latent_dim": 8})))
    fresh = ganflow(**of_run(params.model_copy(update={"latent_dim": 8, "restart": True})))
    assert fresh.steps_trained == 4  # all of it, from scratch
    again = ganflow(**of_run(params.model_copy(update={"latent_dim": 8, "restart": True})))
    assert again.states["train"] == "Completed" and again.steps_trained == 4  # --restart is never served from cache


def test_smaller_epochs_reuses_what_exists(params):
    ganflow(**of_run(params.model_copy(update={"epochs": 3})))
    fewer = ganflow(**of_run(params))
    assert fewer.steps_trained == 0


def test_a_half_written_checkpoint_does_not_spoil_the_last_good_one(params):
    ganflow(**of_run(params))
    ckpt = params.run_dir / "checkpoints"
    # What a crash inside a save leaves: temporary and partial files the state file never points at.
    (ckpt / "ckpt-99_temp").mkdir()
    (ckpt / "ckpt-99_temp" / "part-00000-of-00001.data-00000-of-00001").write_bytes(b"\0" * 10)
    (ckpt / "ckpt-99.index").write_bytes(b"garbage")
    (params.run_dir / "generator.keras").unlink()
    resumed = ganflow(**of_run(params.model_copy(update={"epochs": 3})))
    assert resumed.steps_trained == 2 and (params.run_dir / "generator.keras").exists()


def test_mirrored_on_two_cpus_matches_one_device():
    code = textwrap.dedent(
        """
        import numpy as np
        from ganmodels.tf import tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from ganmodels.config import GanConfig
        from ganmodels.data import epoch_dataset
        from ganmodels.runtime import Runtime
        from ganmodels.state import TrainingState

        cfg = GanConfig(
            size=28, channels=1, latent_dim=8, batch_size=8, g_filters=8, d_filters=8, dropout=0.0, ema=0.9,
            diffaugment=("color", "translation", "cutout"), label_noise=0.1, flip_labels=0.2,
        )
        images = np.random.default_rng(0).integers(0, 256, (32, 28, 28, 1), dtype=np.uint8)
        losses = {}
        for replicas in (1, 2):
            state = TrainingState.build(cfg, Runtime("cpu", replicas, "fp32", False, 0, True))
            assert state.models.strategy.num_replicas_in_sync == replicas
            ds = state.models.strategy.experimental_distribute_dataset(epoch_dataset(images, 8, 0, 1))
            losses[replicas] = [list(state.train_batch(b).values()) for b in ds]
            losses[f"w{replicas}"] = state.models.generator.get_weights()[0]
            losses[f"e{replicas}"] = state.models.ema_generator.get_weights()[0]
        np.testing.assert_allclose(losses[1], losses[2], rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(losses["w1"], losses["w2"], rtol=1e-3, atol=1e-5)
        np.testing.assert_allclose(losses["e1"], losses["e2"], rtol=1e-3, atol=1e-5)
        print("ok", losses[1][-1], losses[2][-1])
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.startswith("ok")
