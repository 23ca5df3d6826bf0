"""The kinds of `--source` by name: how each is recognised, located, keyed for the cache and named.

`parse_source` (tasks/acquire/task.py) offers the text to every kind in `order` and takes the first
`Source` one returns; acquire then asks the source's kind to `locate` it as a local folder of images
with an identity that says exactly which data it is. A kind is one module in this package that calls
`register(SourceKind(...))` at import; `kinds()` imports every module here first, so adding a kind is
adding its file. How a kind fetches its data lives under tasks/acquire/sources/.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ganmodels.plugins import Registry
from tasks.acquire.sources.archive import ExtractLimits


@dataclass(frozen=True)
class Source:
    """A parsed `--source`: what kind it is and where."""

    kind: str  # a registered kind: sample, kaggle, classic, url, folder, archive...
    location: str = ""  # a resolved path, a URL, a Kaggle handle or a dataset name
    label: str = ""  # the preset's name, for `celeba` and `celebrities-100k`

    @property
    def name(self) -> str:
        """A short label for folder names and messages, safe in a file name."""
        raw = kind_of(self.kind).display(self)
        return re.sub(r"[^A-Za-z0-9._-]+", "_", raw).strip("._") or self.kind


@dataclass(frozen=True)
class Fetch:
    """What locating a source may use besides the source: where data goes, and the options about it."""

    data_dir: Path
    sha256: str | None = None  # the expected content hash (kinds with `sha256` only)
    limits: ExtractLimits = field(default_factory=ExtractLimits)
    auth_secret: str | None = None  # a Secret block's name (kinds with `auth` only)


def _location_or_kind(source: Source) -> str:
    return source.location or source.kind


def _kind_only(source: Source, data_dir: Path) -> str | None:
    return source.kind


@dataclass(frozen=True)
class SourceKind:
    kind: str
    order: int  # parse_source offers the text to kinds in this order
    parse: Callable[[str], Source | None]  # None: not this kind; ValueError: this kind, but wrong
    locate: Callable[[Source, Fetch], tuple[Source, Path, str]]  # (the source as recorded, its images, identity)
    display: Callable[[Source], str] = _location_or_kind  # the raw short name (Source.name cleans it)
    # the part of acquire's cache key the inputs do not show (what the source holds now), computed offline
    cache_key: Callable[[Source, Path], str | None] = _kind_only
    keywords: tuple[str, ...] = ()  # the plain words it accepts, for messages
    sha256: bool = False  # --sha256 applies
    auth: bool = False  # --http-auth-secret applies


_KINDS: Registry[SourceKind] = Registry(__name__, lambda kind: kind.kind, lambda kind: kind.order)
register = _KINDS.register


def kinds() -> list[SourceKind]:
    """Every registered kind by `order`, after importing each module of this package once."""
    return _KINDS.all()


def kind_of(name: str) -> SourceKind:
    kind = _KINDS.get(name)
    if kind is None:
        raise KeyError(name)
    return kind


def keywords() -> tuple[str, ...]:
    return tuple(word for kind in kinds() for word in kind.keywords)
