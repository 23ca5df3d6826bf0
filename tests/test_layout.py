"""House rules that keep the layout honest: imports point flows -> tasks -> ganmodels, and ruff is clean."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IMPORT = re.compile(r"^\s*(?:from|import)\s+(\w+)", re.MULTILINE)


def _imports(package: str) -> set[str]:
    return {m for path in (ROOT / package).rglob("*.py") for m in IMPORT.findall(path.read_text())}


def test_ganmodels_imports_neither_prefect_nor_the_pipeline():
    assert not _imports("ganmodels") & {"prefect", "tasks", "flows"}


def test_tasks_never_import_flows():
    assert "flows" not in _imports("tasks")


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is installed with the [test] extra")
def test_ruff_is_clean():
    out = subprocess.run(["ruff", "check", "--quiet", str(ROOT)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


RUN_FOLDER_NAMES = re.compile(
    r"""["'/](metrics\.csv|summary\.json|config\.json|best\.json|generator(-last)?\.keras|progress\.gif|"""
    r"""curves\.png|nearest\.png|evaluation\.json|\.ganflow-run)["']"""
)
RUN_FOLDER_OWNERS = {"tasks/train/run_folder.py"}


def test_only_the_run_folder_owner_spells_its_file_names():
    spelled = [
        str(path.relative_to(ROOT))
        for package in ("flows", "tasks", "ganmodels")
        for path in (ROOT / package).rglob("*.py")
        if str(path.relative_to(ROOT)) not in RUN_FOLDER_OWNERS and RUN_FOLDER_NAMES.search(path.read_text())
    ]
    assert spelled == []
