"""What `ganflow run` prints on a real terminal (issue 14, point 2), under a pseudo-terminal.

Bars and log lines share one rich console, so a log line never lands on a live bar's line; Prefect's
own chatter (the temporary server's notices) stays off unless --verbose.
"""

import logging
import os
import re
import sys
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

ROOT = Path(__file__).resolve().parents[1]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
TIMESTAMP = re.compile(r"\d\d:\d\d:\d\d\.\d{3} \|")
TELEMETRY_NOTICE = "Prefect collects anonymous usage data"
TELEMETRY_OFF = ("DO_NOT_TRACK", "CI", "GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL", "BUILDKITE", "TF_BUILD")
SERVER_DOCS = "prefect.io/docs/v3/concepts/server"  # the second line of the temporary server's notice
BAR = re.compile(r"━|\d+/\d+\s+\d+:\d\d:\d\d\s+left")  # the bar, or its count, elapsed and "left" columns


def _terminal_run(tmp_path: Path, *args: str) -> list[str]:
    """Run `ganflow run` on the sample in a 120x30 pseudo-terminal; the screen's lines, control codes removed."""
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "30", "PYTHONIOENCODING": "utf-8"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    env["GANFLOW_STATE_DIR"] = str(tmp_path / "state")
    env.pop("PREFECT_API_URL", None)  # the temporary server, as a newcomer gets it
    # A newcomer's first run: a fresh Prefect home, where Prefect prints its telemetry notice once. A home
    # that earlier tests used has no notice, so the output depended on the order tests ran in.
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    for name in TELEMETRY_OFF:
        env.pop(name, None)
    cmd = [
        "-m",
        "flows.cli",
        "run",
        "--epochs",
        "2",
        "--run-dir",
        str(tmp_path / "run"),
        "--data-dir",
        str(tmp_path / "data"),
        *args,
    ]
    child = pexpect.spawn(sys.executable, cmd, env=env, cwd=str(tmp_path), dimensions=(30, 120), encoding="utf-8")
    child.expect(pexpect.EOF, timeout=900)
    child.close()
    assert child.exitstatus == 0, child.before[-3000:]
    return re.split(r"[\r\n]", ANSI.sub("", child.before))


@pytest.mark.slow
def test_log_lines_never_land_on_a_live_bar_and_prefect_chatter_is_hidden(tmp_path):
    lines = _terminal_run(tmp_path)
    logs = [line for line in lines if TIMESTAMP.search(line)]
    assert any(BAR.search(line) for line in lines), "no live bar was drawn: the test would prove nothing"
    assert logs, "no log lines"
    assert [line for line in lines if TIMESTAMP.search(line) and BAR.search(line)] == []
    text = "\n".join(lines)
    assert "Starting temporary server" not in text and SERVER_DOCS not in text
    assert "Stopping temporary server" not in text
    assert "starting a temporary Prefect server for this run" in text
    epoch_lines = [line for line in logs if re.search(r"epoch \d+/2 ", line)]
    assert 1 <= len(epoch_lines) <= 2  # at most one line per epoch
    assert "Task run 'train[run to epoch 2]'" in text  # names in brackets survive the shared console
    assert "GIF: " in text
    # Prefect's telemetry notice tells about data collection, so it stays (docs/first-run.md): once, before the run.
    notice = [i for i, line in enumerate(lines) if TELEMETRY_NOTICE in line]
    first_output = min(i for i, line in enumerate(lines) if TIMESTAMP.search(line) or BAR.search(line))
    assert len(notice) == 1 and notice[0] < first_output, text[:3000]
    assert lines[notice[0]].strip().startswith(TELEMETRY_NOTICE)


def _record(name: str, level: int, msg: str) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, (), None)


def test_quiet_prefect_keeps_run_lines_and_warnings_and_shortens_the_server_notice():
    from tasks.progress import QuietPrefect

    quiet = QuietPrefect()
    assert quiet.filter(_record("prefect.task_runs", logging.INFO, "epoch 1/2"))
    assert quiet.filter(_record("prefect.flow_runs", logging.INFO, "Beginning flow run"))
    assert quiet.filter(_record("prefect.client", logging.WARNING, "a warning"))
    assert quiet.filter(_record("ganflow", logging.INFO, "ours"))
    assert not quiet.filter(_record("prefect", logging.INFO, "Stopping temporary server on http://127.0.0.1:1"))
    notice = _record("prefect", logging.INFO, "Starting temporary server on http://127.0.0.1:1\nSee https://x")
    assert quiet.filter(notice) and notice.getMessage() == QuietPrefect.SAYS and "\n" not in notice.getMessage()


def test_run_offers_verbose():
    from click.testing import CliRunner

    from flows.cli import cli

    out = CliRunner().invoke(cli, ["run", "--help"])
    assert out.exit_code == 0 and "--verbose" in out.output
