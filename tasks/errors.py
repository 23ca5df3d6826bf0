"""Errors a user can fix, and network failures that may pass: both shown as one line with no traceback."""

import errno

# OS errors that a user's choice of folder causes and can fix: shown as one line, never retried. A folder
# where ganflow writes a file (EISDIR) is left to the task's retry, which is how docs/operations.md
# demonstrates fixing a fault between tries.
USER_ERRNOS = frozenset(
    {
        errno.EACCES,
        errno.EPERM,
        errno.EROFS,
        errno.ENOTDIR,
        errno.EEXIST,
        errno.ENOSPC,
        errno.EDQUOT,
        errno.ENAMETOOLONG,
        errno.ELOOP,
    }
)


class UserError(Exception):
    """Bad input: say what was wrong, where, and what to do about it. Never retried."""


class NetworkError(Exception):
    """A remote source failed in a way that may pass (no connection, timeout, server error): worth a retry."""


def user_os_error(exc: BaseException | None, folders: tuple = ()) -> str | None:
    """One line for an OS error the user can fix (permission, read-only, not a folder, disk full, name too
    long), naming the path and the reason; None for any other exception. A write that failed for lack of
    space names no file, so the line names the `folders` the run writes in."""
    if not isinstance(exc, OSError) or exc.errno not in USER_ERRNOS:
        return None
    if exc.filename is not None:
        path = str(exc.filename)
    else:
        path = "writing in " + " or ".join(str(f) for f in folders) if folders else "a file"
    reason = exc.strerror or str(exc)
    return (
        f"{path}: {reason}; check that folder (permissions, free space, a file in the way) "
        "or choose another --data-dir or --run-dir"
    )


def is_user_error(exc: BaseException | None) -> bool:
    return isinstance(exc, UserError) or user_os_error(exc) is not None


def is_retryable(task, task_run, state) -> bool:
    """Prefect `retry_condition_fn`: retrying a user's mistake only delays the message."""
    return not is_user_error(_raised(state))


def is_network_error(task, task_run, state) -> bool:
    """Prefect `retry_condition_fn` for steps that fetch data: retry what the network did, not what the input did."""
    return isinstance(_raised(state), NetworkError)


def _raised(state) -> Exception | None:
    try:
        state.result()
    except Exception as exc:
        return exc
    return None
