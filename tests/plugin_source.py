"""A kind of source registered from this one file, as a user would add one: `noise:N`, N random images."""

from pathlib import Path

import numpy as np

from tasks.acquire.kinds import Fetch, Source, SourceKind, register
from tasks.pictures import write_png


def _parse(text: str) -> Source | None:
    if not text.startswith("noise:"):
        return None
    count = text.removeprefix("noise:")
    if not count.isdigit() or int(count) < 1:
        raise ValueError(f"{text!r}: give noise:N with N a whole number of images, at least 1")
    return Source("noise", count)


def _locate(source: Source, fetch: Fetch) -> tuple[Source, Path, str]:
    folder = fetch.data_dir / "sources" / f"noise-{source.location}"
    rng = np.random.default_rng(int(source.location))
    for i in range(int(source.location)):
        write_png(folder / f"{i:04d}.png", rng.integers(0, 256, (40, 40, 3), dtype=np.uint8))
    return source, folder, f"noise:{source.location}"


NOISE = register(
    SourceKind(
        "noise", order=5, parse=_parse, locate=_locate, display=lambda source: f"noise{source.location}"
    )
)
