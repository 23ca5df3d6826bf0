"""`ganflow runs` on a real terminal is as calm as `ganflow run`: Prefect's own notices stay off."""

import os
import re
import sys
from pathlib import Path

import pytest
from test_terminal import ANSI, SERVER_DOCS, TELEMETRY_OFF

pexpect = pytest.importorskip("pexpect")

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_runs_on_a_terminal_shows_one_server_line_no_raw_notices_and_a_folder_column(tmp_path):
    env = {**os.environ, "TERM": "xterm-256color", "PYTHONIOENCODING": "utf-8"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    env.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")  # the machine may be loaded
    for name in ("PREFECT_API_URL", "PREFECT_SERVER_ANALYTICS_ENABLED", "PREFECT_SERVER_LOGGING_LEVEL", *TELEMETRY_OFF):
        env.pop(name, None)  # a newcomer's machine: the temporary server, its telemetry on (and offline here)
    child = pexpect.spawn(
        sys.executable, ["-m", "flows.cli", "runs"], env=env, cwd=str(tmp_path), dimensions=(30, 160), encoding="utf-8"
    )
    child.expect(pexpect.EOF, timeout=300)
    child.close()
    text = ANSI.sub("", child.before)
    assert child.exitstatus == 0, text[-3000:]
    assert "starting a temporary Prefect server" in text  # one line that says what the wait is for
    assert "Starting temporary server" not in text and SERVER_DOCS not in text
    assert "Stopping temporary server" not in text
    assert "Failed to send telemetry" not in text  # the server's telemetry service, offline
    header = next(line for line in re.split(r"[\r\n]", text) if line.startswith("ID "))
    assert header.split() == ["ID", "NAME", "DEPLOYMENT", "STATE", "STARTED", "SECONDS", "FOLDER", "MESSAGE"]
