"""The `ganflow` command line. Options come from the flow's parameter model (flows/params.py)."""

import os
import sys
import typing
from pathlib import Path

import click
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from flows.params import RunParams

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _click_type(field: FieldInfo):
    annotation = field.annotation
    if typing.get_origin(annotation) is typing.Literal:
        return click.Choice([str(v) for v in typing.get_args(annotation)])
    if annotation in (int, float):
        return annotation
    if Path in (annotation, *typing.get_args(annotation)):
        return click.Path(path_type=Path)
    return str


def model_options(model: type[BaseModel]):
    """Decorate a command with one `--kebab-case` option per model field, defaults and help included."""

    def decorate(command):
        for name, field in reversed(model.model_fields.items()):
            default = None if field.default is None else field.default
            flag = "--" + name.replace("_", "-")
            if field.annotation is bool:  # a switch: --dedupe / --no-dedupe
                decls, kwargs = [f"{flag}/--no-{flag[2:]}", name], {"show_default": True}
            else:
                decls, kwargs = [flag, name], {"type": _click_type(field), "show_default": default is not None}
            command = click.option(*decls, default=default, help=field.description, **kwargs)(command)
        return command

    return decorate


def build_params(model: type[BaseModel], options: dict) -> BaseModel:
    """Validate CLI options through the model; a bad value becomes one line naming the option."""
    values = {}
    for name, value in options.items():
        if value is None:
            continue
        field = model.model_fields[name]
        if typing.get_origin(field.annotation) is typing.Literal:  # click gives the choice as text
            value = next(v for v in typing.get_args(field.annotation) if str(v) == value)
        values[name] = value
    try:
        return model(**values)
    except ValidationError as exc:
        err = exc.errors()[0]
        option = "--" + str(err["loc"][0]).replace("_", "-") if err["loc"] else "options"
        message = err["msg"].removeprefix("Value error, ")
        raise click.BadParameter(message, param_hint=f"'{option}'") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="ganflow")
def cli() -> None:
    """ganflow: train a DCGAN on face images as a restartable Prefect pipeline.

    Steps: acquire -> preprocess -> train -> render. Each is a cached Prefect task, so running
    the same command again repeats only what failed, changed, or lost its files.
    """


@cli.command()
@model_options(RunParams)
def run(**options) -> None:
    """Run the whole pipeline and print where the progress GIF is.

    Try it on the built-in offline sample of 100 faces: `ganflow run`.
    Run it again with a larger --epochs to continue training the same run.
    """
    params = build_params(RunParams, options)
    from flows.ganflow import ganflow
    from tasks.errors import UserError

    with _one_line_errors(UserError):
        result = ganflow(params=params)
    click.echo(f"Trained {result.steps_trained} steps this run; outputs in {result.run_dir}")
    click.echo(f"GIF: {result.gif}")


class _one_line_errors:
    """Turn a user error raised anywhere in the flow into `Error: ...` and exit 1, with no traceback.

    Prefect logs task failures with their tracebacks; for errors the user can fix, the traceback
    is noise, so it is dropped from those log records.
    """

    def __init__(self, user_error: type[Exception]):
        self.user_error = user_error

    def _filter(self, record) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, self.user_error):
            record.exc_info = record.exc_text = None
        return True

    def __enter__(self):
        import logging

        self.handlers = [h for name in ("prefect", "") for h in logging.getLogger(name).handlers]
        for handler in self.handlers:
            handler.addFilter(self._filter)
        return self

    def __exit__(self, exc_type, exc, tb):
        for handler in self.handlers:
            handler.removeFilter(self._filter)
        if isinstance(exc, self.user_error):
            raise click.ClickException(str(exc))
        return False


def main() -> None:
    """Console entry point: click errors become one line (`Error: ...`), never a usage dump."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.UsageError as exc:
        hint = f" (see 'ganflow {exc.ctx.info_name} --help')" if exc.ctx and exc.ctx.parent else ""
        click.echo(f"Error: {exc.format_message()}{hint}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"Error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
