"""Progress bars for long steps: rich on a terminal, periodic log lines everywhere (Prefect UI too).

One rich console carries both the bars and Prefect's console log lines. Two consoles writing to one
terminal collide: a log line printed while a live bar is drawn lands on the bar's line
(`... 0:00:0221:00:48.528 | INFO | Task run ...`) and a stale bar is left behind. Through one console,
rich prints each log line above the live bars and redraws them below.
"""

import logging
import sys
import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Column
from rich.theme import Theme

_CONSOLE: Console | None = None


def terminal_console() -> Console:
    """The one console of this process, on stderr, that bars and Prefect's log lines share."""
    global _CONSOLE
    if _CONSOLE is None:
        # No markup in printed strings, as in Prefect's console: "train[run to epoch 3]" is a task name, not a tag.
        _CONSOLE = Console(stderr=True, markup=False)
    return _CONSOLE


def prefect_console_handlers() -> list[logging.Handler]:
    """Prefect's console log handlers (the root logger's, shared by uvicorn's and fastapi's loggers)."""
    if "prefect.logging.handlers" not in sys.modules:  # Prefect not imported: nothing to route
        return []
    from prefect.logging.handlers import PrefectConsoleHandler

    loggers = [logging.getLogger(), logging.getLogger("prefect")]
    return [h for logger in loggers for h in logger.handlers if isinstance(h, PrefectConsoleHandler)]


def share_console_with_prefect_logs(console: Console | None = None) -> None:
    """Make Prefect's console handler print through `console`, keeping its colours; idempotent.

    Prefect's handler prints with `handler.console.print`; its highlighter and theme (the `log.*`
    styles) are carried over, so its lines look as before.
    """
    console = console or terminal_console()
    for handler in prefect_console_handlers():
        own = handler.console
        if own is console:
            continue
        stack = getattr(own, "_theme_stack", None)
        styles = getattr(stack, "_entries", [{}])[-1] if stack is not None else {}
        console.push_theme(Theme({k: v for k, v in styles.items() if k.startswith("log.")}))
        console.highlighter = own.highlighter
        handler.console = console


class QuietPrefect(logging.Filter):
    """Keep Prefect's own INFO chatter off the terminal; flow-run and task-run lines and warnings stay.

    The temporary server's two-line notice becomes one line that says what the wait is for; its
    stop notice is dropped. `ganflow run --verbose` does not install this filter.
    """

    KEEP = ("prefect.flow_runs", "prefect.task_runs")
    STARTING = "Starting temporary server"
    SAYS = "starting a temporary Prefect server for this run (10-20 s); set PREFECT_API_URL to use a running one"

    def filter(self, record: logging.LogRecord) -> bool:
        if (
            record.levelno >= logging.WARNING
            or not record.name.startswith("prefect")
            or record.name.startswith(self.KEEP)
        ):
            return True
        if isinstance(record.msg, str) and record.msg.startswith(self.STARTING):
            record.msg = self.SAYS
            record.args = ()
            return True
        return False


def quiet_prefect_chatter() -> None:
    """Install `QuietPrefect` on Prefect's console handlers (once)."""
    for handler in prefect_console_handlers():
        if not any(isinstance(f, QuietPrefect) for f in handler.filters):
            handler.addFilter(QuietPrefect())


def progress_bar(*extra_columns, console: Console | None = None) -> Progress:
    """A bar on stderr (or `console`) that disappears when done; silent when that is not a terminal."""
    return _bar(MofNCompleteColumn(), *extra_columns, console=console)


def bytes_bar() -> Progress:
    """Like `progress_bar`, counting bytes (done / total, speed) for downloads."""
    return _bar(DownloadColumn(), TransferSpeedColumn())


def _bar(*count_columns, console: Console | None = None) -> Progress:
    """One line at any terminal width: the bar takes what the text columns leave, the name is cut first."""
    if console is None:
        console = terminal_console()
        share_console_with_prefect_logs(console)
    for column in count_columns:
        column.table_column = Column(no_wrap=True)
    return Progress(
        TextColumn("[bold]{task.description}", table_column=Column(no_wrap=True, overflow="ellipsis", ratio=3)),
        BarColumn(bar_width=None, table_column=Column(ratio=2, min_width=10)),
        *count_columns,
        TimeElapsedColumn(table_column=Column(no_wrap=True)),
        TextColumn("left", table_column=Column(no_wrap=True)),
        TimeRemainingColumn(table_column=Column(no_wrap=True)),
        console=console,
        transient=True,
        expand=True,
        disable=not console.is_terminal,
    )


class Throttled:
    """Log at most every `seconds`, so long loops report without flooding."""

    def __init__(self, logger: logging.Logger | logging.LoggerAdapter, seconds: float = 10.0):
        self.logger, self.seconds, self._last = logger, seconds, time.monotonic()

    def info(self, msg: str, *args, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last >= self.seconds:
            self._last = now
            self.logger.info(msg, *args)


def run_logger() -> logging.Logger | logging.LoggerAdapter:
    """Prefect's run logger inside a run (it reaches the UI), a plain logger when called directly."""
    from prefect import get_run_logger
    from prefect.exceptions import MissingContextError

    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("ganflow")
