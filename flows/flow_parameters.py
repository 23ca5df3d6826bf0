"""The flow's parameters as Prefect sees them: flat fields for what people change, the rest in one group.

Prefect merges a deployment's parameters with those of a run per top-level key, so
`prefect deployment run ganflow/celeba-nightly --param epochs=40` keeps the deployment's source, size
and run folder only when `epochs` is a top-level parameter. The everyday options (`FLOW_FIELDS`) are
therefore flat parameters; every other `RunParams` field goes into one typed group, `RunOptions`
(the `options` parameter). Both are generated from `RunParams`' own field definitions (types,
bounds, descriptions), and the flow converts them back into one validated `RunParams` before any task.

A recipe must take effect in the UI form: every field a recipe may set defaults to None ("not given"),
so the form shows it empty and the recipe, or the option's fallback, fills it in at validation.
"""

import copy
import inspect
import json
import threading
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, GetJsonSchemaHandler, ValidationError, create_model
from pydantic.fields import FieldInfo

from flows.option_checks import first_problem
from flows.params import RunParams, _fallback, tunable_names
from tasks.errors import UserError

FLOW_FIELDS = (
    "source",
    "size",
    "channels",
    "crop",
    "epochs",
    "more_epochs",
    "batch_size",
    "recipe",
    "seed",
    "holdout",
    "run_dir",
    "data_dir",
)
OPTIONS = "options"  # the flow parameter that holds every other option


class ChoiceOrEmpty:
    """In the form, an optional choice is one list: `size` offers 28, 32, 64 and None (empty: the recipe's value).

    Prefect's UI draws `Literal[...] | None` as a switch between "int" and "None" that reads "Property is type
    None" and lists no choices. One `enum` that holds null draws a select with every choice, and an empty
    field (null, the default) still means "not given". Only the form's schema changes; validation reads the
    annotation.
    """

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        schema = handler(core_schema)
        branches = schema.get("anyOf", [])
        choices = [b.get("enum", [True, False] if b.get("type") == "boolean" else None) for b in branches]
        if len(branches) == 2 and {"type": "null"} in branches and any(choices):
            schema.pop("anyOf")
            schema["enum"] = [*next(c for c in choices if c), None]
        return schema


def _optional_choice(annotation: Any) -> bool:
    """`Literal[...] | None` or `bool | None`: a choice that may be left empty."""
    args = typing.get_args(annotation)
    return type(None) in args and any(a is bool or typing.get_origin(a) is typing.Literal for a in args)


def _in_form(annotation: Any, metadata: list[Any] = ()) -> Any:
    """The annotation with its bounds; an optional choice marked to be one select in the form."""
    marks = [*metadata, ChoiceOrEmpty()] if _optional_choice(annotation) else list(metadata)
    return Annotated[annotation, *marks] if marks else annotation


def _description(name: str, field: FieldInfo) -> str:
    """The field's help, plus what an empty tunable becomes (the form shows no default for it).

    The UI renders it as markdown, where `<source>` would vanish as an HTML tag: angle brackets become entities.
    """
    text = (field.description or "").replace("<", "&lt;").replace(">", "&gt;")
    if name in tunable_names():
        fallback = _fallback(name)
        fallback = f"{fallback}" if fallback is not None else "as the description says"
        empty = "Empty (None)" if _optional_choice(field.annotation) else "Empty"
        text += f" {empty}: the recipe's value, else {fallback}."
    return text


def _option_fields() -> dict[str, Any]:
    fields = {}
    for name, field in RunParams.model_fields.items():
        if name in FLOW_FIELDS:
            continue
        grouped = copy.copy(field)
        grouped.description = _description(name, field)
        fields[name] = (_in_form(field.annotation), grouped)
    return fields


RunOptions: type[BaseModel] = create_model(
    "RunOptions",
    __config__=ConfigDict(extra="forbid"),
    __doc__="Model, training, data and evaluation options; empty ones take the recipe's value, else the default.",
    **_option_fields(),
)


def _flat_parameter(name: str) -> inspect.Parameter:
    """A keyword parameter with the field's type and bounds (the bounds ride in `Annotated`)."""
    field = RunParams.model_fields[name]
    annotation = _in_form(field.annotation, field.metadata)
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=field.default, annotation=annotation)


def _args_section() -> str:
    """A Google-style `Args:` section: Prefect takes each parameter's description in the form from it."""
    lines = [f"    {name}: {_description(name, RunParams.model_fields[name])}" for name in FLOW_FIELDS]
    lines.append(f"    {OPTIONS}: {RunOptions.__doc__}")
    return "\n\nArgs:\n" + "\n".join(lines) + "\n"


def flow_signature(return_annotation: Any = inspect.Signature.empty) -> inspect.Signature:
    """`source=..., size=..., ..., options=RunOptions()`: what Prefect validates and the UI shows as a form."""
    flat = [_flat_parameter(name) for name in FLOW_FIELDS]
    grouped = inspect.Parameter(OPTIONS, inspect.Parameter.KEYWORD_ONLY, default=RunOptions(), annotation=RunOptions)
    return inspect.Signature([*flat, grouped], return_annotation=return_annotation)


F = TypeVar("F", bound=Callable[..., Any])


def with_flow_parameters(fn: F) -> F:
    """Give a `def f(**parameters)` the flat signature, before `@flow` reads it for the parameter schema."""
    fn.__signature__ = flow_signature(inspect.signature(fn).return_annotation)  # type: ignore[attr-defined]
    fn.__doc__ = inspect.cleandoc(fn.__doc__ or "") + _args_section()
    return fn


def run_params(parameters: dict[str, Any]) -> RunParams:
    """The flow's parameters as one validated `RunParams`; a value that does not fit is one line naming it.

    None means "not given" (the recipe's value or the fallback applies). Parameters that `of_run` made from
    options validated in this process (`ganflow run` checked them before the flow ran) are those options
    again, not validated a second time.
    """
    options = parameters.get(OPTIONS) or {}
    if isinstance(options, BaseModel):
        options = options.model_dump()
    given = {k: v for k, v in {**options, **{k: parameters.get(k) for k in FLOW_FIELDS}}.items() if v is not None}
    with _HANDING_OVER:
        checked = _VALIDATED.pop(_fingerprint(given), None)
    if checked is not None:
        return checked
    try:
        return RunParams(**given)
    except ValidationError as exc:
        name, message = first_problem(exc)
        if name:
            message = f"parameter {name if name in FLOW_FIELDS else f'{OPTIONS}.{name}'}: {message}"
        raise UserError(message) from None


# Options validated in this process, by the fingerprint of the parameters `of_run` made of them; each is taken
# back (and forgotten) by the flow run it was made for.
_VALIDATED: dict[str, RunParams] = {}
MAX_HANDED_OVER = 64  # the newest; an older one's flow run validates its parameters itself
_HANDING_OVER = threading.Lock()


def _fingerprint(given: dict[str, Any]) -> str:
    """The given values as text: equal for the options `of_run` dumped and for what the flow receives of them."""
    return json.dumps(given, sort_keys=True, default=str)


def flow_parameters(given: dict[str, Any]) -> dict[str, Any]:
    """Option values (only those given) as the flow's parameters: flat ones at the top, the rest in `options`.

    Works for a resolved `RunParams` dump as well as for a user's few options; folders stay as given.
    """
    unknown = set(given) - set(RunParams.model_fields)
    if unknown:
        raise ValueError(f"not options of a run: {', '.join(sorted(unknown))}")
    flat = {k: v for k, v in given.items() if k in FLOW_FIELDS}
    options = {k: v for k, v in given.items() if k not in FLOW_FIELDS}
    return {**flat, OPTIONS: options} if options else flat


def of_run(params: RunParams) -> dict[str, Any]:
    """A validated run's every option as the flow's parameters, e.g. `ganflow(**of_run(params))`; the flow run
    in this process takes `params` back for them (`run_params`) instead of validating them again."""
    given = params.model_dump(exclude_none=True)
    with _HANDING_OVER:  # a sweep starts its children's flow runs from several threads
        _VALIDATED[_fingerprint(given)] = params
        while len(_VALIDATED) > MAX_HANDED_OVER:  # parameters made for a deployment are never taken back here
            del _VALIDATED[next(iter(_VALIDATED))]
    return flow_parameters(given)


def as_json(parameters: dict[str, Any]) -> dict[str, Any]:
    """Paths as text, as a deployment stores them."""
    return {
        k: as_json(v) if isinstance(v, dict) else str(v) if isinstance(v, Path) else v for k, v in parameters.items()
    }
