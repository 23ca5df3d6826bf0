"""classic: mnist, fashion_mnist and cifar10, from their published files (verified, kept in data-dir)."""

from pathlib import Path

from tasks.acquire.kinds import Fetch, Source, SourceKind, register
from tasks.acquire.sources import classic
from tasks.acquire.sources.arrays import write_png_folder


def _parse(text: str) -> Source | None:
    return Source("classic", text.replace("-", "_")) if text.replace("-", "_") in classic.CLASSIC_NAMES else None


def _locate(source: Source, fetch: Fetch):
    images = classic.training_images(source.location, fetch.data_dir)
    digest = classic.array_digest(images)
    dest = fetch.data_dir / "sources" / f"{source.location}-{digest[:12]}"
    return source, write_png_folder(images, dest, source.location), f"keras:{source.location}:train:sha256={digest}"


register(
    SourceKind(
        "classic",
        order=30,
        parse=_parse,
        locate=_locate,
        cache_key=lambda source, data_dir: classic.cache_key(source.location, Path(data_dir)),
        keywords=classic.CLASSIC_NAMES,
    )
)
