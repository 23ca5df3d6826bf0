"""kaggle: a Kaggle dataset through kagglehub (`kaggle:OWNER/SLUG[/versions/N]`, or a preset's name)."""

from pathlib import Path

from tasks.acquire.kinds import Fetch, Source, SourceKind, register
from tasks.acquire.sources import kaggle


def _parse(text: str) -> Source | None:
    if text in kaggle.PRESETS:
        return Source("kaggle", kaggle.PRESETS[text].handle, text)
    if text.startswith(kaggle.PREFIX):
        return Source("kaggle", kaggle.check_handle(text.removeprefix(kaggle.PREFIX).strip().strip("/")))
    return None


def _locate(source: Source, fetch: Fetch):
    images = kaggle.PRESETS[source.label].images if source.label else ""
    found = kaggle.acquire_kaggle(source.location, fetch.data_dir, images)
    return Source("kaggle", found.handle, source.label), found.images_dir, found.identity


register(
    SourceKind(
        "kaggle",
        order=20,
        parse=_parse,
        locate=_locate,
        display=lambda source: source.label or kaggle.split_handle(source.location)[1],
        cache_key=lambda source, data_dir: kaggle.pinned_handle(source.location, Path(data_dir)),
        keywords=tuple(kaggle.PRESETS),
    )
)
