"""acquire: turn `--source` into a local folder of image files, with an identity that says exactly which data.

Every kind of source ends the same way, as a folder that preprocess reads with `list_images()`:
`sample` (built in, offline), a local folder, a local .zip/.tar(.gz) archive (extracted safely into
`data-dir/sources/`), an http(s) URL to such an archive (downloaded with resume, then extracted), a Kaggle
dataset through kagglehub (`kaggle:OWNER/SLUG[/versions/N]`, or the presets `celeba` and
`celebrities-100k`), and the classic `mnist`, `fashion_mnist` and `cifar10` (their published files,
verified, kept in `data-dir/sources/classic/`).
Each kind lives in its own module under `tasks/acquire/sources/`; this one parses `--source` and dispatches.
"""

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from prefect import task
from prefect.cache_policies import INPUTS, CachePolicy
from prefect.tasks import exponential_backoff

from tasks.acquire.sources import classic, kaggle
from tasks.acquire.sources.archive import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_ENTRIES,
    ExtractLimits,
    archive_stem,
    extract_archive,
    is_archive_name,
)
from tasks.acquire.sources.download import credentials_problem, download, http_auth, redact, url_file_name
from tasks.acquire.sources.folder import (
    IMAGE_EXTENSIONS,
    file_fingerprint,
    folder_fingerprint,
    list_image_names,
    list_images,
    pick_images_folder,
)
from tasks.acquire.sources.sample import IDENTITY as SAMPLE_IDENTITY
from tasks.acquire.sources.sample import write_sample
from tasks.atomic import read_json, write_json
from tasks.caching import OutputsExist, key_policy, step_options
from tasks.errors import UserError, is_network_error
from tasks.hashing import file_sha256

__all__ = ["AcquiredImages", "Source", "acquire", "acquire_images", "list_image_names", "list_images", "parse_source"]

KEYWORDS = ("sample", *kaggle.PRESETS, *classic.CLASSIC_NAMES)
ARCHIVE_KINDS = ("archive", "url")  # the kinds --sha256 applies to
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True)
class Source:
    """A parsed `--source`: what kind it is and where."""

    kind: str  # sample, folder, archive, url, kaggle or classic
    location: str = ""  # a resolved path, a URL, a Kaggle handle or a dataset name
    label: str = ""  # the preset's name, for `celeba` and `celebrities-100k`

    @property
    def name(self) -> str:
        """A short label for folder names and messages, safe in a file name."""
        if self.kind == "folder":
            raw = Path(self.location).name or "folder"
        elif self.kind == "archive":
            raw = archive_stem(self.location)
        elif self.kind == "url":
            raw = archive_stem(url_file_name(self.location))
        elif self.kind == "kaggle":
            raw = self.label or kaggle.split_handle(self.location)[1]
        else:
            raw = self.location or self.kind
        return re.sub(r"[^A-Za-z0-9._-]+", "_", raw).strip("._") or self.kind


@dataclass(frozen=True)
class AcquiredImages:
    """A local folder of images plus the identity that says which data it is."""

    source: Source
    images_dir: Path
    identity: str
    num_files: int


def parse_source(text: str) -> Source:
    """Validate `--source` early and offline, with a message that says what would work instead."""
    text = (text or "").strip()
    if text == "sample":
        return Source("sample")
    if text in kaggle.PRESETS:
        return Source("kaggle", kaggle.PRESETS[text].handle, text)
    if text.replace("-", "_") in classic.CLASSIC_NAMES:
        return Source("classic", text.replace("-", "_"))
    if text.startswith(kaggle.PREFIX):
        return Source("kaggle", kaggle.check_handle(text.removeprefix(kaggle.PREFIX).strip().strip("/")))
    if _URL.match(text):
        return _url_source(text)
    return _path_source(text)


def _url_source(text: str) -> Source:
    from urllib.parse import urlsplit

    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{redact(text)!r} is not an http(s) URL; only http:// and https:// downloads are supported")
    if problem := credentials_problem(text):
        raise ValueError(problem)
    return Source("url", text)


def _path_source(text: str) -> Source:
    if not text:
        raise ValueError(
            f"is empty; use one of {', '.join(KEYWORDS)}, kaggle:OWNER/SLUG, a URL, a folder or an archive"
        )
    path = Path(text).expanduser()
    if path.is_dir():
        return Source("folder", str(path.resolve()))
    if path.is_file() and is_archive_name(path):
        return Source("archive", str(path.resolve()))
    if path.exists():
        raise ValueError(f"{text!r} is a file; pass a folder of images or a .zip/.tar(.gz) archive of them")
    raise ValueError(
        f"{text!r} is neither a known source ({', '.join(KEYWORDS)}), kaggle:OWNER/SLUG, "
        "an http(s) URL, nor an existing folder or archive"
    )


def acquire_images(
    source_text: str,
    data_dir: Path,
    sha256: str | None = None,
    limits: ExtractLimits = ExtractLimits(),  # noqa: B008 - frozen
    auth_secret: str | None = None,
) -> AcquiredImages:
    """Make the source available as a local folder of images and say exactly which data it is.

    A URL's query (a signed link's token) is needed for the download only: the result, which Prefect
    pickles and preprocess records in its manifest, names the URL redacted.
    """
    try:
        source = parse_source(source_text)
    except ValueError as exc:
        raise UserError(f"--source: {exc}") from None
    data_dir, sha256 = Path(data_dir), (sha256 or "").strip().lower() or None
    if auth_secret and source.kind != "url":
        raise UserError(f"--http-auth-secret: applies to a URL source, not to --source {source_text}; leave it out")
    if sha256 and source.kind not in ARCHIVE_KINDS:
        raise UserError(f"--sha256: applies to a URL or an archive, not to --source {source_text}; leave it out")
    if source.kind == "kaggle":
        found = kaggle.acquire_kaggle(source.location, data_dir, _preset_images(source))
        source = Source("kaggle", found.handle, source.label)
        folder, identity = found.images_dir, found.identity
    elif source.kind == "url":
        folder, identity = _url(source, data_dir, sha256, limits, auth_secret)
        source = Source("url", redact(source.location))
    else:
        folder, identity = _LOCATORS[source.kind](source, data_dir, sha256, limits)
    files = list_image_names(folder)
    if not files:
        raise UserError(
            f"--source: no image files ({', '.join(sorted(IMAGE_EXTENSIONS))}) found in {folder}; "
            "point it at face images, or use 'sample'"
        )
    return AcquiredImages(source, folder, identity, len(files))


def _preset_images(source: Source) -> str:
    return kaggle.PRESETS[source.label].images if source.label else ""


def _sample(source: Source, data_dir: Path, sha256, limits) -> tuple[Path, str]:
    return write_sample(data_dir / "sources" / "lfw-sample"), SAMPLE_IDENTITY


def _folder(source: Source, data_dir: Path, sha256, limits) -> tuple[Path, str]:
    folder = Path(source.location)
    if not folder.is_dir():
        raise UserError(f"--source: the folder {folder} is gone; pass an existing folder of images")
    return folder, f"folder:{folder}:{folder_fingerprint(folder)}"


def _archive(source: Source, data_dir: Path, sha256: str | None, limits: ExtractLimits) -> tuple[Path, str]:
    archive = Path(source.location)
    if not archive.is_file():
        raise UserError(f"--source: the archive {archive} is gone; pass an existing .zip or .tar(.gz)")
    fingerprint = file_fingerprint(archive)
    if sha256 and (actual := file_sha256(archive)) != sha256:
        raise UserError(f"--sha256: {archive} has sha256 {actual}, not {sha256}; check the file and --sha256")
    dest = extract_archive(archive, data_dir / "sources" / f"{source.name}-{fingerprint[:12]}", limits)
    images = pick_images_folder(dest)
    return images, f"archive:{archive}:{fingerprint}:{images.relative_to(dest).as_posix()}"


def _url(
    source: Source, data_dir: Path, sha256: str | None, limits: ExtractLimits, auth_secret: str | None = None
) -> tuple[Path, str]:
    """Download and extract once; later runs find the record of what was extracted and need no network.

    The credentials in the Secret block `auth_secret` are read only when a download is needed."""
    url = source.location
    folder = data_dir / "sources" / "downloads" / hashlib.sha256(url.encode()).hexdigest()[:16]
    record_path = folder / "download.json"
    record = read_json(record_path)
    dest = data_dir / "sources" / str(record.get("extracted", "-"))
    if not (dest.is_dir() and (not sha256 or record.get("sha256") == sha256)):
        got = download(url, folder / url_file_name(url), sha256, http_auth(auth_secret))
        dest = extract_archive(got.path, data_dir / "sources" / f"{source.name}-{got.sha256[:12]}", limits)
        record = {"url": redact(url), "sha256": got.sha256, "etag": got.etag, "extracted": dest.name}
        write_json(record_path, record)
        got.path.unlink()  # the extracted folder is what is used; the record says where it came from
    images = pick_images_folder(dest)
    return images, f"url:{redact(url)}:sha256={record['sha256']}:{images.relative_to(dest).as_posix()}"


def _classic(source: Source, data_dir: Path, sha256, limits) -> tuple[Path, str]:
    from tasks.acquire.sources.arrays import write_png_folder

    images = classic.training_images(source.location, data_dir)
    digest = classic.array_digest(images)
    folder = write_png_folder(images, data_dir / "sources" / f"{source.location}-{digest[:12]}", source.location)
    return folder, f"keras:{source.location}:train:sha256={digest}"


_LOCATORS = {"sample": _sample, "folder": _folder, "archive": _archive, "classic": _classic}


def source_key(source_text: str, data_dir: Path) -> str | None:
    """The part of acquire's cache key that the inputs alone do not show, computed offline and cheaply.

    A folder's or archive's fingerprint (paths, sizes, mtimes), a Kaggle handle's pinned version, and
    a classic set's file fingerprint and pinned hash: when the data changes, the key does, and acquire runs again.
    """
    try:
        source = parse_source(source_text)
    except ValueError:
        return None
    if source.kind == "folder":
        return folder_fingerprint(Path(source.location))
    if source.kind == "archive":
        return file_fingerprint(Path(source.location)) if Path(source.location).is_file() else None
    if source.kind == "kaggle":
        return kaggle.pinned_handle(source.location, Path(data_dir))
    if source.kind == "classic":
        return classic.cache_key(source.location, Path(data_dir))
    return source.kind


@dataclass
class _SourceContents(CachePolicy):
    """Part of acquire's cache key: what the source holds now (see `source_key`)."""

    def compute_key(self, task_ctx, inputs, flow_parameters, **kwargs) -> str | None:
        return source_key(inputs.get("source_text", ""), inputs.get("data_dir", Path(".")))


def _acquire_run_name(parameters: dict) -> str:
    """`acquire[celeba]`, `acquire[faces (folder)]`: what was fetched, readable in the run's task list."""
    try:
        source = parse_source(parameters["source_text"])
    except ValueError:
        return f"acquire[{parameters['source_text']}]"
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
def acquire(
    source_text: str,
    data_dir: Path,
    sha256: str | None = None,
    max_extract_bytes: int = DEFAULT_MAX_BYTES,
    max_extract_entries: int = DEFAULT_MAX_ENTRIES,
    auth_secret: str | None = None,
) -> AcquiredImages:
    """Prefect step: the source as a local folder of images (`auth_secret`: a Secret block's name, not its value)."""
    limits = ExtractLimits(max_extract_bytes, max_extract_entries)
    return acquire_images(source_text, data_dir, sha256, limits, auth_secret)
