"""Write docs/options.md, every `ganflow` command and option, from the click commands themselves.

The tables are generated, so they cannot drift from `ganflow --help`: `tests/test_docs.py` fails when
the file differs from what this module renders. After changing an option, regenerate it with

    python -m flows.docgen            # rewrites docs/options.md
    python -m flows.docgen --check    # exit 1 if docs/options.md is out of date
"""

import inspect
import re
import sys
from pathlib import Path

import click

from flows.cli import cli
from flows.help_groups import OWN, option_sections
from tasks.atomic import write_bytes

OPTIONS_MD = Path(__file__).resolve().parents[1] / "docs" / "options.md"
_SHOWN_DEFAULT = re.compile(r"\s*\[default: (?P<value>[^\]]*)\]$")

HEADER = """# Every option of `ganflow`

Generated from the CLI by `python -m flows.docgen`; do not edit by hand. The same text is what
`ganflow COMMAND --help` prints. Options of `ganflow run` are also the fields of the flow's parameters,
so the Prefect UI's "Custom run" form shows the same names (with `_` for `-`) and the same help.

Options that a recipe may set show the default recipe's value; a value you give always beats the
recipe's (see [recipes](recipes.md)).
"""


def _cell(text: str) -> str:
    """Markdown table cell: one line, `|` escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def _flags(param: click.Parameter) -> str:
    names = [*param.opts, *param.secondary_opts]
    if isinstance(param, click.Argument):
        return f"`{(param.metavar or param.name or '').upper()}` (argument)"
    return " / ".join(f"`{name}`" for name in names)


def _value(param: click.Option) -> str:
    """What the option takes: its choices, metavar or type; empty for a switch."""
    if param.is_flag:
        return ""
    if isinstance(param.type, click.Choice):
        return " \\| ".join(f"`{c}`" for c in param.type.choices)
    if param.metavar:
        return _cell(f"`{param.metavar}`")
    if isinstance(param.type, click.types._NumberRangeBase):
        kind = "INTEGER" if isinstance(param.type, click.IntRange) else "FLOAT"
        return f"`{kind}` ({_cell(param.type._describe_range())})"
    return f"`{param.type.name.upper()}`"


def _default(param: click.Option, help_text: str) -> tuple[str, str]:
    """(default shown, help without a trailing `[default: ...]`)."""
    shown = _SHOWN_DEFAULT.search(help_text)
    if shown:
        return f"`{shown['value']}`", help_text[: shown.start()]
    if param.show_default and param.default is not None and not param.is_flag:
        return f"`{param.default}`", help_text
    if param.is_flag and param.show_default and param.secondary_opts:
        on, off = param.opts[0], param.secondary_opts[0]
        return f"`{on if param.default else off}`", help_text
    return "", help_text


def _command_section(name: str, command: click.Command, run_options: set[str]) -> list[str]:
    """One command: its help text and a table of its options, one per group where they have groups.

    A command that takes every `ganflow run` option (serve) lists only its own and links to run's table.
    """
    lines = [f"## `ganflow {name}`", "", inspect.cleandoc(command.help or ""), ""]
    params = [p for p in command.params if isinstance(p, click.Argument)]
    params += [p for p in command.params if isinstance(p, click.Option) and p.name != "help"]
    names = {p.name for p in params}
    takes_run_options = name != "run" and run_options <= names
    if takes_run_options:
        params = [p for p in params if p.name not in run_options]
        lines += ["It also takes every option of [`ganflow run`](#ganflow-run).", ""]
    if not params:
        return [*lines, "No options besides `--help`.", ""]
    if not any(getattr(p, "group", OWN) != OWN for p in params):  # a command with only its own options
        return [*lines, *_table(params), ""]
    arguments = [p for p in params if isinstance(p, click.Argument)]
    if arguments:
        lines += [*_table(arguments), ""]
    for heading, options in option_sections(name, params):  # as in `--help`: the everyday options first
        lines += [f"### {heading}", "", *_table(options), ""]
    return lines


def _table(params: list[click.Parameter]) -> list[str]:
    lines = ["| option | takes | default | meaning |", "| --- | --- | --- | --- |"]
    for param in params:
        if isinstance(param, click.Argument):
            lines.append(f"| {_flags(param)} | | | required |")
            continue
        default, help_text = _default(param, param.help or "")
        lines.append(f"| {_flags(param)} | {_value(param)} | {default} | {_cell(help_text)} |")
    return lines


def render() -> str:
    """The whole of docs/options.md."""
    ctx = click.Context(cli, info_name="ganflow")
    lines = [HEADER, "## `ganflow`", "", inspect.cleandoc(cli.help or ""), ""]
    lines += ["Commands: " + ", ".join(f"[`{n}`](#ganflow-{n})" for n in cli.list_commands(ctx)) + ".", ""]
    run_options = {p.name for p in cli.get_command(ctx, "run").params if getattr(p, "group", OWN) != OWN}
    for name in cli.list_commands(ctx):
        lines += _command_section(name, cli.get_command(ctx, name), run_options)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write docs/options.md, or with --check only say whether it is up to date."""
    argv = sys.argv[1:] if argv is None else argv
    text = render()
    if "--check" in argv:
        if OPTIONS_MD.exists() and OPTIONS_MD.read_text() == text:
            return 0
        print(f"{OPTIONS_MD} is out of date: run `python -m flows.docgen`", file=sys.stderr)
        return 1
    write_bytes(OPTIONS_MD, text.encode())
    print(f"wrote {OPTIONS_MD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
