"""Run a Python snippet in a fresh process on a given Keras backend and return what it printed as JSON.

Keras fixes its backend once per process, and the pytest process has Keras on TensorFlow, so JAX code is
tested in a child. The snippet prints one JSON value as its last line of stdout; anything else it prints
before that is ignored. `devices` asks XLA for that many host (CPU) devices, for data-parallel tests.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_on_backend(backend: str, code: str, devices: int = 1, timeout: int = 600):
    """Run `code` with KERAS_BACKEND=`backend` in a child process; its last stdout line parsed as JSON."""
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    if devices > 1:
        env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={devices}".strip()
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env, timeout=timeout
    )
    if out.returncode != 0:
        raise AssertionError(f"{backend} child failed ({out.returncode}):\n{out.stderr[-4000:]}")
    lines = [line for line in out.stdout.splitlines() if line.strip()]
    return json.loads(lines[-1])
