"""How far a run that continues should train: the epochs its folder already holds, plus `--more-epochs`.

A scheduled deployment runs with the same parameters every time; a fixed total (`--epochs`) would be
reached once and then every later run would find nothing to do. `--more-epochs N` makes each run train N
epochs past what the run folder holds. The target is computed once per flow run and cached by its id, so
`prefect flow-run retry` of a failed night aims at that night's target instead of moving it on.
"""

from pathlib import Path

from prefect import task
from prefect.cache_policies import INPUTS, RUN_ID

from tasks.run_folder import RunFolder


@task(
    name="plan-epochs",
    task_run_name="plan-epochs[{more_epochs} more]",
    cache_policy=RUN_ID + INPUTS,
    persist_result=True,  # in the flow run's result store (tasks/caching.results_under)
)
def epoch_target(run_dir: Path, more_epochs: int, restart: bool = False) -> int:
    """The total epochs this flow run trains to."""
    return (0 if restart else RunFolder(run_dir).trained_epochs()) + more_epochs


def nothing_to_train(run_dir: Path, reached: int, target: int) -> str:
    """The one line that says why a run trained nothing: `--epochs` is the total its folder trains to."""
    where = f"{run_dir} is already at epoch {reached}"
    asked = f"--epochs {target}" + (" (a total, not a number to add)" if reached > target else "")
    return (
        f"Nothing to train: {where}, and {asked} is reached. To train on, pass a larger --epochs "
        f"(e.g. --epochs {reached + max(target, 1)}), --more-epochs N for N more, or another --run-dir for a new run"
    )
