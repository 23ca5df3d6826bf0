"""`ganflow run --help` lists its options under headings, the everyday ones first, in a real terminal too."""

import os
import re
import sys
from pathlib import Path

import pytest

from flows.flow_parameters import FLOW_FIELDS
from flows.params import OPTION_GROUPS, RunParams, option_group

ROOT = Path(__file__).resolve().parents[1]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def test_every_option_has_a_group_and_the_everyday_ones_are_the_flow_s_flat_parameters():
    groups = {name: option_group(name) for name in RunParams.model_fields}
    assert {name for name, group in groups.items() if group not in OPTION_GROUPS} == set()
    assert {name for name, group in groups.items() if group == "everyday"} == set(FLOW_FIELDS)
    assert list(OPTION_GROUPS)[0] == "everyday"


def _sections(text: str) -> dict[str, list[str]]:
    """Help text -> {heading: [--option, ...]} in the order shown."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line and not line.startswith(" ") and line.endswith(":"):
            current = sections.setdefault(line[:-1], [])
        elif current is not None and (flag := re.match(r"\s{2}(--[a-z0-9-]+)", line)):
            current.append(flag[1])
    return sections


@pytest.mark.slow  # a `ganflow` subprocess
def test_run_help_in_a_terminal_is_grouped_with_the_everyday_options_first():
    pexpect = pytest.importorskip("pexpect")
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    child = pexpect.spawn(
        sys.executable, ["-m", "flows.cli", "run", "--help"], env=env, dimensions=(40, 100), encoding="utf-8"
    )
    child.expect(pexpect.EOF, timeout=120)
    child.close()
    assert child.exitstatus == 0
    sections = _sections(ANSI.sub("", child.before).replace("\r", ""))
    expected = [heading for heading in OPTION_GROUPS.values()]
    assert list(sections) == [*expected, "Other options"], list(sections)
    for name in RunParams.model_fields:
        flag = "--" + name.replace("_", "-")
        assert flag in sections[OPTION_GROUPS[option_group(name)]], f"{flag} not under its heading"
    assert sections["Other options"] == ["--verbose"]  # and -h, --help
    assert sections["Everyday options"][:3] == ["--source", "--recipe", "--size"]


def test_sweep_help_shows_its_own_options_first_and_options_md_has_the_same_headings():
    from click.testing import CliRunner

    from flows.cli import cli

    out = CliRunner().invoke(cli, ["sweep", "--help"])
    sections = _sections(out.output)
    assert list(sections)[:2] == ["Options of sweep", "Everyday options"] and "--grid" in sections["Options of sweep"]
    doc = (ROOT / "docs" / "options.md").read_text()
    run_part = doc[doc.index("## `ganflow run`") : doc.index("## `ganflow runs`")]
    assert re.findall(r"^### (.+)$", run_part, re.M) == [*OPTION_GROUPS.values(), "Other options"]
