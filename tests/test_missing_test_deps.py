"""A test skipped for a missing test dependency fails under CI, and stays a skip elsewhere."""

import importlib.util
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

MISSING_MODULE = """
import pytest

nowhere = pytest.importorskip("no_such_module_for_ganflow")


def test_needs_it():
    pass
"""

MISSING_INSIDE = """
import pytest


def test_needs_a_browser():
    pytest.skip("needs Debian's chromium (apt-get install chromium) for the headless browser")


def test_other_skip():
    pytest.skip("cannot mount a tmpfs here")
"""


@pytest.mark.parametrize("ci", ["true", ""])
def test_a_skip_for_a_missing_test_dependency_fails_under_ci(pytester, monkeypatch, ci):
    monkeypatch.setenv("CI", ci)
    pytester.makepyfile(test_module=MISSING_MODULE, test_inside=MISSING_INSIDE)
    result = pytester.runpytest("-p", "missing_test_deps", "--continue-on-collection-errors")
    if ci:
        result.assert_outcomes(failed=1, skipped=1, errors=1)
        result.stdout.fnmatch_lines(["*a test dependency is missing under CI*no_such_module_for_ganflow*"])
    else:
        result.assert_outcomes(skipped=3)


def test_the_test_extra_has_what_the_tests_import():
    """The pseudo-terminal tests import pexpect, the browser test playwright: both are in the test extra."""
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
    names = {item.split(">")[0].split("=")[0].split("[")[0].strip() for item in extra}
    for module, package in {"pexpect": "pexpect", "playwright": "playwright", "prefect_dask": "prefect-dask"}.items():
        assert package in names, f"{package} is missing from the test extra"
        assert importlib.util.find_spec(module), f"{module} is not installed: pip install -e '.[test]'"
