"""Prefect cache policy shared by the steps: keyed by inputs and code, valid only while outputs are intact.

Prefect's default policy includes the run id, so nothing would be reused across runs. Ours keys on
the task's inputs, its source, and `CodeIdentity`: the package's version plus a fingerprint of the
sources of every project module the step's module imports, directly or not (Prefect's TASK_SOURCE
covers only the task wrapper's own body, so a changed helper would not count). A cached result that
names a file which has since been deleted, or whose `cache_problem()` reports damage, is not reused:
the record is deleted, the step runs again, and its new result takes the record's place. Every
file a step hands on is stamped in its result (`tasks.hashing.FileStamp`: size and sha256 when written);
a stamp that no longer matches is one warning line naming the file, then the step runs again.

The results (pickles) live in `<data-dir>/task-results/`, one store per data folder whatever folder the
command was typed in, owner-only: a pickle is code, so nobody else may write one where ganflow reads it.
The flow sets the store for its run (`results_under`); the tasks name none, so they use the flow run's.
"""

import ast
import dataclasses
import functools
import hashlib
import importlib.metadata
import importlib.util
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect.cache_policies import INPUTS, TASK_SOURCE, CachePolicy

from tasks.hashing import FileStamp

PROJECT_PACKAGES = ("tasks", "ganmodels", "flows")

RESULTS_FOLDER = "task-results"  # under --data-dir


def _leaves(value: Any, stop: Callable[[Any], bool] = lambda _: False) -> Iterator[Any]:
    """What a task result holds, through dataclass fields, dicts, lists and tuples; `stop` keeps a value whole."""
    if not stop(value):
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            value = [getattr(value, f.name) for f in dataclasses.fields(value)]
        elif isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list | tuple):
            for item in value:
                yield from _leaves(item, stop)
            return
    yield value


def output_paths(value: Any) -> list[Path]:
    """Every Path inside a task result: dataclass fields, dicts, lists and tuples, recursively."""
    return [leaf for leaf in _leaves(value) if isinstance(leaf, Path)]


def _module_file(name: str) -> Path | None:
    """The source file of a project module, or None for anything else (or a name that is not a module)."""
    if name.split(".")[0] not in PROJECT_PACKAGES:
        return None
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    origin = spec.origin if spec else None
    return Path(origin) if origin and origin.endswith(".py") else None


def _registry_modules(package: ast.expr, module: str) -> set[str]:
    """The modules of a registry's package: `Registry("a.b", ...)`, or `Registry(__name__, ...)` in a.b itself."""
    name = package.value if isinstance(package, ast.Constant) else module
    init = _module_file(name) if isinstance(name, str) else None
    if init is None or init.name != "__init__.py":
        return set()
    return {f"{name}.{p.stem}" for p in init.parent.glob("*.py") if p.stem != "__init__"}


# A project module named in a string: a table of modules imported when needed (ganmodels/networks.py).
_MODULE_TEXT = re.compile(rf"({'|'.join(PROJECT_PACKAGES)})(\.\w+)+")


def _imported(name: str, path: Path) -> set[str]:
    """Project modules that `path` imports anywhere in it (also inside functions); a `Registry("package", ...)`
    (ganmodels/plugins.py: the metrics, losses and source kinds) reaches every module of its package, and
    a string that is a module's whole name (a table imported lazily, as the architectures') reaches it."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _MODULE_TEXT.fullmatch(node.value):
            found.add(node.value)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Registry" and node.args:
            found.update(_registry_modules(node.args[0], name))
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from pkg import module`
    return {m for m in found if _module_file(m)}


@functools.cache
def code_fingerprint(module: str) -> str:
    """sha256 of the package version and the sources of `module` and every project module it reaches."""
    seen: dict[str, Path] = {}
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen or (path := _module_file(name)) is None:
            continue
        seen[name] = path
        todo.extend(_imported(name, path))
    digest = hashlib.sha256(_version().encode())
    for name in sorted(seen):
        digest.update(f"\0{name}\0".encode() + seen[name].read_bytes())
    return digest.hexdigest()


def _version() -> str:
    try:
        return importlib.metadata.version("ganflow")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


@dataclass
class CodeIdentity(CachePolicy):
    """Keys on the code the step runs: the package version and the sources its module reaches."""

    def compute_key(self, task_ctx, inputs, flow_parameters, **kwargs) -> str | None:
        if not task_ctx:
            return None
        return code_fingerprint(task_ctx.task.fn.__module__)


def _reports_problems(value: Any) -> bool:
    return callable(getattr(value, "cache_problem", None))


def _damaged(value: Any) -> list[tuple[Any, str]]:
    """Each object inside a task result that reports a problem with its files, with what it says, recursively."""
    reporting = (leaf for leaf in _leaves(value, _reports_problems) if _reports_problems(leaf))
    return [(leaf, problem) for leaf in reporting if (problem := leaf.cache_problem())]


def cache_problems(value: Any) -> list[str]:
    """What the objects inside a task result say is wrong with their files (`cache_problem()`), recursively."""
    return [problem for _, problem in _damaged(value)]


def key_policy(base: CachePolicy = INPUTS) -> CachePolicy:
    """`base` (the inputs that matter) plus the code: the task's own source and the modules it reaches."""
    return base + TASK_SOURCE + CodeIdentity()


@dataclass
class OutputsExist(CachePolicy):
    """Wraps a key policy: no cache hit while a file named by the cached result is missing or damaged.

    Damage is what a result's `cache_problem()` reports. A `FileStamp` that no longer matches is named here,
    in one warning line (the steps that rewrite such files need not look); other objects (the preprocess
    cache) are checked again by the step that then runs, which says what it found.
    """

    base: CachePolicy = dataclasses.field(default_factory=key_policy)

    def compute_key(self, task_ctx, inputs, flow_parameters, **kwargs) -> str | None:
        key = self.base.compute_key(task_ctx=task_ctx, inputs=inputs, flow_parameters=flow_parameters, **kwargs)
        store = getattr(task_ctx, "result_store", None)
        if key and store is not None and store.exists(key):
            try:
                cached = store.read(key).result
            except Exception:  # a record cut short (kill -9 or a full disk while Prefect wrote it): not a result
                _forget(store, key)
                return key
            if not all(p.exists() for p in output_paths(cached)) or _refused(task_ctx, cached):
                _forget(store, key)  # the step runs; Prefect then writes its new record under the same key
        return key


def _refused(task_ctx, cached: Any) -> bool:
    """Whether anything in the cached result reports damage; changed stamps are named in one warning line."""
    from tasks.progress import run_logger

    problems = _damaged(cached)
    changed = [p for leaf, p in problems if isinstance(leaf, FileStamp)]
    if changed:
        more = f" (and {len(changed) - 1} more)" if len(changed) > 1 else ""
        name = getattr(getattr(task_ctx, "task", None), "name", "step")
        run_logger().warning("%s: the cached result is not reused: %s%s; the step runs again", name, changed[0], more)
    return bool(problems)


def _forget(store, key: str) -> None:
    """Delete a refused record: Prefect never overwrites one, and the new result (with new stamps: a rewritten
    generator.keras differs in its saved date) must take its key, or every later run would refuse it again."""
    from prefect.filesystems import LocalFileSystem

    storage = store.result_storage
    if isinstance(storage, LocalFileSystem):  # ours (`results_under`) always is
        path = Path(storage.basepath or ".").expanduser().resolve() / key
        path.unlink(missing_ok=True)
        for name in (key, str(path)):  # what this process may remember of it
            store.cache.pop(name, None)


def step_options(**overrides: Any) -> dict[str, Any]:
    """The decorator policy every pipeline task shares; pass overrides such as `retries`."""
    from tasks.errors import is_retryable

    options: dict[str, Any] = {
        "cache_policy": OutputsExist(),
        "persist_result": True,
        "retries": 1,
        "retry_delay_seconds": 2,
        "retry_condition_fn": is_retryable,
    }
    options.update(overrides)
    return options


def result_storage_dir(data_dir: Path) -> Path:
    """`<data-dir>/task-results`, created owner-only; refused when someone else owns it or may write in it."""
    from tasks.errors import UserError

    folder = Path(data_dir) / RESULTS_FOLDER
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.stat()
    if info.st_uid != os.geteuid():
        raise UserError(
            f"--data-dir: {folder} belongs to another user, and ganflow loads pickled results from it; "
            "use a --data-dir of your own"
        )
    if info.st_mode & 0o077:
        folder.chmod(0o700)  # ours, but others could read or plant pickles: close it
    return folder


@contextmanager
def results_under(data_dir: Path) -> Iterator[Path]:
    """Within a flow run: every task it runs keeps its results in `result_storage_dir(data_dir)`.

    A task's `result_storage` is fixed when its module is imported, before any `--data-dir` is known; a
    task that names none takes the flow run's result store, so this swaps that store for the run.
    """
    from prefect.context import FlowRunContext
    from prefect.filesystems import LocalFileSystem

    folder = result_storage_dir(data_dir)
    context = FlowRunContext.get()
    if context is None:  # a step's plain function called outside a flow: nothing to configure
        yield folder
        return
    store = context.result_store.model_copy(update={"result_storage": LocalFileSystem(basepath=str(folder))})
    with context.model_copy(update={"result_store": store}):
        yield folder
