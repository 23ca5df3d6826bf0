"""Error presentation: what the user can fix becomes one line (`Error: ...`) and an exit code, no traceback.

The commands (flows/cli.py) wrap their work in `one_line_errors`; `run_in_one_line` is the entry point's
last word on click's own errors. Which errors count as the user's is decided in `tasks/errors.py`.
"""

import sys
from collections.abc import Callable

import click
from pydantic import ValidationError

from flows.option_checks import first_problem


def option_error(exc: ValidationError, option_of: Callable[[str], str]) -> click.UsageError:
    """A refused value as click's one-line error, naming the option (`option_of(field)`) it came from."""
    field, message = first_problem(exc)
    if field is None:
        return click.UsageError(message)
    return click.BadParameter(message, param_hint=f"'{option_of(field)}'")


class one_line_errors:
    """Turn a user error raised anywhere in the flow into `Error: ...` and exit 1, with no traceback.

    OS errors a user causes (a read-only or full folder, a file where a folder should be) count too.

    Prefect logs task failures with their tracebacks; for errors the user can fix (bad input, or a
    network that stayed down through every retry), the traceback is noise, so it is dropped from those
    log records.
    """

    def __init__(self, user_error: type[Exception] | tuple[type[Exception], ...], folders: tuple = ()):
        self.user_error, self.folders = user_error, folders

    def _filter(self, record) -> bool:
        from tasks.api_watch import api_gone_line
        from tasks.errors import user_os_error

        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, self.user_error) or user_os_error(exc) or api_gone_line(exc):
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
        from tasks.errors import user_os_error

        if isinstance(exc, self.user_error):
            raise click.ClickException(str(exc)) from None
        if line := user_os_error(exc, self.folders):  # a folder the user chose cannot be written: say which and why
            raise click.ClickException(line) from None
        from tasks.api_watch import api_gone_line

        if line := api_gone_line(exc):  # the server went away and stayed away past the client's retries
            raise click.ClickException(line) from None
        return False


def run_in_one_line(command: click.Command) -> None:
    """Run a click command as the console entry point: its errors become one line, never a usage dump."""
    try:
        command.main(standalone_mode=False)
    except click.exceptions.Abort:  # Ctrl-C outside training, or a second one: at once, with no traceback
        from tasks.train.interrupt import exit_at_once

        click.echo("Aborted.", err=True)
        exit_at_once(130)
    except click.UsageError as exc:
        hint = f" (see 'ganflow {exc.ctx.info_name} --help')" if exc.ctx and exc.ctx.parent else ""
        click.echo(f"Error: {exc.format_message()}{hint}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"Error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
