"""Progress bars for long steps: rich on a terminal, periodic log lines everywhere (Prefect UI too)."""

import logging
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


def progress_bar(*extra_columns, console: Console | None = None) -> Progress:
    """A bar on stderr (or `console`) that disappears when done; silent when that is not a terminal."""
    return _bar(MofNCompleteColumn(), *extra_columns, console=console)


def bytes_bar() -> Progress:
    """Like `progress_bar`, counting bytes (done / total, speed) for downloads."""
    return _bar(DownloadColumn(), TransferSpeedColumn())


def _bar(*count_columns, console: Console | None = None) -> Progress:
    """One line at any terminal width: the bar takes what the text columns leave, the name is cut first."""
    console = console or Console(stderr=True)
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
