"""The pydantic-to-click adapter: one `--kebab-case` option per model field, and the values a user gave.

The commands (flows/cli.py) take their options from the flow's parameter model (flows/params.py) through
this module, so a new field is a new option with its help text, and `docs/options.md` follows.
"""

import json
import typing
from pathlib import Path

import click
from click.core import ParameterSource
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from flows.help_groups import GroupedOption
from flows.params import option_group
from flows.user_errors import option_error
from ganmodels.flags import flag


def _literal(annotation) -> tuple | None:
    """The choices of a `Literal[...]` annotation, also inside `... | None`."""
    if typing.get_origin(annotation) is typing.Literal:
        return typing.get_args(annotation)
    for arg in typing.get_args(annotation):
        if typing.get_origin(arg) is typing.Literal:
            return typing.get_args(arg)
    return None


def _click_type(field: FieldInfo):
    annotation = field.annotation
    if choices := _literal(annotation):
        return click.Choice([str(v) for v in choices])
    for kind in (int, float):
        if kind in (annotation, *typing.get_args(annotation)):
            return kind
    if Path in (annotation, *typing.get_args(annotation)):
        return click.Path(path_type=Path)
    return str


def model_options(model: type[BaseModel], defaults: dict | None = None):
    """Decorate a command with one `--kebab-case` option per model field, defaults and help included.

    A field in `defaults` is passed on only when given (its click default is None, so the model can
    tell), and its help shows the default from `defaults`; a `bool | None` one becomes `--x/--no-x`.
    """
    defaults = defaults or {}

    def decorate(command):
        for name, field in reversed(model.model_fields.items()):
            default = None if field.default is None else field.default
            grouped = {"cls": GroupedOption, "group": option_group(name)}  # its section in --help
            spelled = flag(name)
            if field.annotation is bool:  # a switch: --dedupe / --no-dedupe
                option = click.option(
                    f"{spelled}/--no-{spelled[2:]}",
                    name,
                    default=default,
                    show_default=True,
                    help=field.description,
                    **grouped,
                )
            elif name in defaults:
                shown = f"  [default: {defaults[name]}]" if defaults[name] is not None else ""
                flags = f"{spelled}/--no-{spelled[2:]}" if field.annotation == bool | None else spelled
                kind = {} if field.annotation == bool | None else {"type": _click_type(field)}
                option = click.option(flags, name, default=None, help=f"{field.description}{shown}", **kind, **grouped)
            else:
                option = click.option(
                    spelled,
                    name,
                    type=_click_type(field),
                    default=default,
                    show_default=default is not None,
                    help=field.description,
                    **grouped,
                )
            command = option(command)
        return command

    return decorate


def given_options(model: type[BaseModel], options: dict) -> dict:
    """The options a user gave (on the command line or in the environment), typed; the others are left out."""
    ctx = click.get_current_context(silent=True)
    values = {}
    for name, value in options.items():
        field = model.model_fields[name]
        if value is None or (ctx is not None and ctx.get_parameter_source(name) is ParameterSource.DEFAULT):
            continue
        if choices := _literal(field.annotation):  # click gives the choice as text
            value = next(v for v in choices if str(v) == value)
        values[name] = value
    return values


def build_params(model: type[BaseModel], options: dict) -> BaseModel:
    """Validate CLI options through the model; a bad value becomes one line naming the option."""
    try:
        return model(**given_options(model, options))
    except ValidationError as exc:
        raise option_error(exc, flag) from None


def typed_options(model: type[BaseModel], options: dict) -> dict:
    """The options typed on the command line (not their defaults or the environment's), validated, as JSON values."""
    ctx = click.get_current_context()
    given = {
        name: value
        for name, value in options.items()
        if value is not None and ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE
    }
    params = build_params(model, given)
    return json.loads(params.model_dump_json(include=set(given)))
