"""The deployments' pull step: run the flow in the ganflow checkout on the worker's machine.

A process worker starts each flow run in a new temporary folder. The run needs the checkout there: the
entrypoint `flows/ganflow.py` is found relative to it, and relative `run_dir`/`data_dir` values land in it
(so a nightly run finds last night's run folder and the shared caches). The folder is decided on the
worker at run time, never at deploy time: `$GANFLOW_PROJECT_DIR` if the worker has it, else the checkout
that `pip install -e .` installed `flows` from.
"""

import os
from pathlib import Path

ENTRYPOINT = Path("flows") / "ganflow.py"


def installed_checkout() -> Path:
    """The folder that holds the `flows` package this process imported."""
    return Path(__file__).resolve().parents[1]


def set_project_directory(directory: str = "") -> dict[str, str]:
    """Prefect pull step: chdir to `directory` (empty: the installed checkout); returns it as `directory`."""
    target = Path(directory).expanduser().resolve() if directory.strip() else installed_checkout()
    if not (target / ENTRYPOINT).is_file():
        raise FileNotFoundError(
            f"{target} is not a ganflow checkout (no {ENTRYPOINT}): on the worker's machine, "
            "`pip install -e .` in a checkout, or set GANFLOW_PROJECT_DIR to one before `prefect worker start`"
        )
    os.chdir(target)
    return {"directory": str(target)}
