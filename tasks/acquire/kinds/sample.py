"""sample: the built-in offline sample of real faces."""

from tasks.acquire.kinds import Fetch, Source, SourceKind, register
from tasks.acquire.sources.sample import IDENTITY, write_sample


def _locate(source: Source, fetch: Fetch):
    return source, write_sample(fetch.data_dir / "sources" / "lfw-sample"), IDENTITY


register(
    SourceKind(
        "sample",
        order=10,
        parse=lambda text: Source("sample") if text == "sample" else None,
        locate=_locate,
        keywords=("sample",),
    )
)
