"""Whether the Prefect API answers, checked cheaply before a run publishes anything to it.

A Prefect server can go away while a run trains (stopped, restarted, a network blip). Training needs it
only for the progress it shows there, so it goes on, and skips publishing while the API does not answer:
a publish to a dead API would block in the client's retries for about a minute each time. One line says
when the API went away and one when it is back; the run's own files are complete either way, and the
task states are reported when the steps end.
"""

import time

import httpx

from tasks.progress import run_logger

PROBE_TIMEOUT = 2.0  # seconds; the health endpoint answers in milliseconds


class ApiWatch:
    """The last known state of the API at the configured PREFECT_API_URL (none set: nothing to watch)."""

    def __init__(self) -> None:
        self.down_since: float | None = None

    @staticmethod
    def _url() -> str | None:
        from prefect.settings import get_current_settings

        return get_current_settings().api.url

    def reachable(self) -> bool:
        """True when the API answers its health check (or no API URL is set: a temporary server in-process)."""
        url = self._url()
        if not url:
            return True
        try:
            up = httpx.get(f"{url.rstrip('/')}/health", timeout=PROBE_TIMEOUT).status_code == 200
        except httpx.HTTPError:
            up = False
        if not up and self.down_since is None:
            self.down_since = time.monotonic()
            run_logger().warning(
                "the Prefect API at %s does not answer: training goes on and its files stay complete; "
                "progress shows in Prefect again when the API is back",
                url,
            )
        elif up and self.down_since is not None:
            run_logger().warning(
                "the Prefect API is back after %.0f s: progress is published again", time.monotonic() - self.down_since
            )
            self.down_since = None
        return up


API = ApiWatch()


def api_gone_line(exc: BaseException | None) -> str | None:
    """One line when `exc` (or what caused it) is a request to the Prefect API that found no server; None
    for anything else, a download that failed included."""
    url = ApiWatch._url()
    seen = 0
    while exc is not None and seen < 10:
        if url and isinstance(exc, httpx.TransportError):
            try:
                target = exc.request.url
            except RuntimeError:  # an error raised without its request
                target = None
            api = httpx.URL(url)
            if target is not None and (target.host, target.port) == (api.host, api.port):
                return (
                    f"the Prefect API at {url} stopped answering ({exc}); everything finished so far is kept in "
                    "the run folder and the cache: start the server again and run the same command, it goes "
                    "on from where it stopped"
                )
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None
