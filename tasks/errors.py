"""Errors a user can fix, and network failures that may pass: both shown as one line with no traceback."""


class UserError(Exception):
    """Bad input: say what was wrong, where, and what to do about it. Never retried."""


class NetworkError(Exception):
    """A remote source failed in a way that may pass (no connection, timeout, server error): worth a retry."""


def is_retryable(task, task_run, state) -> bool:
    """Prefect `retry_condition_fn`: retrying a user's mistake only delays the message."""
    return not isinstance(_raised(state), UserError)


def is_network_error(task, task_run, state) -> bool:
    """Prefect `retry_condition_fn` for steps that fetch data: retry what the network did, not what the input did."""
    return isinstance(_raised(state), NetworkError)


def _raised(state) -> Exception | None:
    try:
        state.result()
    except Exception as exc:
        return exc
    return None
