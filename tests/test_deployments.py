"""prefect.yaml's deployments on a real server and process worker, used the way the README says."""

import json
import re
import shutil
import sys
import time
from pathlib import Path
from uuid import UUID

import pytest
from prefect_service import ROOT

pytestmark = pytest.mark.slow  # every test here starts servers, clusters, runs or training

STEPS = ("acquire", "preprocess", "train", "render", "evaluate")
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def tiny(tmp_path: Path, **overrides) -> dict:
    """The sample at 28 px gray, a small model, in this test's own folders: a run takes seconds."""
    return {
        "source": "sample",
        "size": 28,
        "channels": 1,
        "epochs": 1,
        "batch_size": 16,
        "latent_dim": 8,
        "run_dir": str(tmp_path / "run"),
        "data_dir": str(tmp_path / "data"),
        **overrides,
    }


def flow_run_id(output: str) -> UUID:
    """The id `prefect deployment run` prints."""
    m = re.search(r"UUID:\s*(" + UUID_RE.pattern + ")", output)
    assert m, output[-3000:]
    return UUID(m.group(1))


def task_runs(service, run_id: UUID) -> list:
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with service.client() as client:
        return client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))


def wait_final(service, run_id: UUID, timeout: float = 300):
    deadline = time.monotonic() + timeout
    with service.client() as client:
        while time.monotonic() < deadline:
            run = client.read_flow_run(run_id)
            if run.state and run.state.is_final():
                return run
            time.sleep(1)
    raise TimeoutError(f"flow run {run_id} not finished:\n{service.log('worker')[-3000:]}")


def test_prefect_yaml_deployments_depend_on_no_authors_path(prefect_deployments):
    with prefect_deployments.client() as client:
        found = {d.name: d for d in client.read_deployments()}
    assert {"sample-demo", "celeba-nightly", "celebrities-100k"} <= set(found)

    nightly = found["celeba-nightly"]
    assert [s.schedule.cron for s in nightly.schedules] == ["0 2 * * *"]
    assert nightly.parameters["params"]["run_dir"] == "runs/celeba-nightly"  # relative: the worker's checkout
    assert nightly.parameters["params"]["more_epochs"] >= 1  # each night trains more in the same folder
    assert found["celebrities-100k"].parameters["params"]["source"] == "celebrities-100k"

    for deployment in found.values():
        assert deployment.work_pool_name == "ganflow"
        # Decided on the worker when a run starts, not filled in by `prefect deploy`.
        assert deployment.pull_steps == [
            {"flows.project_dir.set_project_directory": {"directory": "{{ $GANFLOW_PROJECT_DIR }}"}}
        ]
        schema = deployment.parameter_openapi_schema
        default = schema["properties"]["params"]["default"]
        assert default["run_dir"] is None and default["data_dir"] == "data"  # not the deploying machine's cwd
        fields = schema["definitions"]["RunParams"]["properties"]
        assert all(field.get("description") for field in fields.values())  # the UI form explains every field
        assert deployment.enforce_parameter_schema
    assert str(ROOT) not in json.dumps([d.model_dump(mode="json") for d in found.values()])


def test_deployment_run_completes_with_outputs_named_tasks_and_artifacts(prefect_deployments, tmp_path):
    out = prefect_deployments.run_deployment("ganflow/sample-demo", tiny(tmp_path))
    assert out.returncode == 0, out.stdout[-3000:] + prefect_deployments.log("worker")[-3000:]
    assert "Completed" in out.stdout
    run_id = flow_run_id(out.stdout)

    run = tmp_path / "run"
    for name in ("progress.gif", "generator.keras", "metrics.csv", "summary.json"):
        assert (run / name).is_file(), name
    summary = json.loads((run / "summary.json").read_text())
    assert {name: s["state"] for name, s in summary["steps"].items()} == dict.fromkeys(STEPS, "Completed")
    assert summary["dataset"]["count"] == 100

    names = sorted(t.name for t in task_runs(prefect_deployments, run_id))
    assert names == sorted(
        [
            "acquire[sample]",
            "preprocess[sample 28px center]",
            "train[run to epoch 1]",
            "render[run 1 epochs]",
            "evaluate[run]",
        ]
    )

    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with prefect_deployments.client() as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )
    by_key = {a.key: a for a in artifacts}  # keyed by the run folder's name ("run")
    assert set(by_key) == {"ganflow-run-training", "ganflow-run-metrics", "ganflow-run-summary", "ganflow-run-gif"}
    progress = by_key["ganflow-run-training"]
    assert progress.type == "progress" and progress.data == 100.0 and "epoch 1/1" in progress.description
    table = by_key["ganflow-run-metrics"]
    rows = json.loads(table.data) if isinstance(table.data, str) else table.data
    assert table.type == "table" and [row["epoch"] for row in rows] == [1] and {"d_loss", "g_loss"} <= set(rows[0])
    markdown = by_key["ganflow-run-summary"].data
    assert "images used: **100**, skipped: **0**" in markdown
    assert str(run / "progress.gif") in markdown and str(run / "generator.keras") in markdown
    assert "| train | Completed |" in markdown and "d_loss" in markdown
    assert (run / "progress.gif").as_uri() in by_key["ganflow-run-gif"].data  # a link artifact: [text](url)


def test_bad_parameters_are_refused_before_any_task_runs(prefect_deployments, tmp_path):
    # What the schema can tell: the server refuses to create the run, naming the field.
    out = prefect_deployments.run_deployment("ganflow/sample-demo", tiny(tmp_path, size=30))
    assert out.returncode != 0
    assert "params.size" in out.stdout + out.stderr and "30 is not one of [28, 32, 64]" in out.stdout + out.stderr

    # What only the model can tell: the run fails in parameter validation, with the field, and runs no task.
    out = prefect_deployments.run_deployment("ganflow/sample-demo", tiny(tmp_path, source="/no/such/folder"))
    assert out.returncode != 0
    run = wait_final(prefect_deployments, flow_run_id(out.stdout))
    assert run.state.is_failed()
    assert "params.source" in run.state.message and "/no/such/folder" in run.state.message
    assert task_runs(prefect_deployments, run.id) == []
    assert not (tmp_path / "run").exists() and not (tmp_path / "data").exists()


def test_a_failed_run_retried_after_a_fix_reruns_only_the_failed_step_and_after(prefect_deployments, tmp_path):
    params = tiny(tmp_path, epochs=2)
    blocker = tmp_path / "run" / "samples" / "epoch_0002.png"
    blocker.mkdir(parents=True)  # a folder where training writes epoch 2's sample grid: train fails there

    out = prefect_deployments.run_deployment("ganflow/sample-demo", params)
    assert out.returncode != 0
    run_id = flow_run_id(out.stdout)
    assert wait_final(prefect_deployments, run_id).state.is_failed()
    assert not (tmp_path / "run" / "generator-last.keras").exists()  # written when training finishes

    listed = prefect_deployments.ganflow("runs", "--state", "failed")
    assert listed.returncode == 0, listed.stderr[-3000:]
    row = next(line for line in listed.stdout.splitlines() if line.startswith(str(run_id)))
    assert "sample-demo" in row and "Failed" in row

    shutil.rmtree(blocker)  # the fix; the parameters stay the same, as a retry reuses them
    retried = prefect_deployments.ganflow("retry", str(run_id))
    assert retried.returncode == 0, retried.stdout[-3000:] + retried.stderr[-3000:]
    run = wait_final(prefect_deployments, run_id)
    assert run.state.is_completed(), prefect_deployments.log("worker")[-3000:]

    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    states = {name: s["state"] for name, s in summary["steps"].items()}
    assert states == {
        "acquire": "Cached",
        "preprocess": "Cached",
        "train": "Completed",
        "render": "Completed",
        "evaluate": "Completed",
    }
    training = summary["training"]
    assert training["epochs"] == 2
    assert training["steps_this_run"] == training["total_steps"] // 2  # resumed after epoch 1's checkpoint
    by_state = {(t.name.split("[")[0], t.state.name) for t in task_runs(prefect_deployments, run_id)}
    assert {("acquire", "Completed"), ("acquire", "Cached"), ("preprocess", "Cached")} <= by_state


def test_serve_registers_a_scheduled_deployment_and_runs_it(prefect_deployments, tmp_path):
    p = tiny(tmp_path)
    args = [f"--{k.replace('_', '-')}={v}" for k, v in p.items()]
    serve = [sys.executable, "-m", "flows.cli", "serve", "--name", "served", "--cron", "0 3 * * *", *args]
    proc = prefect_deployments.start("serve", *serve)
    try:
        deadline = time.monotonic() + 180
        deployment = None
        with prefect_deployments.client() as client:
            while deployment is None and time.monotonic() < deadline and proc.poll() is None:
                deployment = next((d for d in client.read_deployments() if d.name == "served"), None)
                time.sleep(1)
        assert deployment, prefect_deployments.log("serve")[-3000:]
        assert [s.schedule.cron for s in deployment.schedules] == ["0 3 * * *"]
        assert deployment.parameters["params"]["run_dir"] == str(tmp_path / "run")

        out = prefect_deployments.prefect("deployment", "run", "ganflow/served", "--watch", "--watch-interval", "1")
        assert "Completed" in out.stdout, prefect_deployments.log("serve")[-3000:]
        assert (tmp_path / "run" / "progress.gif").is_file()
    finally:
        prefect_deployments.stop_process(proc)
    assert proc.returncode is not None
