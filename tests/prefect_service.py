"""A real Prefect server and process worker on 127.0.0.1, as a user starts them, for the deployment tests.

`prefect server start` runs with its own PREFECT_HOME (a fresh database), with the UI (the browser test
looks at it) and without the scheduler service (so the nightly deployment's cron never starts a run in a
test). Each process is its own process group, stopped with SIGTERM, then SIGKILL, when the session ends.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
POOL = "ganflow"  # the work pool prefect.yaml names


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrefectService:
    """The server's URL, an environment that points at it, and helpers that run the prefect CLI as a user would."""

    def __init__(self, home: Path):
        self.home = home
        self.port = free_port()
        self.api_url = f"http://127.0.0.1:{self.port}/api"
        self.env = {
            **os.environ,
            "PREFECT_HOME": str(home),
            "PREFECT_API_URL": self.api_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_UI_ENABLED": "true",
            "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
            "PREFECT_WORKER_QUERY_SECONDS": "1",
            "PREFECT_SERVER_LOG_RETRYABLE_ERRORS": "true",  # the server logs why it answered 503 (server.log)
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        }
        self.env.pop("GANFLOW_PROJECT_DIR", None)  # the pull step must find the checkout by itself
        self.processes: list[subprocess.Popen] = []

    def start(self, name: str, *args: str, **env: str) -> subprocess.Popen:
        """A long-lived command in its own process group, output to a log file under the home folder."""
        log = open(self.home / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            list(args),
            env={**self.env, **env},
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        proc.log = log  # type: ignore[attr-defined]
        self.processes.append(proc)
        return proc

    def log(self, name: str) -> str:
        path = self.home / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_healthy(self, timeout: float = 180) -> None:
        server = self.processes[0]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise RuntimeError(f"prefect server exited:\n{self.log('server')[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.api_url}/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.5)
        raise TimeoutError(f"prefect server not healthy after {timeout}s:\n{self.log('server')[-3000:]}")

    def prefect(self, *args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
        """`prefect ARGS` in the checkout, against this server."""
        out = self._module("prefect", args, timeout)
        if check and out.returncode != 0:
            raise AssertionError(f"prefect {' '.join(args)} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
        return out

    def ganflow(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return self._module("flows.cli", args, timeout)

    def _module(self, module: str, args: tuple[str, ...], timeout: float) -> subprocess.CompletedProcess:
        """`python -m MODULE ARGS` in the checkout, against this server, output captured."""
        return subprocess.run(
            [sys.executable, "-m", module, *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def run_deployment(self, deployment: str, params: dict, timeout: float = 600) -> subprocess.CompletedProcess:
        """`prefect deployment run NAME --param KEY=JSON ... --watch`, one `--param` per parameter, as the docs show."""
        given = [arg for key, value in params.items() for arg in ("--param", f"{key}={json.dumps(value)}")]
        return self.prefect(
            "deployment",
            "run",
            deployment,
            *given,
            "--watch",
            "--watch-interval",
            "1",
            "--watch-timeout",
            str(int(timeout)),
            timeout=timeout + 60,
            check=False,
        )

    def client(self):
        """A synchronous Prefect client for this server (the test process may have another one configured)."""
        from prefect.client.orchestration import SyncPrefectClient

        return SyncPrefectClient(self.api_url)

    def stop_process(self, proc: subprocess.Popen) -> None:
        """SIGTERM to its process group, SIGKILL after 20 s, then SIGKILL to whatever the group left behind."""
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.log.close()  # type: ignore[attr-defined]

    def stop(self) -> None:
        for proc in reversed(self.processes):
            self.stop_process(proc)


@contextlib.contextmanager
def prefect_service(home: Path, workers: dict[str, tuple[str, ...]] | None = None) -> Iterator[PrefectService]:
    """Server, process pool, every deployment of prefect.yaml, and workers; all stopped afterwards.

    `workers`: a process name per worker and the extra `prefect worker start` arguments it gets (one plain
    worker by default).
    """
    service = PrefectService(home)
    try:
        address = ("--host", "127.0.0.1", "--port", str(service.port))
        service.start("server", sys.executable, "-m", "prefect", "server", "start", *address)
        service.wait_healthy()
        service.prefect("work-pool", "create", POOL, "--type", "process")
        service.prefect("--no-prompt", "deploy", "--all", "--prefect-file", str(ROOT / "prefect.yaml"))
        for name, extra in (workers or {"worker": ()}).items():
            service.start(name, sys.executable, "-m", "prefect", "worker", "start", "--pool", POOL, *extra)
        yield service
    finally:
        service.stop()
