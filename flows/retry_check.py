"""`ganflow retry`: a retry that takes, or one line saying it did not.

`prefect flow-run retry` schedules a deployment's run again and returns. When the run's process was
killed, the worker may report it Crashed a few seconds after the run already looked final (the process
that ran it reports first, the worker later); a retry made in between is silently undone by that late
report (the worker's Crashed lands on the Scheduled state) and nothing runs. So after scheduling, this
watches the run until it is Running again, and schedules it again when it was undone (`outcome`).
"""

import time
from collections.abc import Callable
from uuid import UUID

RETRIED_MESSAGE = "Retried via CLI"  # the Scheduled state's message `prefect flow-run retry` sets
SETTLE_SECONDS = 15  # how long a run that is still Running or Pending may take to reach its final state
PICK_UP_SECONDS = 30  # how long to wait for a worker to pick the retry up, before leaving it to a later one
START_SECONDS = 300  # once picked up, how long the flow may take to start (pull step, imports on a busy machine)
ATTEMPTS = 3
POLL_SECONDS = 0.5

TAKEN, WAITING, UNDONE = "taken", "waiting", "undone"


def _client():
    from prefect import get_client

    return get_client(sync_client=True)


def run_id_of(flow_run: str) -> UUID | None:
    try:
        return UUID(flow_run)
    except ValueError:
        return None  # a run's name: `prefect flow-run retry` resolves it and says what it finds


def is_deployment_run(run_id: UUID) -> bool:
    with _client() as client:
        try:
            return client.read_flow_run(run_id).deployment_id is not None
        except Exception:  # not found or refused: `prefect flow-run retry` says why
            return False


def settle(run_id: UUID, seconds: float = SETTLE_SECONDS) -> None:
    """Give a run whose process just died the time to be reported final, so the retry is not refused."""
    deadline = time.monotonic() + seconds
    with _client() as client:
        while time.monotonic() < deadline:
            state = client.read_flow_run(run_id).state
            if state is None or state.is_final():
                return
            time.sleep(POLL_SECONDS)


def outcome(run_id: UUID, pick_up: float = PICK_UP_SECONDS, start: float = START_SECONDS) -> tuple[str, str]:
    """What became of the retry: taken (it is Running again), undone (a final state came after ours and no
    attempt ran; with that state's name), or waiting (no worker picked it up within `pick_up` s).

    A late Crashed that lands after a worker started the new attempt (Pending) does not stop that attempt:
    its process still moves the run to Running. So only a retry that no worker started, or whose attempt
    never ran within `start` s, counts as undone: scheduling again then cannot start a second copy.
    """
    deadline, picked_up = time.monotonic() + pick_up, False
    with _client() as client:
        while True:
            states = client.read_flow_run_states(run_id)
            ours = max(
                (i for i, s in enumerate(states) if s.is_scheduled() and s.message == RETRIED_MESSAGE), default=None
            )
            if ours is None:
                return UNDONE, states[-1].name if states else "unknown"
            after = states[ours + 1 :]
            if any(s.is_running() for s in after):
                return TAKEN, ""
            if not picked_up and any(s.is_pending() for s in after):  # a worker started it: let the flow start
                deadline, picked_up = time.monotonic() + start, True
            final = after[-1].name if after and after[-1].is_final() else None
            if final and not picked_up:
                return UNDONE, final
            if time.monotonic() >= deadline:
                return (UNDONE, final) if final else (TAKEN if picked_up else WAITING, "")
            time.sleep(POLL_SECONDS)


def retry_until_taken(flow_run: str, schedule: Callable[[], int]) -> tuple[int, str | None]:
    """Run `schedule` (the prefect retry; its exit code) until the retry of a deployment's run holds; the
    exit code and a line to show (None: nothing to add to what prefect printed).

    A run without a deployment runs again inside `schedule` itself, so its exit code is the answer.
    """
    run_id = run_id_of(flow_run)
    if run_id is None or not is_deployment_run(run_id):
        return schedule(), None
    settle(run_id)
    undone_by = ""
    for _ in range(ATTEMPTS):
        code = schedule()
        if code != 0:
            return code, None
        result, undone_by = outcome(run_id)
        if result == TAKEN:
            return 0, None
        if result == WAITING:
            return 0, f"Run {flow_run} is scheduled; it starts when a worker of its work pool picks it up."
        time.sleep(2)  # a late report undid it: let the reporting settle, then schedule it again
    return 1, (
        f"Error: the retry of run {flow_run} did not take: each time a late report set it to {undone_by}; "
        f"wait a minute, then run `ganflow retry {flow_run}` again"
    )
