"""prefect.yaml's deployments on a real server and process worker, used the way the README says."""

import json
import re
import shutil
import sys
import time
from pathlib import Path
from uuid import UUID

import numpy as np
import pytest
from prefect_service import ROOT

from flows.flow_parameters import flow_parameters
from flows.params import RunParams, tunable_names
from flows.recipes import RECIPES

pytestmark = pytest.mark.slow  # a real server, worker and training runs

STEPS = ("acquire", "preprocess", "train", "render", "evaluate")
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def tiny_options(tmp_path: Path, **overrides) -> dict:
    """The sample at 28 px gray, a small model, 16 images in the final report, in this test's own folders:
    a run takes seconds."""
    return {
        "source": "sample",
        "size": 28,
        "channels": 1,
        "epochs": 1,
        "batch_size": 16,
        "latent_dim": 8,
        "eval_images": 16,
        "run_dir": str(tmp_path / "run"),
        "data_dir": str(tmp_path / "data"),
        **overrides,
    }


def tiny(tmp_path: Path, **overrides) -> dict:
    """`tiny_options` as the flow's parameters: the everyday options at the top, `latent_dim` in `options`."""
    return flow_parameters(tiny_options(tmp_path, **overrides))


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
    assert [s.active for s in nightly.schedules] == [False]  # deployed off: nothing is queued for 02:00
    assert not any(
        s.active for d in found.values() if d.name in ("sample-demo", "celebrities-100k") for s in d.schedules
    )
    assert "run_dir" not in found["sample-demo"].parameters  # its own folder, chosen at run time (runs/sample-demo/)
    assert nightly.parameters["run_dir"] == "runs/celeba-nightly"  # relative: the worker's checkout
    assert nightly.parameters["more_epochs"] >= 1  # each night trains more in the same folder
    assert found["celebrities-100k"].parameters["source"] == "celebrities-100k"

    for deployment in found.values():
        assert deployment.work_pool_name == "ganflow"
        # Decided on the worker when a run starts, not filled in by `prefect deploy`.
        assert deployment.pull_steps == [
            {"flows.project_dir.set_project_directory": {"directory": "{{ $GANFLOW_PROJECT_DIR }}"}}
        ]
        schema = deployment.parameter_openapi_schema
        flat = schema["properties"]
        assert flat["run_dir"]["default"] is None and flat["data_dir"]["default"] == "data"  # not the deployer's cwd
        grouped = schema["definitions"]["RunOptions"]["properties"]
        assert set(flat) | set(grouped) == set(RunParams.model_fields) | {"options"}
        assert all(
            field.get("description") for field in [*flat.values(), *grouped.values()] if field is not flat["options"]
        )
        # Whatever a recipe may set is empty in the form, so a recipe chosen there applies.
        assert all(flat[name]["default"] is None for name in tunable_names() if name in flat)
        assert all(flat["options"]["default"][name] is None for name in tunable_names() if name in grouped)
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
    keys = {
        "ganflow-run-training",
        "ganflow-run-samples",
        "ganflow-run-metrics",
        "ganflow-run-quality",
        "ganflow-run-summary",
        "ganflow-run-gif",
    }
    assert set(by_key) == keys
    progress = by_key["ganflow-run-training"]
    assert progress.type == "progress" and progress.data == 100.0 and "epoch 1/1" in progress.description
    table = by_key["ganflow-run-metrics"]
    rows = json.loads(table.data) if isinstance(table.data, str) else table.data
    assert table.type == "table" and [row["epoch"] for row in rows] == [1] and {"d_loss", "g_loss"} <= set(rows[0])
    quality = by_key["ganflow-run-quality"]
    scores = json.loads(quality.data) if isinstance(quality.data, str) else quality.data
    assert [row["epoch"] for row in scores] == [1] and {"swd", "colour"} <= set(scores[0]) and "d_loss" not in scores[0]
    markdown = by_key["ganflow-run-summary"].data
    assert "images used: **100**, skipped: **0**" in markdown
    assert str(run / "progress.gif") in markdown and str(run / "generator.keras") in markdown
    assert "| train | Completed |" in markdown and "d_loss" in markdown
    grid = by_key["ganflow-run-samples"]  # published while training: after epoch 1
    assert (
        grid.type == "markdown" and "# Samples at epoch 1 of 1" in grid.data and "](data:image/png;base64," in grid.data
    )
    gif = by_key["ganflow-run-gif"]  # the GIF inline (a file:// link does not open from the UI's page)
    assert gif.type == "markdown" and "](data:image/gif;base64," in gif.data and str(run / "progress.gif") in gif.data


def test_the_nightly_schedule_ships_off_and_the_documented_command_switches_it_on(prefect_deployments):
    documented = "prefect deployment schedule resume --all"
    for page in (ROOT / "README.md", ROOT / "docs" / "operations.md", ROOT / "prefect.yaml"):
        assert documented in page.read_text(), page
    with prefect_deployments.client() as client:
        assert [s.active for s in client.read_deployment_by_name("ganflow/celeba-nightly").schedules] == [False]
    prefect_deployments.prefect(*documented.split()[1:])
    with prefect_deployments.client() as client:
        (schedule,) = client.read_deployment_by_name("ganflow/celeba-nightly").schedules
    assert schedule.active
    # Switched off again, the precise way (for a server with other paused schedules), for the tests after this one.
    prefect_deployments.prefect("deployment", "schedule", "pause", "ganflow/celeba-nightly", str(schedule.id))
    with prefect_deployments.client() as client:
        assert [s.active for s in client.read_deployment_by_name("ganflow/celeba-nightly").schedules] == [False]


def test_a_deployment_run_without_a_run_dir_trains_in_a_folder_of_its_own(prefect_deployments, tmp_path):
    params = tiny(tmp_path)
    del params["run_dir"]
    own = ROOT / "runs" / "sample-demo"  # relative to the worker's checkout, named for the deployment
    assert not own.exists(), f"{own} is left from an earlier session: remove it"
    try:
        out = prefect_deployments.run_deployment("ganflow/sample-demo", params)
        assert "Completed" in out.stdout, out.stdout[-3000:] + prefect_deployments.log("worker")[-3000:]
        (folder,) = own.iterdir()  # the name `ganflow run` would give, inside the deployment's folder
        expected = RunParams(**{k: v for k, v in tiny_options(tmp_path).items() if k != "run_dir"}).default_run_name()
        assert folder.name == expected and (folder / "progress.gif").is_file()
    finally:
        shutil.rmtree(own, ignore_errors=True)


def test_bad_parameters_are_refused_before_any_task_runs(prefect_deployments, tmp_path):
    # What the schema can tell: the server refuses to create the run, naming the field.
    out = prefect_deployments.run_deployment("ganflow/sample-demo", tiny(tmp_path, size=30))
    assert out.returncode != 0
    said = " ".join((out.stdout + out.stderr).split())  # rich wraps lines
    # None is the form's "empty: the recipe's value" choice
    assert "Validation failed for field 'size'" in said and "30 is not one of [28, 32, 64, None]" in said

    # What only the model can tell: the run fails in parameter validation, with the field, and runs no task.
    out = prefect_deployments.run_deployment("ganflow/sample-demo", tiny(tmp_path, source="/no/such/folder"))
    assert out.returncode != 0
    run = wait_final(prefect_deployments, flow_run_id(out.stdout))
    assert run.state.is_failed()
    assert "parameter source:" in run.state.message and "/no/such/folder" in run.state.message
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
    assert "sample-demo" in row and "Failed" in row and str(tmp_path / "run") in row  # the id leads to its files

    shutil.rmtree(blocker)  # the fix; the parameters stay the same, as a retry reuses them
    retried = prefect_deployments.ganflow("retry", str(run_id))
    assert retried.returncode == 0, retried.stdout[-3000:] + retried.stderr[-3000:]
    assert retried.stdout.strip().splitlines()[-1].endswith(str(tmp_path / "run" / "progress.gif"))
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
    args = [f"--{k.replace('_', '-')}={v}" for k, v in tiny_options(tmp_path).items()]
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
        # Only what was given, so a recipe chosen later in the UI form still applies.
        assert deployment.parameters == tiny(tmp_path)

        out = prefect_deployments.prefect("deployment", "run", "ganflow/served", "--watch", "--watch-interval", "1")
        assert "Completed" in out.stdout, prefect_deployments.log("serve")[-3000:]
        assert (tmp_path / "run" / "progress.gif").is_file()
    finally:
        prefect_deployments.stop_process(proc)
    assert proc.returncode is not None


def deploy(service, tmp_path: Path, name: str, parameters: dict):
    """One more deployment of prefect.yaml's project (pull step, pool), with these parameters, by `prefect deploy`."""
    import yaml

    project = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    base = next(d for d in project["deployments"] if d["name"] == "sample-demo")
    project["deployments"] = [{**base, "name": name, "parameters": parameters}]
    path = tmp_path / "prefect.yaml"
    path.write_text(yaml.safe_dump(project))
    service.prefect("--no-prompt", "deploy", "--name", name, "--prefect-file", str(path))
    with service.client() as client:
        return client.read_deployment_by_name(f"ganflow/{name}")


def test_a_deployment_run_overrides_one_field_and_keeps_the_others(prefect_deployments, tmp_path):
    deploy(prefect_deployments, tmp_path, "one-field", tiny(tmp_path))
    out = prefect_deployments.prefect(
        "deployment", "run", "ganflow/one-field", "--param", "epochs=2", "--watch", "--watch-interval", "1",
        timeout=660, check=False,
    )  # fmt: skip
    assert out.returncode == 0 and "Completed" in out.stdout, out.stdout[-3000:] + prefect_deployments.log("worker")
    with prefect_deployments.client() as client:
        run = client.read_flow_run(flow_run_id(out.stdout))
    assert run.parameters == {**tiny(tmp_path), "epochs": 2}

    summary = json.loads((tmp_path / "run" / "summary.json").read_text())  # the deployment's run folder
    assert summary["training"]["epochs"] == 2
    given = {k: v for k, v in summary["params"].items() if k in tiny_options(tmp_path) and k != "epochs"}
    assert given == {k: v for k, v in tiny_options(tmp_path).items() if k != "epochs"}


# Playwright adds --headless and its own fresh --user-data-dir.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOADED_DATA_IMAGES = """kind => [...document.images].filter(
    i => i.src.startsWith('data:image/' + kind) && i.complete && i.naturalWidth > 0).length"""


def only_run_of(service, deployment_id: UUID, timeout: float = 60) -> UUID:
    """The id of the one flow run of a deployment, once the UI has created it."""
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    only = DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
    deadline = time.monotonic() + timeout
    with service.client() as client:
        while not (runs := client.read_flow_runs(deployment_filter=only)) and time.monotonic() < deadline:
            time.sleep(0.5)
    assert len(runs) == 1, runs
    return runs[0].id


def form_field(page, label: str):
    """A field of the UI's parameter form, by the label it shows ('epochs (Optional)')."""
    title = page.locator(".schema-form-property__label", has_text=re.compile(rf"^{re.escape(label)} \(Optional\)$"))
    return page.locator(".schema-form-property").filter(has=title).first


FORM_CHOICES = {"size": ["28", "32", "64"], "channels": ["1", "3"], "crop": ["center", "celeba", "pad", "none"]}


def choices_offered(page, label: str) -> list[str]:
    """The entries of a select in the form, as the opened list shows them."""
    select = form_field(page, label).locator("button.p-select-button__control")
    select.focus()
    select.press(" ")  # opens the list (a synthetic click does not)
    options = page.get_by_role("option")
    options.first.wait_for()
    shown = [option.inner_text().strip() for option in options.all()]
    page.keyboard.press("Escape")
    options.first.wait_for(state="detached")
    return shown


FORM_ERRORS = """() => [...document.querySelectorAll(
    '.p-message, [role=alert], [class*=toast], .schema-form-property__errors, .p-label__message')]
    .map(e => e.innerText.trim()).filter(Boolean)"""


def submit(page, tries: int = 3) -> None:
    """Click the form's Submit until the server creates the run; then the UI shows the deployment's runs.

    Prefect's server on SQLite answers 503 when a write collides with another one (here the worker polls
    every second): its Python client retries, its UI does not. It shows an error and stays on the form,
    where a user clicks Submit again; so does this, at most `tries` times.
    """
    for _ in range(tries):
        try:
            with page.expect_response(lambda r: r.request.method == "POST" and "/create_flow_run" in r.url) as sent:
                page.get_by_role("button", name="Submit").click()
        except Exception:  # no request: the form refused its values
            raise AssertionError(f"the form sent nothing; the page says: {page.evaluate(FORM_ERRORS)}") from None
        if sent.value.status != 503:
            break
    assert sent.value.ok, f"creating the run answered {sent.value.status}: {sent.value.text()[:500]}"
    page.wait_for_url(re.compile(r"/deployments/deployment/[^/]+\?tab=Runs"))


def shown(screenshot: Path, box: dict) -> np.ndarray:
    """The pixels of a screenshot inside an element's bounding box."""
    import imageio.v3 as iio

    image = iio.imread(screenshot)
    top, left = int(box["y"]), int(box["x"])
    return image[top : top + int(box["height"]), left : left + int(box["width"]), :3]


def test_the_ui_form_overrides_one_field_applies_a_recipe_and_shows_the_gif(prefect_deployments, tmp_path):
    """In a real browser: the deployment's Run form, one field changed and a recipe picked; then the GIF."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("needs Debian's chromium (apt-get install chromium) for the headless browser")
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip install -e '.[test]')")
    deployment = deploy(prefect_deployments, tmp_path, "form", tiny(tmp_path))
    ui = prefect_deployments.api_url.removesuffix("/api")

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(60_000)
            page.goto(f"{ui}/deployments/deployment/{deployment.id}/run")
            # Every choice is a list to pick from, empty (None) included, never an "int | None" switch.
            for name, choices in FORM_CHOICES.items():
                assert choices_offered(page, name) == [*choices, "None"], name
                assert "Property is type" not in form_field(page, name).inner_text()
            form_field(page, "epochs").locator("input").fill("2")
            select = form_field(page, "recipe").locator("button.p-select-button__control")
            select.focus()
            select.press(" ")  # opens the list (a synthetic click does not)
            page.get_by_role("option", name="seed-mlp", exact=True).click()
            assert select.inner_text().strip() == "seed-mlp"
            submit(page)
            run = wait_final(prefect_deployments, only_run_of(prefect_deployments, deployment.id), timeout=600)
            run_id = run.id
            assert run.state.is_completed(), prefect_deployments.log("worker")[-3000:]

            # The form sent the one field and the recipe; the deployment's other parameters held.
            assert run.parameters["epochs"] == 2 and run.parameters["recipe"] == "seed-mlp"
            summary = json.loads((tmp_path / "run" / "summary.json").read_text())
            given = {**tiny_options(tmp_path), "epochs": 2}
            recipe = {k: v for k, v in RECIPES["seed-mlp"].settings.items() if k not in given}
            assert recipe and {k: summary["params"][k] for k in recipe} == recipe  # e.g. arch numpy-mlp, sigmoid
            assert summary["params"]["latent_dim"] == 8 and summary["params"]["source"] == "sample"  # the deployment's
            assert summary["training"]["epochs"] == 2

            # The GIF and the newest grid on the flow run's page, drawn by the browser.
            page.goto(f"{ui}/runs/flow-run/{run_id}")
            page.get_by_text("Artifacts", exact=True).first.click()  # the tab
            page.get_by_text("ganflow-run-gif", exact=True).click()  # its card; it opens the artifact's page
            page.wait_for_function(f"({LOADED_DATA_IMAGES})('gif') > 0 && ({LOADED_DATA_IMAGES})('png') > 0")
            screenshot = tmp_path / "artifact.png"
            page.screenshot(path=screenshot, full_page=True)
            for kind in ("gif", "png"):
                image = page.locator(f"img[src^='data:image/{kind}']").first
                assert image.evaluate("i => i.naturalWidth") >= 100
                pixels = shown(screenshot, image.bounding_box())
                assert pixels.size and pixels.std() > 10, f"the {kind} is not drawn in {screenshot}"

            # The tables fit the page, their numbers as short as they are meaningful (metrics.csv keeps all).
            for kind in ("metrics", "quality"):
                page.goto(f"{ui}/runs/flow-run/{run_id}")
                page.get_by_text("Artifacts", exact=True).first.click()
                page.get_by_text(f"ganflow-run-{kind}", exact=True).click()
                table = page.locator("table").first
                table.wait_for()
                width, room, text = table.evaluate("t => [t.scrollWidth, t.parentElement.clientWidth, t.innerText]")
                assert width <= room, f"the {kind} table is {width} px wide in {room} px of the page"
                numbers = re.findall(r"\d+\.\d+", text)
                assert numbers and all(len(n.replace(".", "").lstrip("0")) <= 3 for n in numbers), text
        finally:
            browser.close()
