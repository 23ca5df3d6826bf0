"""kill -9 of a worker's flow-run process, then `ganflow retry ID`: the run really runs again.

The worker reports the dead process as Crashed, sometimes after the run has already been seen in a final
state; a retry made in between would be undone by that late report with nothing said, so `ganflow retry`
checks that its retry took.
"""

import json
import os
import signal
import time
from uuid import UUID

import psutil
import pytest
from test_deployments import flow_run_id, tiny, wait_final

pytestmark = pytest.mark.slow  # a real server, worker and training runs


def _flow_run_process(run_id: UUID, timeout: float = 120) -> psutil.Process:
    """The process that runs this flow run (the worker starts it with PREFECT__FLOW_RUN_ID set)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in psutil.process_iter():
            try:
                if proc.environ().get("PREFECT__FLOW_RUN_ID") == str(run_id):
                    return proc
            except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
                continue
        time.sleep(0.5)
    raise TimeoutError(f"no process runs flow run {run_id}")


def _history(service, run_id: UUID) -> list[str]:
    with service.client() as client:
        return [f"{s.timestamp} {s.type.value}: {(s.message or '')[:60]}" for s in client.read_flow_run_states(run_id)]


def test_kill_9_of_a_flow_run_process_then_retry_runs_it_again(prefect_deployments, tmp_path):
    params = tiny(tmp_path, epochs=12)  # long enough to be killed while it trains
    given = [arg for key, value in params.items() for arg in ("--param", f"{key}={json.dumps(value)}")]
    run_id = flow_run_id(prefect_deployments.prefect("deployment", "run", "ganflow/sample-demo", *given).stdout)
    checkpoints = tmp_path / "run" / "checkpoints"
    deadline = time.monotonic() + 300
    while not list(checkpoints.glob("ckpt-*.index")):
        assert time.monotonic() < deadline, prefect_deployments.log("worker")[-3000:]
        time.sleep(0.2)
    victims = [proc := _flow_run_process(run_id), *proc.children(recursive=True)]
    for victim in victims:
        os.kill(victim.pid, signal.SIGKILL)
    assert wait_final(prefect_deployments, run_id, timeout=120).state.is_final()  # what `ganflow runs` shows

    retried = prefect_deployments.ganflow("retry", str(run_id))
    assert retried.returncode == 0, retried.stdout[-3000:] + retried.stderr[-3000:]
    run = wait_final(prefect_deployments, run_id, timeout=400)  # `ganflow retry` returned once it was Running
    assert run.state.is_completed(), "\n".join([*_history(prefect_deployments, run_id), retried.stdout, retried.stderr])
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["training"]["epochs"] == 12
