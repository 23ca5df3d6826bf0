"""The user-facing documentation: the README stays a short front door whose links and claims hold, and
docs/options.md is exactly what the CLI says (regenerate it with `python -m flows.docgen`)."""

import re
from pathlib import Path

from click.testing import CliRunner

from flows import docgen
from flows.cli import cli
from flows.params import RunParams

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
README_MAX_LINES = 250
# Words that only the people who built ganflow would understand, or remarks about their machines.
INTERNAL = re.compile(r"\bthe seeds\b|\bseeds'|\bseed (project|repo)|\btarget \d|\(target\b|at hand|lent GPU", re.I)
LINK = re.compile(r"\]\((?!https?://|mailto:)([^)#\s]*)(?:#([^)\s]*))?\)")


def _anchors(page: Path) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces to dashes."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(), re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def _user_pages() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def test_options_page_matches_the_cli():
    """Fails when an option, its default or its help changed without `python -m flows.docgen`."""
    assert (DOCS / "options.md").read_text() == docgen.render(), "run `python -m flows.docgen`"


def test_docgen_check_reports_a_stale_page(tmp_path, monkeypatch):
    stale = tmp_path / "options.md"
    stale.write_text(docgen.render().replace("--epochs", "--epoch"))
    monkeypatch.setattr(docgen, "OPTIONS_MD", stale)
    assert docgen.main(["--check"]) == 1
    assert docgen.main([]) == 0
    assert docgen.main(["--check"]) == 0


def test_readme_is_a_short_front_door():
    lines = README.read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; move detail into docs/"


def test_every_relative_link_in_the_user_pages_exists():
    """Every link to a file of the repository, and to a heading of it, leads somewhere."""
    missing = []
    for page in _user_pages():
        for match in LINK.finditer(page.read_text()):
            target = (page.parent / match[1]) if match[1] else page
            if not target.exists():
                missing.append(f"{page.relative_to(ROOT)}: {match[1]}")
            elif match[2] and target.suffix == ".md" and match[2] not in _anchors(target):
                missing.append(f"{page.relative_to(ROOT)}: {match[1]}#{match[2]}")
    assert not missing, missing


def test_readme_links_every_docs_page():
    text = README.read_text()
    unlinked = [p.name for p in DOCS.glob("*.md") if f"docs/{p.name}" not in text]
    assert not unlinked, f"docs pages the README does not link: {unlinked}"


def test_no_team_internal_words_where_users_read():
    found = [
        f"{page.relative_to(ROOT)}:{n}: {line.strip()}"
        for page in _user_pages()
        for n, line in enumerate(page.read_text().splitlines(), 1)
        if INTERNAL.search(line)
    ]
    assert not found, found


def test_readme_test_command_is_what_ci_runs():
    ci_command = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert f"\n{ci_command}\n" in README.read_text()


def _flow_steps() -> list[str]:
    """The steps in the order the flow runs them, read from the flow's source."""
    return re.findall(r'_step\(\s*steps,\s*"(\w+)"', (ROOT / "flows" / "ganflow.py").read_text())


def test_readme_and_help_name_the_same_steps():
    steps = _flow_steps()
    assert len(steps) >= 4
    assert " → ".join(steps) in README.read_text()
    assert " -> ".join(steps) in CliRunner().invoke(cli, ["--help"]).output


def test_generate_help_example_names_the_folder_a_default_run_writes():
    """The example is copied by people who just ran `ganflow run` on the sample: its hash must be today's."""
    shown = " ".join(CliRunner().invoke(cli, ["generate", "--help"]).output.split())  # undo the wrapping
    assert f"--run-dir runs/{RunParams().default_run_name()} " in shown
