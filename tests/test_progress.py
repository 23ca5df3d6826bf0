"""The terminal progress bar: one line at any width, with the count and the speed always readable."""

import io
import re

import pytest
from rich.console import Console

from tasks.preprocess.task import ImagesPerSecond
from tasks.progress import progress_bar

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.mark.parametrize("width", [80, 120])
def test_the_bar_is_one_line_that_keeps_count_and_speed(width):
    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=True, color_system=None)
    with progress_bar(ImagesPerSecond(), console=console) as bar:
        task = bar.add_task("preprocess a-dataset-with-a-long-name-of-celebrity-faces", total=50_000)
        bar.update(task, completed=2_560)
        bar.refresh()
    lines = [line for line in ANSI.sub("", out.getvalue()).replace("\r", "\n").splitlines() if line.strip()]
    assert lines, "nothing was drawn"
    for line in lines:  # every redraw, the first one (nothing done yet) too
        assert len(line) <= width, line
        assert "/50000" in line and "img/s" in line and "left" in line
        assert line.startswith("preprocess a-data")  # the name is cut, never the numbers
    assert any("2560/50000" in line for line in lines)
