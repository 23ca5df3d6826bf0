"""A sweep through a deployment on a real Prefect server, with two process workers on 127.0.0.1 that share it."""

import json
from pathlib import Path

import pytest
from prefect_service import prefect_service

pytestmark = pytest.mark.slow


def test_two_workers_take_the_children_and_the_report_is_complete(tiny_faces, tmp_path):
    (tmp_path / "home").mkdir()
    one_run_each = {name: ("--name", name, "--limit", "1") for name in ("w1", "w2")}  # so both must take one
    with prefect_service(tmp_path / "home", workers=one_run_each) as service:
        sweep_dir = tmp_path / "sweep"
        out = service.ganflow(
            "sweep", "--deployment", "ganflow/sample-demo", "--source", str(tiny_faces), "--size", "28",
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


def _ran(worker_log: str, flow_run_id: str) -> bool:
    """Whether this worker ran the flow run: both workers may try to take a run, and the one the server
    refuses logs its own "Aborted submission" line for it (a race between two pollers, not a double run)."""
    return flow_run_id in worker_log and f"Aborted submission of flow run '{flow_run_id}'" not in worker_log
