"""A sweep through a deployment on a real Prefect server, with two process workers on 127.0.0.1 that share it.

The server is the session's (`prefect_deployments`); the deployment is prefect.yaml's sample-demo in a work
pool of its own, so only this test's two workers, not the session's, take its runs.
"""

import json
import sys
from pathlib import Path

import pytest
import yaml
from prefect_service import ROOT

pytestmark = pytest.mark.slow

POOL = "ganflow-pair"


def _deploy_to_pool(service, tmp_path: Path, name: str) -> None:
    """prefect.yaml's sample-demo (pull step, parameters) as deployment `name` in `POOL`, by `prefect deploy`."""
    project = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    base = next(d for d in project["deployments"] if d["name"] == "sample-demo")
    project["deployments"] = [{**base, "name": name, "work_pool": {"name": POOL}}]
    path = tmp_path / "prefect.yaml"
    path.write_text(yaml.safe_dump(project))
    service.prefect("work-pool", "create", POOL, "--type", "process")
    service.prefect("--no-prompt", "deploy", "--name", name, "--prefect-file", str(path))


def test_two_workers_take_the_children_and_the_report_is_complete(prefect_deployments, tiny_faces, tmp_path):
    service = prefect_deployments
    _deploy_to_pool(service, tmp_path, "sample-pair")
    worker = (sys.executable, "-m", "prefect", "worker", "start", "--pool", POOL, "--limit", "1")  # one run each
    workers = [service.start(name, *worker, "--name", name) for name in ("w1", "w2")]  # so both must take one
    try:
        sweep_dir = tmp_path / "sweep"
        out = service.ganflow(
            "sweep", "--deployment", "ganflow/sample-pair", "--source", str(tiny_faces), "--size", "28",
            "--channels", "1", "--epochs", "2", "--batch-size", "4", "--latent-dim", "16", "--eval-images", "8",
            "--data-dir", str(tmp_path / "data"), "--sweep-dir", str(sweep_dir), "--grid", "seed=0,1",
            timeout=900,
        )  # fmt: skip
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
        report = json.loads((sweep_dir / "sweep.json").read_text())
        children = report["children"]
        assert [c["state"] for c in children] == ["completed", "completed"]
        assert all(c["swd"] > 0 and c["last_grid"] and Path(c["last_grid"]).exists() for c in children)
        takers = {name: service.log(name) for name in ("w1", "w2")}
        for child in children:  # each child ran on exactly one worker, and not both on the same one
            assert sum(_ran(log, child["flow_run_id"]) for log in takers.values()) == 1, takers
        assert {n for n, log in takers.items() for c in children if _ran(log, c["flow_run_id"])} == {"w1", "w2"}
        with service.client() as client:
            artifacts = client.read_artifacts()
        assert any(a.key and a.key.endswith("-sweep") and "data:image/png;base64," in str(a.data) for a in artifacts)
    finally:
        for proc in workers:
            service.stop_process(proc)
        with service.client() as client:  # the session's other tests see prefect.yaml's deployments only
            client.delete_deployment(client.read_deployment_by_name("ganflow/sample-pair").id)
            client.delete_work_pool(POOL)


def _ran(worker_log: str, flow_run_id: str) -> bool:
    """Whether this worker ran the flow run: both workers may try to take a run, and the one the server
    refuses logs its own "Aborted submission" line for it (a race between two pollers, not a double run)."""
    return flow_run_id in worker_log and f"Aborted submission of flow run '{flow_run_id}'" not in worker_log
