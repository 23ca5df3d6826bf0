"""The temporary Prefect server a `ganflow` command starts when no PREFECT_API_URL is set, and always stops.

Prefect's own temporary server (started by the first API call of a process) gives up after 20 s, which a
fresh PREFECT_HOME's first start (the database is created and migrated) exceeds on a busy machine. It runs
in the command's process group, so Ctrl-C kills it while the run still needs it (the run then stays
Running, its log queue waiting minutes for it), and SIGTERM leaves it running with no parent. This one runs
in its own session, so a terminal's Ctrl-C reaches only the command; it is waited for generously, started
again when a retry can help (a port taken meanwhile, a locked database), stopped when the command ends,
and stopped by the kernel if the command dies without a chance to (PR_SET_PDEATHSIG, on Linux).
Its output goes to `<PREFECT_HOME>/temporary-server.log`, never to the terminal.
"""

import contextlib
import ctypes
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tasks.errors import UserError

STARTUP_SECONDS = 300  # a fresh home's first start took 40-60 s on 2 busy cores; Prefect's own default is 20
ATTEMPTS = 3
RETRY_HELPS = ("database is locked", "address already in use", "Errno 98")  # a new try gets past these
SAYS = "starting a temporary Prefect server for this run; set PREFECT_API_URL to use a running one"


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """In the server's process, before exec: SIGTERM when the process that started it dies (Linux)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def _checked_home(home: Path) -> Path:
    """PREFECT_HOME as a folder this user can write, or one line saying what to do."""
    try:
        home.mkdir(parents=True, exist_ok=True)
        probe = home / f".ganflow-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UserError(
            f"PREFECT_HOME={home}: {exc.strerror or exc}; point PREFECT_HOME at a folder you can write, or unset it"
        ) from None
    return home


class TemporaryServer:
    """One `uvicorn` process serving Prefect's API (no UI) on a free port of 127.0.0.1."""

    def __init__(self, home: Path, timeout: float):
        self.home, self.timeout = home, timeout
        self.log = home / "temporary-server.log"
        self.process: subprocess.Popen | None = None
        self.url = ""

    def _spawn(self) -> int:
        port = _free_port()
        env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
        env.pop("PREFECT_API_URL", None)
        args = [sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app"]
        args += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "error", "--lifespan", "on"]
        with open(self.log, "ab") as log:
            log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} port {port}\n".encode())
            log.flush()
            self.start_offset = log.tell()
            self.process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        return port

    def _output(self) -> str:
        with contextlib.suppress(OSError), open(self.log, "rb") as log:
            log.seek(self.start_offset)
            return log.read().decode(errors="replace")
        return ""

    def _wait(self, port: int) -> str | None:
        """None once the API answers; else why not (the server's last line, or the time waited)."""
        deadline = time.monotonic() + self.timeout
        with httpx.Client(timeout=5) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    lines = [line for line in self._output().splitlines() if line.strip()]
                    return lines[-1].strip() if lines else f"it exited with code {self.process.returncode}"
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"http://127.0.0.1:{port}/api/health").status_code == 200:
                        return None
                time.sleep(0.25)
        return f"it did not answer within {self.timeout:g} s"

    def start(self) -> str:
        """The API URL once the server answers, trying again where that can help; else one line (UserError)."""
        for attempt in range(1, ATTEMPTS + 1):
            port = self._spawn()
            why = self._wait(port)
            if why is None:
                self.url = f"http://127.0.0.1:{port}/api"
                return self.url
            self.stop()
            output = self._output()
            if attempt < ATTEMPTS and any(s in output for s in RETRY_HELPS):  # after a long wait, no retry
                continue
            raise UserError(
                f"the temporary Prefect server did not start ({why}; its log: {self.log}); run again, or start "
                "one with `prefect server start` and set PREFECT_API_URL=http://127.0.0.1:4200/api"
            )
        raise AssertionError("unreachable")

    def stop(self) -> None:
        """SIGTERM to the server's process group, SIGKILL after 5 s; the group is gone when this returns."""
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _drain_prefect_queues() -> None:
    """Send the run's last log lines and events while the server is still there to take them."""
    for module, name in (("prefect.logging.handlers", "APILogWorker"), ("prefect.events.worker", "EventsWorker")):
        if module in sys.modules:
            with contextlib.suppress(Exception):
                getattr(sys.modules[module], name).drain_all(timeout=5)


@contextlib.contextmanager
def prefect_api(echo=lambda line: print(line, file=sys.stderr)) -> Iterator[str | None]:
    """The Prefect API for this command: the configured one, or a temporary server started and stopped here.

    Yields the temporary server's URL (None when PREFECT_API_URL is set). Child processes (sweep runs,
    `prefect flow-run retry`) inherit it through the environment, so they share it instead of each
    starting one.
    """
    from prefect.context import refresh_global_settings_context
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    if settings.api.url:
        yield None
        return
    home = _checked_home(Path(settings.home))
    configured = max(float(settings.server.ephemeral.startup_timeout_seconds), STARTUP_SECONDS)
    server = TemporaryServer(home, configured)
    echo(SAYS)
    added: dict[str, str] = {}
    try:
        url = server.start()
        # the server has no UI (it ends with the command), so Prefect prints no "View at" link to it
        added = {"PREFECT_API_URL": url, **({} if "PREFECT_UI_URL" in os.environ else {"PREFECT_UI_URL": ""})}
        os.environ.update(added)
        refresh_global_settings_context()
        yield url
    finally:
        if server.url:
            _drain_prefect_queues()
        server.stop()
        for name, value in (added if server.url else {}).items():
            if os.environ.get(name) == value:
                del os.environ[name]
        refresh_global_settings_context()


def this_command() -> str:
    """The command line as typed, to show as the one that continues a stopped run."""
    return shlex.join(["ganflow", *sys.argv[1:]])
