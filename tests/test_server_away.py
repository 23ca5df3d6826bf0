"""The Prefect server that PREFECT_API_URL points at is stopped while a run trains, then started again.

The run carries on (and says when the API is back) or stops with one line; either way the same command
afterwards finishes it with every epoch exactly once. A real `prefect server start`, with its own home.
"""

import sys
import time

import pytest
from prefect_service import PrefectService

from tasks.run_folder import RunFolder

pytestmark = pytest.mark.slow  # a real server, stopped and started, and training runs

EPOCHS = 30


def _start_server(service: PrefectService):
    address = ("--host", "127.0.0.1", "--port", str(service.port))
    proc = service.start("server", sys.executable, "-m", "prefect", "server", "start", *address)
    service.processes[:] = [proc, *(p for p in service.processes if p is not proc)]  # wait_healthy watches [0]
    service.wait_healthy()
    return proc


def test_a_server_stopped_and_started_mid_run_loses_nothing(make_faces, tmp_path):
    service = PrefectService(tmp_path / "home")
    service.home.mkdir()
    faces, run_dir = make_faces(16), tmp_path / "run"
    command = (
        "run", "--source", str(faces), "--size", "28", "--channels", "1", "--epochs", str(EPOCHS),
        "--batch-size", "4", "--latent-dim", "16", "--checkpoint-every", "1",
        "--run-dir", str(run_dir), "--data-dir", str(tmp_path / "data"),
    )  # fmt: skip
    try:
        server = _start_server(service)
        run = service.start("run", sys.executable, "-m", "flows.cli", *command, PYTHONUNBUFFERED="1")
        deadline = time.monotonic() + 300
        while not list((run_dir / "checkpoints").glob("ckpt-*.index")):
            assert run.poll() is None and time.monotonic() < deadline, service.log("run")[-3000:]
            time.sleep(0.2)
        service.stop_process(server)  # the server goes away while the run trains
        time.sleep(20)
        _start_server(service)  # and comes back on the same address, with the same database
        run.wait(timeout=600)
        out = service.log("run")
        assert "Traceback" not in out, out[-3000:]
        if run.returncode == 0:
            assert "API is back" in out, out[-3000:]
        else:
            errors = [line for line in out.splitlines() if line.startswith("Error: ")]
            assert run.returncode == 1 and len(errors) == 1, out[-3000:]

        again = service.ganflow(*command)
        assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
        assert [int(row["epoch"]) for row in RunFolder(run_dir).read_metrics()] == list(range(1, EPOCHS + 1))
    finally:
        service.stop()
