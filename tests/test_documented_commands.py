"""Every `prefect deployment run ganflow/NAME --param ...` the docs show is a run the flow accepts."""

import json
import re
from pathlib import Path

import pytest
import yaml

from flows.flow_parameters import run_params

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
COMMAND = re.compile(
    r"""prefect\ deployment\ run\ ganflow/([\w-]+)
    ((?: (?:[ \t]*\\?\n[ \t]*|[ \t]+) --(?:param|watch)\S* (?:[ \t]+[^\s`\\-]\S*)? )*)""",
    re.VERBOSE,
)  # the options may go on over a line break, in a shell (`\`) or in a paragraph


def documented_runs() -> list[tuple[str, str, dict]]:
    runs = []
    for page in PAGES:
        for name, args in COMMAND.findall(page.read_text()):
            given = dict(re.findall(r"--param\s+([\w]+)=(\S+?)`?(?=\s|$)", args))
            runs.append((page.name, name, {k: _json(v) for k, v in given.items()}))
    return runs


def _json(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


DEPLOYMENTS = {d["name"]: d for d in yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]}


@pytest.mark.parametrize(("page", "name", "given"), [run for run in documented_runs() if run[1] in DEPLOYMENTS])
def test_a_documented_deployment_run_is_accepted(page, name, given):
    """prefect.yaml's deployments (others, such as `ganflow serve`'s, are made on the page itself)."""
    run_params({**DEPLOYMENTS[name].get("parameters", {}), **given})  # a refusal is a UserError naming the parameter


def test_the_commands_are_found():
    found = {(name, tuple(sorted(given))) for _, name, given in documented_runs()}
    assert ("celeba-nightly", ("more_epochs",)) in found and ("sample-demo", ("epochs", "size")) in found
    assert ("sample-demo", ("epochs", "run_dir")) in found  # continued over a line break
    assert ("celeba-nightly", ("more_epochs",)) in {(n, tuple(g)) for p, n, g in documented_runs() if p == "README.md"}
