"""JAX across several processes (issue 24 point 4): two `ganflow run --backend jax` processes on 127.0.0.1,
joined by JAX_COORDINATOR_ADDRESS / JAX_NUM_PROCESSES / JAX_PROCESS_ID, train one data-parallel run over
both processes' devices; each writes its own run folder, and both hold the same state.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from test_backends import STEPS_PER_EPOCH, _env, _ganflow, _one_error_line, _run_args, _weights

from tasks.run_folder import RunFolder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pair(faces: Path, root: Path, env: dict, epochs: int = 2) -> list[subprocess.CompletedProcess]:
    """Both processes of one run, started together (each waits for the other at the coordinator)."""
    port = _free_port()
    started = []
    for index in range(2):
        args = _run_args(faces, root / f"run{index}", root / f"data{index}", "jax", epochs)
        process_env = {
            **env,
            "JAX_COORDINATOR_ADDRESS": f"127.0.0.1:{port}",
            "JAX_NUM_PROCESSES": "2",
            "JAX_PROCESS_ID": str(index),
        }
        command = [sys.executable, "-m", "flows.cli", *args]
        started.append(subprocess.Popen(command, env=process_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True))  # fmt: skip
    results = []
    for process in started:
        out, err = process.communicate(timeout=900)
        results.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return results


@pytest.mark.slow
def test_two_processes_train_one_run_over_both_and_write_identical_generators(prefect_server, make_faces, tmp_path):
    faces = make_faces(16)
    results = _pair(faces, tmp_path, _env(prefect_server))
    for result in results:
        assert result.returncode == 0, result.stderr[-4000:]
    runs = [RunFolder(tmp_path / f"run{i}") for i in range(2)]
    for run in runs:
        assert run.read_config()["runtime"]["replicas"] == 2  # one device per process, both in the mesh
        assert run.recorded_backend() == "jax"
    first, second = (_weights(run.generator) for run in runs)
    assert len(first) == len(second) > 0
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert (tmp_path / "run0" / "generator.keras").read_bytes() != b""


def test_a_missing_or_wrong_process_variable_is_one_line(tmp_path):
    env = _env(PREFECT_API_URL="http://127.0.0.1:9/api", JAX_COORDINATOR_ADDRESS="127.0.0.1:1", JAX_NUM_PROCESSES="2")
    result = _ganflow("run", "--backend", "jax", "--run-dir", str(tmp_path / "run"), env=env, timeout=120)
    assert _one_error_line(result).endswith("JAX_PROCESS_ID not set")
    env["JAX_PROCESS_ID"] = "2"
    result = _ganflow("run", "--backend", "jax", "--run-dir", str(tmp_path / "run"), env=env, timeout=120)
    assert _one_error_line(result).endswith("the id must be 0..1")


def _newest_npz(folder: Path) -> int | None:
    steps = [int(p.stem.split("-")[1]) for p in folder.glob("ckpt-*.npz")]
    return max(steps, default=None)


@pytest.mark.slow
def test_both_killed_mid_epoch_resume_bit_identical_to_an_uninterrupted_pair(prefect_server, make_faces, tmp_path):
    """kill -9 both processes just after a mid-epoch checkpoint (one may hold a checkpoint the other lacks),
    start both again: they agree on a step and finish as the pair that was never stopped."""
    faces, env = make_faces(16), _env(prefect_server)
    for result in _pair(faces, tmp_path / "clean", env, epochs=3):
        assert result.returncode == 0, result.stderr[-4000:]
    killed = tmp_path / "killed"
    port = _free_port()
    started = []
    for index in range(2):
        args = _run_args(faces, killed / f"run{index}", killed / f"data{index}", "jax", 3)
        process_env = {**env, "JAX_COORDINATOR_ADDRESS": f"127.0.0.1:{port}", "JAX_NUM_PROCESSES": "2",
                       "JAX_PROCESS_ID": str(index)}  # fmt: skip
        started.append(
            subprocess.Popen(
                [sys.executable, "-m", "flows.cli", *args],
                env=process_env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
    deadline = time.monotonic() + 600
    try:
        while time.monotonic() < deadline and all(p.poll() is None for p in started):
            step = _newest_npz(killed / "run0" / "checkpoints")
            if step and step > STEPS_PER_EPOCH and step % STEPS_PER_EPOCH in (1, 2):
                break
            time.sleep(0.002)
    finally:
        for process in started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert all(p.returncode == -signal.SIGKILL for p in started), "the runs finished before they could be killed"
    for result in _pair(faces, killed, env, epochs=3):
        assert result.returncode == 0, result.stderr[-4000:]
        assert "resuming at step" in result.stdout + result.stderr
    for index in range(2):
        clean = _weights(tmp_path / "clean" / f"run{index}" / "generator.keras")
        resumed = _weights(killed / f"run{index}" / "generator.keras")
        for a, b in zip(clean, resumed, strict=True):
            np.testing.assert_array_equal(a, b)
