"""docs/prefect-ui.md's command for a server on another port gives the UI that port's API, as Prefect reads it."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UI_API_URL = "from prefect.settings import get_current_settings; print(get_current_settings().server.ui.api_url)"


def _ui_api_url(home: Path, **env: str) -> str:
    """The API address the server hands its UI, as `prefect server start` would compute it with this environment."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    clean["PREFECT_HOME"] = str(home)  # no profile that sets PREFECT_API_URL
    out = subprocess.run(
        [sys.executable, "-c", UI_API_URL], env={**clean, **env}, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.slow  # two Python processes that import Prefect
def test_the_documented_command_moves_the_ui_to_the_server_s_port(tmp_path):
    doc = (ROOT / "docs" / "prefect-ui.md").read_text()
    line = next(line for line in doc.splitlines() if line.endswith("prefect server start") and "=" in line)
    env = dict(re.findall(r"(PREFECT_[A-Z_]+)=(\S+)", line))
    port = env["PREFECT_SERVER_API_PORT"]
    assert _ui_api_url(tmp_path, **env) == f"http://127.0.0.1:{port}/api"
    # Why the page says so: `--port` alone is not a setting, and the UI keeps the default port.
    assert ":4200/" in _ui_api_url(tmp_path)
