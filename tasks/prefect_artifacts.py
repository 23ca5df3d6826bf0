"""Publishing Prefect artifacts, for every step: inside a Prefect run only, keyed by the run folder's name, and
never failing the step (the files on disk are the record, artifacts are the view).

Inline pictures are data: URIs: the UI's markdown renderer shows them, while a file:// link does not open
from its http page and `create_image_artifact` needs an http(s) URL.
"""

import base64
import re
from pathlib import Path
from uuid import UUID

from tasks.api_watch import API
from tasks.progress import run_logger

PREVIEW_SIDE = 320  # pixels, at most, of a preview frame or grid (a 6x6 grid of 32 px faces is 206)


def in_prefect_run() -> bool:
    from prefect.context import FlowRunContext, TaskRunContext

    return FlowRunContext.get() is not None or TaskRunContext.get() is not None


def artifact_key(run_dir: Path, kind: str) -> str:
    """Prefect keys allow lowercase letters, digits and dashes only."""
    slug = re.sub(r"[^a-z0-9-]+", "-", Path(run_dir).name.lower()).strip("-") or "run"
    return f"ganflow-{slug[:80]}-{kind}"


def publish(what: str, create, **kwargs) -> UUID | None:
    if not in_prefect_run() or not API.reachable():  # a server gone away: skipped, and said once
        return None
    try:
        return create(**kwargs)
    except Exception as exc:  # the API is down or refused it: the run's files are still complete
        run_logger().warning("could not publish the %s artifact: %s", what, exc)
        return None


def data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
