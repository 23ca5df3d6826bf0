"""The `ganflow` commands. Their options come from the flow's parameter model (flows/params.py) through
flows/click_options.py; what goes wrong is shown in one line by flows/user_errors.py."""

import json
import os
import sys
import textwrap
from pathlib import Path

import click
from pydantic import ValidationError

from flows.click_options import build_params, given_options, model_options, typed_options
from flows.help_groups import GroupedCommand
from flows.option_checks import first_problem
from flows.params import RunParams, resolve_options, tunable_names
from flows.recipes import DEFAULT_RECIPE, EVERY_RECIPE, RECIPES, render_text
from flows.user_errors import one_line_errors, run_in_one_line
from ganmodels.metrics.fid import WEIGHTS_HELP

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="ganflow")
def cli() -> None:
    """ganflow: train a DCGAN on face images as a restartable Prefect pipeline.

    Steps: acquire -> preprocess -> train -> render -> evaluate. Each is a cached Prefect task, so
    running the same command again repeats only what failed, changed, or lost its files.
    """


RUN_DEFAULTS = {name: value for name, value in resolve_options({}).items() if name in tunable_names()}


@cli.command(cls=GroupedCommand)
@model_options(RunParams, RUN_DEFAULTS)
@click.option("--verbose", is_flag=True, help="Also show Prefect's own messages (temporary server, client notices).")
def run(verbose, **options) -> None:
    """Run the whole pipeline and print where the progress GIF is.

    Try it on the built-in offline sample of 100 faces: `ganflow run`.
    Run it again with a larger --epochs to continue training the same run.
    """
    params = build_params(RunParams, options)
    _check_processes(_use_backend(params.backend))  # before Keras is imported; the options keep what was given
    from flows.flow_parameters import of_run
    from flows.ganflow import ganflow
    from flows.temporary_server import prefect_api, this_command
    from tasks.errors import NetworkError, UserError
    from tasks.train.interrupt import TrainingInterrupted, exit_at_once

    _calm_terminal(verbose)

    stopped = None
    with one_line_errors((UserError, NetworkError), folders=(params.data_dir, params.run_dir)), prefect_api():
        try:
            result = ganflow(**of_run(params))
        except TrainingInterrupted as stop:  # Ctrl-C or SIGTERM: the step reached is saved
            stopped = stop
    if stopped is not None:  # the temporary server is stopped by now
        click.echo(f"Stopped: {stopped}. The same command continues from there: {this_command()}", err=True)
        exit_at_once(stopped.exit_code)
    if result.note:  # the run folder had already reached --epochs: why nothing was trained, and what to do
        click.echo(f"{result.note}; outputs in {result.run_dir}")
    else:
        click.echo(f"Trained {result.steps_trained} steps this run; outputs in {result.run_dir}")
    if result.stopped == "budget":
        click.echo("Stopped on the time budget (--max-minutes); a larger budget or more --epochs continues it")
    click.echo(f"GIF: {result.gif}")


def _calm_terminal(verbose: bool = False) -> None:
    """Prefect's log lines print above the live progress bars, not into them; its own chatter (the temporary
    server's notices, client INFO lines) stays off unless `verbose`. For every command that talks to Prefect."""
    import prefect  # noqa: F401 - sets up Prefect's log handlers, which the next lines adjust

    from tasks.progress import quiet_prefect_chatter, share_console_with_prefect_logs

    share_console_with_prefect_logs()  # (training hides Prefect's reports of its Ctrl-C stop: tasks/train/interrupt.py)
    if not verbose:
        quiet_prefect_chatter()
        # The temporary server is a child process that logs on this terminal too: offline, its telemetry
        # service prints an ERROR line at every start. Only its critical errors show, unless configured.
        os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "CRITICAL")


def _parse_grid(items: tuple[str, ...]) -> dict[str, list[str]]:
    """`KEY=V1,V2` (or `KEY=V1;V2` when values hold commas) -> {key: [V1, V2]}; option names as in `ganflow run`."""
    grid: dict[str, list[str]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        name = key.strip().lstrip("-").replace("-", "_")
        if not sep or not name:
            raise click.BadParameter(f"{item!r} is not OPTION=V1,V2", param_hint="'--grid'")
        if name in grid:
            raise click.BadParameter(
                f"{key.strip()} is given twice; list all its values in one --grid", param_hint="'--grid'"
            )
        separator = ";" if ";" in values else ","
        grid[name] = [v.strip() for v in values.split(separator) if v.strip()]
    return grid


def _check_deployment(name: str) -> None:
    """The deployment exists on a reachable Prefect server: otherwise one line, before anything starts."""
    from prefect import get_client
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        raise click.BadParameter(
            "needs a Prefect server that the pool's workers use: set PREFECT_API_URL (e.g. "
            "`prefect config set PREFECT_API_URL=http://HOST:4200/api`)",
            param_hint="'--deployment'",
        )
    if not name.startswith("ganflow/"):
        raise click.BadParameter(
            f"{name!r}: give a deployment of the ganflow flow, ganflow/NAME", param_hint="'--deployment'"
        )
    with get_client(sync_client=True) as client:
        try:
            client.read_deployment_by_name(name)
        except Exception as exc:
            raise click.BadParameter(
                f"{name!r} not found on {PREFECT_API_URL.value()} ({type(exc).__name__}): `prefect deployment ls` "
                "lists them; `prefect deploy --all` creates prefect.yaml's",
                param_hint="'--deployment'",
            ) from None


@cli.command(cls=GroupedCommand)
@click.option(
    "--grid",
    "grid",
    multiple=True,
    required=True,
    metavar="OPTION=V1,V2",
    help="A run option and its values (repeatable); one run per combination. Use ';' between values that hold commas.",
)
@click.option(
    "--sweep-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="The sweep's folder: sweep.json/.md/.png and one run folder per combination. Default: runs/sweep-<hash>.",
)
@click.option(
    "--deployment",
    default=None,
    metavar="ganflow/NAME",
    help="Run each combination as a run of this deployment: any worker of its work pool takes it.",
)
@click.option(
    "--parallel",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Without --deployment: this many runs at once on this machine, each in its own process.",
)
@model_options(RunParams, RUN_DEFAULTS)
def sweep(grid, sweep_dir, deployment, parallel, **options) -> None:
    """Train one run per combination of --grid values and rank them by SWD in one report.

    Example: `ganflow sweep --grid recipe=ganflow,seed-celeb32 --grid seed=0,1,2 --max-minutes 30`.
    Other run options apply to every run. Running the same command again reuses the runs that finished
    and reruns only those that failed or were cut short.
    """
    from flows.sweep import SweepParams

    given = typed_options(RunParams, options)
    try:
        spec = SweepParams(
            options=given, grid=_parse_grid(grid), sweep_dir=sweep_dir, deployment=deployment, parallel=parallel
        )
    except ValidationError as exc:
        raise click.UsageError(first_problem(exc)[1]) from None
    _calm_terminal()
    if deployment:
        _check_deployment(deployment)
    from flows.sweep import ganflow_sweep
    from flows.temporary_server import prefect_api
    from tasks.errors import NetworkError, UserError

    with one_line_errors((UserError, NetworkError)), prefect_api():  # one server for all the sweep's processes
        result = ganflow_sweep(sweep=spec)
    for i, row in enumerate(json.loads(result.report.read_text())["ranking"], 1):
        swd = f"{row['swd_mean']:.2f} +- {row['swd_sd']:.2f}" if row["swd_mean"] is not None else "-"
        click.echo(f"{i}. {row['configuration']}: SWD x1e3 {swd} over {row['scored']} run(s)")
    click.echo(f"Report: {result.markdown}  Picture: {result.picture}")


@cli.command(cls=GroupedCommand)
@click.option("--name", default="ganflow-serve", show_default=True, help="Name of the deployment this process serves.")
@click.option(
    "--cron",
    default=None,
    metavar="'MIN HOUR DOM MON DOW'",
    help="Also run on this cron schedule, e.g. '0 2 * * *' for 02:00 every night. Without it: on demand only.",
)
@click.option("--timezone", default=None, help="Time zone of --cron, e.g. Europe/Berlin. Default: UTC.")
@model_options(RunParams, RUN_DEFAULTS)
def serve(name, cron, timezone, **options) -> None:
    """Serve the flow from this process: no work pool or worker needed (Ctrl-C stops it).

    The options you give become the deployment's parameters, as given: the others stay empty, so a recipe
    chosen later in the UI form still applies. Runs start on the --cron schedule or with
    `prefect deployment run ganflow/NAME`, and execute in subprocesses of this one. Example, a nightly
    run that trains 5 more epochs each time: `ganflow serve --cron '0 2 * * *' --more-epochs 5 --run-dir runs/nightly`.
    """
    build_params(RunParams, options)  # a bad option stops here, with one line
    given = given_options(RunParams, options)
    for folder in ("run_dir", "data_dir", "inception_weights"):  # relative to where this command was typed
        if folder in given:
            given[folder] = given[folder].expanduser().resolve()
    schedules = [_cron_schedule(cron, timezone)] if cron else None
    from flows.flow_parameters import as_json, flow_parameters
    from flows.ganflow import ganflow

    ganflow.serve(name=name, schedules=schedules, parameters=as_json(flow_parameters(given)))


def _cron_schedule(cron: str, timezone: str | None):
    """Prefect's own cron schedule, so a typo stops here with one line instead of inside the runner."""
    from prefect.client.schemas.schedules import CronSchedule

    try:
        return CronSchedule(cron=cron, timezone=timezone or "UTC")
    except ValidationError as exc:
        field, message = first_problem(exc)
        option = "--timezone" if field == "timezone" else "--cron"
        raise click.BadParameter(message, param_hint=f"'{option}'") from None


@cli.command()
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True, help="How many runs.")
@click.option(
    "--state",
    "states",
    multiple=True,
    type=click.Choice(["completed", "failed", "crashed", "cancelled", "running", "scheduled", "pending"]),
    help="Only runs in this state (repeatable).",
)
def runs(limit, states) -> None:
    """List recent runs of the flow, newest first, with their state, deployment and run folder.

    It asks the Prefect API (PREFECT_API_URL, or this machine's local database when none is set).
    """
    _calm_terminal()
    from flows.run_history import format_runs, recent_runs
    from flows.temporary_server import prefect_api
    from tasks.errors import UserError

    with one_line_errors(UserError), prefect_api():
        click.echo(format_runs(recent_runs(limit, tuple(states))))


@cli.command()
@click.argument("flow_run", metavar="ID")
def retry(flow_run) -> None:
    """Retry a finished run: steps that finished come from the cache; the failed step and those after it run.

    For a sweep's run (`ganflow sweep`): children that finished are reused, the others run again.
    It runs `prefect flow-run retry ID`. A run of a deployment is scheduled again for its worker and
    watched until a worker takes it (when the worker's late report of a killed process undoes the retry,
    it is made again, or one line says it did not take); a run started with `ganflow run` runs again
    here (this adds the --entrypoint that prefect needs for it).
    """
    from flows.child_command import call
    from flows.project_dir import installed_checkout
    from flows.retry_check import retry_until_taken
    from flows.run_history import flow_name_of, gif_line, interrupted_line
    from flows.temporary_server import prefect_api
    from tasks.errors import UserError

    _calm_terminal()
    entrypoints = {"ganflow": "flows/ganflow.py:ganflow", "ganflow-sweep": "flows/sweep.py:ganflow_sweep"}
    with one_line_errors(UserError), prefect_api():  # prefect's process takes the API URL from the environment
        flow_name = flow_name_of(flow_run)
        entrypoint = str(installed_checkout() / entrypoints.get(flow_name or "", entrypoints["ganflow"]))
        command = [sys.executable, "-m", "flows.prefect_cli", "flow-run", "retry", flow_run, "--entrypoint", entrypoint]
        code, line = retry_until_taken(flow_run, lambda: call(command))  # Prefect's CLI, calm; checks it took
        if line:
            click.echo(line, err=code != 0)
        if code == 0 and flow_name == "ganflow" and (line := gif_line(flow_run)):
            click.echo(line)
        elif code != 0 and flow_name == "ganflow" and (line := interrupted_line(flow_run)):
            click.echo(line, err=True)
    sys.exit(code)


@cli.command()
@click.argument("name", required=False, type=click.Choice(list(RECIPES)))
@click.option("--details", is_flag=True, help="Show every recipe's settings and their sources, not one line each.")
def recipes(name: str | None, details: bool) -> None:
    """List the presets that --recipe names, one line each. Give a NAME (or --details for all) to see each
    option it sets, where in the original project the value comes from, and where ganflow differs and why
    (docs/recipes.md holds the same tables).

    Any option given on the command line beats the recipe's value, e.g.
    `ganflow run --recipe seed-jhayes14 --epochs 50 --size 32`.
    """
    if name is None and not details:
        width = max(len(n) for n in RECIPES) + len(" (default)")
        for recipe in RECIPES.values():
            label = f"{recipe.name} (default)" if recipe.name == DEFAULT_RECIPE else recipe.name
            click.echo(f"{label.ljust(width)}  {recipe.summary}")
        click.echo("\n`ganflow recipes NAME` shows what a recipe sets and where each value comes from; --details all.")
        return
    for recipe in RECIPES.values():
        if name not in (None, recipe.name):
            continue
        default = " (default)" if recipe.name == DEFAULT_RECIPE else ""
        click.echo(f"{recipe.name}{default}: {recipe.summary}")
        for line in render_text(recipe):
            click.echo(line)
        click.echo("")
    click.echo(textwrap.fill(EVERY_RECIPE, 100))


def _run_dir_option(required: bool):
    return click.option(
        "--run-dir",
        required=required,
        type=click.Path(path_type=Path, exists=True, file_okay=False),
        help="A run folder written by `ganflow run`.",
    )


def _checkpoint_option(help: str):
    return click.option("--checkpoint", default=None, metavar="latest|best|PATH", help=help)


def _generate_help() -> str:
    """generate's help. Its example names the folder `ganflow run` writes on the sample with today's
    defaults (the name's hash covers every model setting), so it can be copied as it is."""
    sample_run = Path("runs") / RunParams().default_run_name()
    return f"""Make new faces from a trained generator (no Prefect server needed).

    Examples, after `ganflow run`: `ganflow generate --run-dir {sample_run.as_posix()} --grid`,
    `ganflow generate --model {sample_run.as_posix()}/generator.keras --num 8 --interpolate 4`.
    """


@cli.command(help=_generate_help())
@_run_dir_option(required=False)
@click.option(
    "--model",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="A saved generator (.keras), instead of --run-dir.",
)
@_checkpoint_option("With --run-dir: load this checkpoint instead of the final generator.keras.")
@click.option("--num", type=click.IntRange(1, 100_000), default=16, show_default=True, help="How many images.")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder for the images. Default: generated/ in the run folder (with --model: beside the model file).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the latent vectors.")
@click.option("--grid", is_flag=True, help="Write one grid.png instead of one PNG per image.")
@click.option(
    "--interpolate",
    type=click.IntRange(2, 1000),
    default=None,
    metavar="K",
    help="Write walk.gif: a loop through K random latent points (spherical interpolation).",
)
@click.option(
    "--truncation",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="T",
    help="Redraw latent entries with |z| > T: less variety, cleaner faces.",
)
def generate(run_dir, model, checkpoint, num, out, seed, grid, interpolate, truncation) -> None:
    """Make new faces from a trained generator; the help text is `_generate_help()`."""
    if (run_dir is None) == (model is None):
        raise click.UsageError("pass exactly one of --run-dir DIR or --model FILE")
    if checkpoint is not None and run_dir is None:
        raise click.UsageError("--checkpoint needs --run-dir (a checkpoint belongs to a run folder)")
    _use_backend(None)  # generator.keras and .npz checkpoints read on either backend
    from tasks.errors import UserError
    from tasks.report.generate import generate_images, interpolation_gif, latent_distribution, load_generator

    out = (out or (run_dir or model.parent) / "generated").expanduser().resolve()  # absolute: it prints where
    with one_line_errors(UserError):
        generator = load_generator(run_dir, model, checkpoint)
        dist = latent_distribution(run_dir, model)
        if interpolate:
            path = interpolation_gif(generator, out, num, interpolate, seed, truncation, dist)
            click.echo(f"Latent walk: {path}")
        else:
            paths = generate_images(generator, out, num, seed, grid, truncation, dist)
            click.echo(f"Wrote {paths[0]}" if len(paths) == 1 else f"Wrote {len(paths)} images to {out}")


@cli.command()
@_run_dir_option(required=True)
@_checkpoint_option("Evaluate this checkpoint instead of the run's generator.keras.")
@click.option(
    "--num",
    type=click.IntRange(2, 100_000),
    default=2048,
    show_default=True,
    help="Real and generated images to compare.",
)
@click.option(
    "--inception-weights",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help=WEIGHTS_HELP,
)
def evaluate(run_dir, checkpoint, num, inception_weights) -> None:
    """Recompute every quality metric for a run or one of its checkpoints (no Prefect server needed).

    Writes evaluation.json and nearest.png into the run folder and prints the headline figures.
    """
    _use_backend(None)
    from tasks.errors import UserError
    from tasks.report.evaluate import evaluate_run, report_lines

    with one_line_errors(UserError):
        result = evaluate_run(run_dir, checkpoint, num, inception_weights)
    for line in report_lines(json.loads(result.report.read_text())):
        click.echo(line)
    click.echo(f"Report: {result.report}  Nearest pairs: {result.nearest}")


def _ignore_foreign_keras_backend() -> None:
    """KERAS_BACKEND naming a backend ganflow does not run on (torch, numpy) is one line, and TensorFlow is used."""
    from ganmodels.backend import BACKENDS

    asked = os.environ.get("KERAS_BACKEND")
    if asked and asked not in BACKENDS:
        os.environ["KERAS_BACKEND"] = BACKENDS[0]
        click.echo(
            f"Note: KERAS_BACKEND={asked} ignored: ganflow runs Keras on {' or '.join(BACKENDS)}; using {BACKENDS[0]}.",
            err=True,
        )


def _use_backend(asked: str | None) -> str:
    """Keras' backend for this command, chosen before anything imports Keras (None: KERAS_BACKEND, else
    TensorFlow); one line when it cannot be (JAX not installed, Keras already loaded on another)."""
    from ganmodels.backend import BackendError, choose_backend

    try:
        return choose_backend(asked)
    except BackendError as exc:
        raise click.ClickException(str(exc)) from None


def _check_processes(backend: str) -> None:
    """JAX_COORDINATOR_ADDRESS / JAX_NUM_PROCESSES / JAX_PROCESS_ID checked before any flow run starts
    (the flow joins the processes: flows/ganflow.py)."""
    from ganmodels.multihost import problem

    if (wrong := problem(backend)) is not None:
        raise click.ClickException(wrong)


def main() -> None:
    """Console entry point: click errors become one line (`Error: ...`), never a usage dump."""
    _ignore_foreign_keras_backend()
    run_in_one_line(cli)


if __name__ == "__main__":
    main()
