"""Each secondary metric and each loss has one home: its file under ganmodels/metrics/ or ganmodels/loss_functions/.

Issue 22's "done when": outside its home, such a name may appear in at most one file of flows/, tasks/ and
ganmodels/ (the options' help text, or the recipes that select a loss by name), so adding, changing or removing
one is a change to its own file. Tests and docs are not counted.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("flows", "tasks", "ganmodels")

# name -> (its home, how it is spelled: case-insensitive, whole words, so `fidelity` or "histograms" in prose
# about another metric's bins are no hit, while `ndb_js`, `FID/KID` and the `hist` column are)
HOMES = {
    "MS-SSIM": ("ganmodels/metrics/ms_ssim.py", r"\bms[-_ ]?ssim"),
    "NDB": ("ganmodels/metrics/ndb.py", r"\bndb(?![a-z])"),
    "memorization": ("ganmodels/metrics/memorization.py", r"\bmemoriz"),
    "FID": ("ganmodels/metrics/fid.py", r"\bfid(?![a-z])"),
    "histogram": ("ganmodels/metrics/histogram.py", r"\bhist(ogram)?\b"),
    "hinge": ("ganmodels/loss_functions/hinge.py", r"\bhinge\b"),
    "LSGAN": ("ganmodels/loss_functions/lsgan.py", r"\blsgan\b"),
}

# Named in a second file outside its home only until the options' rework (issue 22, point 1) takes the
# message from the metric: each entry must still be needed, so it cannot outlive the reason for it.
PENDING: dict[str, str] = {}


def _files() -> list[Path]:
    return sorted(p for package in SOURCES for p in (ROOT / package).rglob("*") if p.suffix in (".py", ".toml"))


def named_in(pattern: str, files: list[Path], home: str, root: Path = ROOT) -> set[str]:
    """The files (relative to the checkout) whose text matches `pattern`. A pointer to the home itself (an
    import of its module, its path in a comment) is no second home, so it does not count."""
    found = re.compile(pattern, re.IGNORECASE)
    pointers = re.compile(re.escape(home) + "|" + re.escape(home.removesuffix(".py").replace("/", ".")))
    return {
        p.relative_to(root).as_posix() for p in files if found.search(pointers.sub("", p.read_text(encoding="utf-8")))
    }


@pytest.mark.parametrize("name", list(HOMES))
def test_named_outside_its_home_in_at_most_one_file(name):
    home, pattern = HOMES[name]
    files = _files()
    named = named_in(pattern, files, home)
    assert home in named, f"{name}: its home {home} no longer spells it {pattern!r}"
    outside = named - {home}
    if name in PENDING:
        assert PENDING[name] in outside, f"{name}: {PENDING[name]} no longer names it; drop it from PENDING"
        outside -= {PENDING[name]}
    assert len(outside) <= 1, f"{name} is named outside {home} in {sorted(outside)}: move it into its registry entry"


def test_the_scan_sees_a_second_file(tmp_path):
    """The check can fail: a name in two files outside its home is seen in both."""
    for folder in ("a", "b", "home"):
        (tmp_path / folder).mkdir()
    (tmp_path / "home" / "ndb.py").write_text('register(Metric("ndb"))\n')
    (tmp_path / "a" / "report.py").write_text("# the NDB/JS line\n")
    (tmp_path / "b" / "callbacks.py").write_text('scores["ndb_js"] = 1\n')
    (tmp_path / "b" / "other.py").write_text("fidelity = 'histograms of bins'\n")
    (tmp_path / "b" / "pointer.py").write_text("from home.ndb import register  # see home/ndb.py\n")
    files = sorted(tmp_path.rglob("*.py"))
    found = {Path(p).name for p in named_in(HOMES["NDB"][1], files, "home/ndb.py", tmp_path)}
    assert found == {"ndb.py", "report.py", "callbacks.py"}
    assert not named_in(HOMES["FID"][1], files, "home/fid.py", tmp_path)
    assert not named_in(HOMES["histogram"][1], files, "home/histogram.py", tmp_path)
