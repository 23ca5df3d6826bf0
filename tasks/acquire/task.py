"""acquire: turn `--source` into a local folder of image files, with an identity that says exactly which data.

Every kind of source ends the same way, as a folder that preprocess reads with `list_images()`:
`sample` (built in, offline), a local folder, a local .zip/.tar(.gz) archive (extracted safely into
`data-dir/sources/`), an http(s) URL to such an archive (downloaded with resume, then extracted), a Kaggle
dataset through kagglehub (`kaggle:OWNER/SLUG[/versions/N]`, or the presets `celeba` and
`celebrities-100k`), and the classic `mnist`, `fashion_mnist` and `cifar10` (their published files,
verified, kept in `data-dir/sources/classic/`).
Each kind is registered by its own module under `tasks/acquire/kinds/` (how it is recognised, located, keyed
and named), over the fetching code in `tasks/acquire/sources/`; this one parses `--source` and dispatches.
"""

from dataclasses import dataclass
from pathlib import Path

from prefect import task
from prefect.cache_policies import INPUTS, CachePolicy
from prefect.tasks import exponential_backoff

from tasks.acquire.kinds import Fetch, Source, keywords, kind_of, kinds
from tasks.acquire.sources.archive import ExtractLimits
from tasks.acquire.sources.folder import IMAGE_EXTENSIONS, list_image_names, list_images
from tasks.caching import OutputsExist, key_policy, step_options
from tasks.errors import UserError, is_network_error

__all__ = [
    "AcquireSpec",
    "AcquiredImages",
    "Source",
    "acquire",
    "acquire_images",
    "acquire_source",
    "list_image_names",
    "list_images",
    "parse_source",
]


@dataclass(frozen=True)
class AcquiredImages:
    """A local folder of images plus the identity that says which data it is."""

    source: Source
    images_dir: Path
    identity: str
    num_files: int


def parse_source(text: str) -> Source:
    """Validate `--source` early and offline, with a message that says what would work instead.

    Each kind (tasks/acquire/kinds/) is offered the text in turn; the first that recognises it parses it."""
    text = (text or "").strip()
    for kind in kinds():
        if (source := kind.parse(text)) is not None:
            return source
    if not text:
        raise ValueError(
            f"is empty; use one of {', '.join(keywords())}, kaggle:OWNER/SLUG, a URL, a folder or an archive"
        )
    if Path(text).expanduser().exists():
        raise ValueError(f"{text!r} is a file; pass a folder of images or a .zip/.tar(.gz) archive of them")
    raise ValueError(
        f"{text!r} is neither a known source ({', '.join(keywords())}), kaggle:OWNER/SLUG, "
        "an http(s) URL, nor an existing folder or archive"
    )


@dataclass(frozen=True)
class AcquireSpec:
    """What acquire fetches, and where it keeps it: built once from the run's options (flows/specs.py).

    `source` is `--source` parsed; the options were checked to fit it (flows/option_checks.py), so acquire
    checks nothing again. `auth_secret` is a Secret block's name, never its value.
    """

    source: Source
    data_dir: Path
    sha256: str | None = None  # lowercase hex
    limits: ExtractLimits = ExtractLimits()  # noqa: RUF009 - frozen
    auth_secret: str | None = None


def acquire_images(
    source_text: str,
    data_dir: Path,
    sha256: str | None = None,
    limits: ExtractLimits = ExtractLimits(),  # noqa: B008 - frozen
    auth_secret: str | None = None,
) -> AcquiredImages:
    """`acquire_source` for a `--source` text: what `ganflow` does without the options around it."""
    try:
        source = parse_source(source_text)
    except ValueError as exc:
        raise UserError(f"--source: {exc}") from None
    sha256 = (sha256 or "").strip().lower() or None
    return acquire_source(AcquireSpec(source, Path(data_dir), sha256, limits, auth_secret))


def acquire_source(spec: AcquireSpec) -> AcquiredImages:
    """Make the source available as a local folder of images and say exactly which data it is.

    A URL's query (a signed link's token) is needed for the download only: the result, which Prefect
    pickles and preprocess records in its manifest, names the URL redacted.
    """
    fetch = Fetch(Path(spec.data_dir), spec.sha256, spec.limits, spec.auth_secret)
    source, folder, identity = kind_of(spec.source.kind).locate(spec.source, fetch)
    files = list_image_names(folder)
    if not files:
        raise UserError(
            f"--source: no image files ({', '.join(sorted(IMAGE_EXTENSIONS))}) found in {folder}; "
            "point it at face images, or use 'sample'"
        )
    return AcquiredImages(source, folder, identity, len(files))


def source_key(source_text: str, data_dir: Path) -> str | None:
    """The part of acquire's cache key that the inputs alone do not show, computed offline and cheaply.

    A folder's or archive's fingerprint (paths, sizes, mtimes), a Kaggle handle's pinned version, and
    a classic set's file fingerprint and pinned hash: when the data changes, the key does, and acquire runs again.
    """
    try:
        source = parse_source(source_text)
    except ValueError:
        return None
    return kind_of(source.kind).cache_key(source, Path(data_dir))


@dataclass
class _SourceContents(CachePolicy):
    """Part of acquire's cache key: what the spec's source holds now (see `source_key`)."""

    def compute_key(self, task_ctx, inputs, flow_parameters, **kwargs) -> str | None:
        spec = inputs.get("spec")
        return kind_of(spec.source.kind).cache_key(spec.source, Path(spec.data_dir)) if spec else None


def _acquire_run_name(parameters: dict) -> str:
    """`acquire[celeba]`, `acquire[faces (folder)]`: what was fetched, readable in the run's task list."""
    source = parameters["spec"].source
    return f"acquire[{source.name}]" if source.name == source.kind else f"acquire[{source.name} ({source.kind})]"


@task(
    name="acquire",
    task_run_name=_acquire_run_name,
    log_prints=False,  # a client's debug prints must never carry credentials into the run's logs
    **step_options(
        cache_policy=OutputsExist(base=key_policy(INPUTS + _SourceContents())),
        retries=3,
        retry_delay_seconds=exponential_backoff(backoff_factor=3),  # 3, 6, 12 s
        retry_condition_fn=is_network_error,  # a network failure may pass; a bad source never does
    ),
)
def acquire(spec: AcquireSpec) -> AcquiredImages:
    """Prefect step: the source as a local folder of images."""
    return acquire_source(spec)
