"""The recipes as text: the tables `ganflow recipes` prints and docs/recipes.md (flows/recipes.py holds the data).

Given the recipes rather than importing them, so flows/recipes.py can offer `render_markdown()` and its
`python -m flows.recipes` without the two modules importing each other.
"""

from collections.abc import Iterable
from typing import Any

from ganmodels.flags import flag

Recipe = Any  # a flows.recipes.Recipe (name, summary, source, rows, settings); not imported, see above


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _given(option: str, value: Any) -> str:
    """The option as typed on the command line: booleans are flags (--x / --no-x)."""
    if isinstance(value, bool):
        return flag(option) if value else "--no-" + flag(option)[2:]
    return f"{flag(option)} {value}"


def render_text(recipe: Recipe) -> list[str]:
    """The recipe as `ganflow recipes` prints it: the options it sets, then each setting's source."""
    lines = [f"    source: {recipe.source}"]
    lines.append("    sets: " + (" ".join(_given(k, v) for k, v in recipe.settings.items()) or "(nothing)"))
    for row in recipe.rows:
        name = flag(row.option) if row.option else "(not an option)"
        lines.append(f"      {name} {row.value}: {row.source}")
        if row.differs:
            lines.append(f"          ganflow differs: {row.differs}")
    return lines


def render_markdown(recipes: Iterable[Recipe], every_recipe: str, default: str) -> str:
    """docs/recipes.md: one table per recipe (setting, value, where in the seed, why ganflow differs)."""
    out = [
        "# Recipes: the original projects' settings, point by point",
        "",
        "`ganflow run --recipe NAME` sets the options below; any option given on the command line beats the "
        "recipe's value. Each row says where in the original project the value comes from (its file and the line, "
        "or its README's sentence) and, where ganflow differs, why. Rows marked *(not an option)* record what an "
        "original project fixed that no option changes. `ganflow recipes` prints the same tables; this page is rendered from "  # noqa: E501 - the rendered page is compared as it is
        "`flows/recipes.py` (`python -m flows.recipes > docs/recipes.md`), and a test keeps the two equal. The "
        "default recipe against the faithful `seed-celeb32`: [quality.md](quality.md).",
        "",
        every_recipe.replace("(docs/first-run.md)", "([first-run.md](first-run.md))"),
        "",
    ]
    for recipe in recipes:
        marker = " (default)" if recipe.name == default else ""
        out += [f"## `{recipe.name}`{marker}", "", f"{recipe.summary}.", "", f"Source: {recipe.source}.", ""]
        out += ["| setting | value | where in the seed | where ganflow differs, and why |", "| --- | --- | --- | --- |"]
        for row in recipe.rows:
            name = f"`{flag(row.option)}`" if row.option else "*(not an option)*"
            out.append(f"| {name} | {_cell(row.value)} | {_cell(row.source)} | {_cell(row.differs)} |")
        out.append("")
    return "\n".join(out)
