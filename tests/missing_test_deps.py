"""Under CI, a test skipped because a test dependency is missing fails instead.

Such a skip reads as green while the test never ran: the terminal tests were skipped everywhere for a
missing `pexpect` until it joined the `test` extra. Locally a skip stays a skip (one may run the quick
loop without a browser); with `CI` set (`.ci/run` sets it) the missing piece is an error to fix.
"""

import os
import re

import pytest

# How the suite words a missing dependency: `importorskip`'s own message, or a reason naming how to install it.
MISSING = re.compile(r"could not import|pip install|apt-get install|installed with the \[test\] extra")


def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _fail_missing(report) -> None:
    if not (report.skipped and under_ci()):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if MISSING.search(reason):
        report.outcome = "failed"
        report.longrepr = f"a test dependency is missing under CI (install the test extra): {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _fail_missing(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not hasattr(report, "wasxfail"):
        _fail_missing(report)
