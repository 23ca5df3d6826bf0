"""Named presets of `ganflow run` options: the original projects' published choices, and ganflow's own.

A recipe only sets option values; any option given explicitly beats it (flows/params.py resolves
them: given value, else the recipe's, else the option's fallback). The recipes are data, in
flows/recipes.toml: each setting carries where in the seed it comes from (file and the line, or the
README's sentence) and, where ganflow differs, why. Rows without an option record what a seed fixed that
is not an option (the update order, what an epoch was), so a reader who knows the seed finds every point
of it here. `ganflow recipes` prints these tables and docs/recipes.md is rendered from them
(`render_markdown`, by flows/recipe_docs.py).
"""

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from flows import recipe_docs

DATA = Path(__file__).with_name("recipes.toml")


@dataclass(frozen=True)
class Row:
    """One setting of a recipe: the option (None for a fact that is no option), its value, its source, and
    why ganflow differs from the seed, if it does."""

    option: str | None
    value: Any
    source: str
    differs: str = ""


@dataclass(frozen=True)
class Recipe:
    name: str
    summary: str
    source: str
    rows: tuple[Row, ...] = ()

    @property
    def settings(self) -> dict[str, Any]:
        """The option values this recipe sets."""
        return {r.option: r.value for r in self.rows if r.option is not None}


def load(path: Path = DATA) -> tuple[dict[str, Recipe], str]:
    """The recipes in file order (the first is the default), and the note that holds for every recipe."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    recipes: dict[str, Recipe] = {}
    for entry in data["recipe"]:
        rows = [Row(r.get("option"), r["value"], r["source"], r.get("differs", "")) for r in entry.get("row", ())]
        if inherit := entry.get("inherit"):  # another recipe's rows for these options, their sources prefixed
            kept = [r for r in recipes[inherit["recipe"]].rows if r.option in inherit["options"]]
            rows = [Row(r.option, r.value, inherit["source_prefix"] + r.source) for r in kept] + rows
        recipes[entry["name"]] = Recipe(entry["name"], entry["summary"], entry["source"], tuple(rows))
    return recipes, data["every_recipe"]


RECIPES, EVERY_RECIPE = load()  # EVERY_RECIPE: what no recipe sets, said once for all of them
RecipeName = Literal[tuple(RECIPES)]
DEFAULT_RECIPE: RecipeName = next(iter(RECIPES))
render_text = recipe_docs.render_text


def render_markdown() -> str:
    """docs/recipes.md: one table per recipe (setting, value, where in the seed, why ganflow differs)."""
    return recipe_docs.render_markdown(RECIPES.values(), EVERY_RECIPE, DEFAULT_RECIPE)


if __name__ == "__main__":
    print(render_markdown(), end="")
