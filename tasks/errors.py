"""Errors a user can fix: shown as one line with no traceback, and never retried."""


class UserError(Exception):
    """Bad input: say what was wrong, where, and what to do about it."""


def is_retryable(task, task_run, state) -> bool:
    """Prefect `retry_condition_fn`: retrying a user's mistake only delays the message."""
    try:
        state.result()
    except UserError:
        return False
    except Exception:
        return True
    return True
