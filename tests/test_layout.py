"""House rules that keep the layout honest: imports point flows -> tasks -> ganmodels, no module imports one that
imports it back, no pipeline step imports a later one, and ruff is clean."""

import ast
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


PACKAGES = ("flows", "tasks", "ganmodels")
STEPS = ("acquire", "preprocess", "train", "report")  # tasks/<step>/, in pipeline order


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _project_modules() -> dict[str, Path]:
    return {_module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")}


def _imported(node: ast.AST, modules: dict[str, Path]) -> set[str]:
    """The project modules one import statement names (every import counts: local, TYPE_CHECKING, lazy)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
    else:
        return set()
    found = set()
    for name in names:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        if name:
            found.add(name)
    return found


def import_graph() -> dict[str, set[str]]:
    """module -> the project modules it imports, parsed with ast (no import runs)."""
    modules = _project_modules()
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), str(path))
        graph[name] = {m for node in ast.walk(tree) for m in _imported(node, modules) if m != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def _step(module: str) -> int | None:
    """The pipeline position of a module under tasks/<step>/; None for flows, ganmodels and shared tasks/*.py."""
    parts = module.split(".")
    return STEPS.index(parts[1]) if parts[0] == "tasks" and len(parts) > 1 and parts[1] in STEPS else None


def test_no_module_imports_one_that_imports_it_back():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_step_imports_a_later_step_and_shared_modules_import_no_step():
    wrong = []
    for module, imports in import_graph().items():
        if not module.startswith("tasks."):
            continue
        own = _step(module)
        for target in imports:
            theirs = _step(target)
            if theirs is not None and (own is None or theirs > own):
                wrong.append(f"{module} -> {target}")
    assert sorted(wrong) == []


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is installed with the [test] extra")
def test_ruff_is_clean():
    out = subprocess.run(["ruff", "check", "--quiet", str(ROOT)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


RUN_FOLDER_NAMES = re.compile(
    r"""["'/](metrics\.csv|summary\.json|config\.json|best\.json|generator(-last)?\.keras|progress\.gif|"""
    r"""curves\.png|nearest\.png|evaluation\.json|\.ganflow-run)["']"""
)
RUN_FOLDER_OWNERS = {"tasks/run_folder.py"}


def test_only_the_run_folder_owner_spells_its_file_names():
    spelled = [
        str(path.relative_to(ROOT))
        for package in ("flows", "tasks", "ganmodels")
        for path in (ROOT / package).rglob("*.py")
        if str(path.relative_to(ROOT)) not in RUN_FOLDER_OWNERS and RUN_FOLDER_NAMES.search(path.read_text())
    ]
    assert spelled == []


@pytest.mark.parametrize("package", ["flows", "tasks"])
def test_no_function_in_flows_or_tasks_is_over_60_lines(package):
    long = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for path in (ROOT / package).rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno - node.lineno + 1 > 60
    ]
    assert long == []
