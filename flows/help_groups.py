"""`ganflow run --help` in sections: the everyday options first, then data, model, training, ...

Seventy-odd options in one list hide the few a person needs. Each `RunParams` field names its group
(flows/params.py, OPTION_GROUPS), its CLI option carries it, and the help and docs/options.md list the
options group by group. A command's own options (sweep's --grid, serve's --cron) come first.
"""

import click

from flows.params import OPTION_GROUPS

OWN = "own"  # the group of a command's own options, those not built from RunParams


class GroupedOption(click.Option):
    """A click option that knows which help section it belongs to."""

    def __init__(self, *args, group: str = OWN, **kwargs):
        super().__init__(*args, **kwargs)
        self.group = group


LAST = ("help", "verbose")  # plain switches every command may have: listed at the end


def option_sections(name: str, params: list[click.Parameter]) -> list[tuple[str, list[click.Parameter]]]:
    """(heading, options) in the order shown: the command's own options, the RunParams groups, then --help."""
    groups: dict[str, list[click.Parameter]] = {OWN: [], **{key: [] for key in OPTION_GROUPS}, "last": []}
    for param in params:
        if isinstance(param, click.Option):
            group = getattr(param, "group", OWN)
            groups["last" if group == OWN and param.name in LAST else group].append(param)
    headings = {OWN: f"Options of {name}", **OPTION_GROUPS, "last": "Other options"}
    return [(headings[key], options) for key, options in groups.items() if options]


class GroupedCommand(click.Command):
    """A command whose --help lists its options under the headings of `option_sections`."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        for heading, options in option_sections(self.name or "", self.get_params(ctx)):
            rows = [row for option in options if (row := option.get_help_record(ctx))]
            if rows:
                with formatter.section(heading):
                    formatter.write_dl(rows)
