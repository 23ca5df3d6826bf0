"""Kaggle datasets through the official `kagglehub` client, pinned to one version so reruns work offline.

The first run of an unversioned handle asks Kaggle for the current version, downloads it into
kagglehub's cache, and pins it in `data-dir/sources/kaggle/OWNER/SLUG.json`. Every later run passes the
versioned handle, which kagglehub serves from its cache without the network, and the same data keeps
the same identity. Credentials are kagglehub's own (KAGGLE_API_TOKEN, KAGGLE_USERNAME/KAGGLE_KEY,
~/.kaggle/kaggle.json); this module only ever names where they came from, never their values.
"""

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from tasks.acquire.sources.folder import folder_fingerprint, list_images, pick_images_folder
from tasks.atomic import write_json
from tasks.errors import NetworkError, UserError
from tasks.progress import run_logger

PREFIX = "kaggle:"
HANDLE = re.compile(r"(?P<owner>[A-Za-z0-9][\w.-]*)/(?P<slug>[A-Za-z0-9][\w.-]*)(?:/versions/(?P<version>[1-9]\d*))?")
_VERSION_IN_PATH = re.compile(r"[/\\]versions[/\\](\d+)$")


@dataclass(frozen=True)
class Preset:
    """A named dataset: its Kaggle handle and, when known, the folder that holds its images."""

    handle: str
    images: str = ""


PRESETS = {
    "celeba": Preset("jessicali9530/celeba-dataset", "img_align_celeba/img_align_celeba"),
    "celebrities-100k": Preset("greg115/celebrities-100k", "100k/100k"),  # beside 100k.txt, a list of names
}


@dataclass(frozen=True)
class KaggleImages:
    """Where a downloaded dataset's images are, and which exact version they came from."""

    images_dir: Path
    handle: str  # always versioned when the version is known
    version: int | None
    identity: str


def check_handle(handle: str) -> str:
    """`OWNER/SLUG` or `OWNER/SLUG/versions/N`, checked offline; ValueError with the accepted forms otherwise."""
    if not HANDLE.fullmatch(handle):
        raise ValueError(
            f"'{PREFIX}{handle}' is not a Kaggle dataset handle; use kaggle:OWNER/SLUG or kaggle:OWNER/SLUG/versions/N"
        )
    return handle


def split_handle(handle: str) -> tuple[str, str, int | None]:
    match = HANDLE.fullmatch(check_handle(handle))
    version = match["version"]
    return match["owner"], match["slug"], int(version) if version else None


def pin_path(data_dir: Path, handle: str) -> Path:
    owner, slug, _ = split_handle(handle)
    return Path(data_dir) / "sources" / "kaggle" / owner / f"{slug}.json"


def pinned_handle(handle: str, data_dir: Path) -> str:
    """The versioned handle to ask for: the handle itself when it has a version, else the pinned one."""
    if split_handle(handle)[2] is not None:
        return handle
    try:
        return json.loads(pin_path(data_dir, handle).read_text())["handle"]
    except (OSError, ValueError, KeyError):
        return handle


def acquire_kaggle(handle: str, data_dir: Path, images_subdir: str = "") -> KaggleImages:
    """Download (or reuse) the dataset and find its images folder; pin the version on first use."""
    wanted = pinned_handle(handle, data_dir)
    owner, slug, version = split_handle(wanted)
    root = Path(_download(wanted))
    if version is None:
        found = _VERSION_IN_PATH.search(str(root))
        version = int(found.group(1)) if found else None
    resolved = f"{owner}/{slug}/versions/{version}" if version else wanted
    if version and wanted != resolved:
        write_json(pin_path(data_dir, handle), {"handle": resolved, "version": version, "requested": handle})
        run_logger().info("kaggle: pinned %s to version %d", handle, version)
    images = _images_folder(root, images_subdir)
    subdir = images.relative_to(root).as_posix() if images.is_relative_to(root) else str(images)
    # Without a version (a Kaggle notebook mount), the files themselves are the identity.
    exact = resolved if version else f"{resolved}@{folder_fingerprint(images)}"
    return KaggleImages(images, resolved, version, f"kaggle:{exact}:{subdir}")


def _images_folder(root: Path, images_subdir: str) -> Path:
    """The preset's folder when the download has it, else the deepest folder holding every image."""
    if images_subdir and (root / images_subdir).is_dir() and list_images(root / images_subdir):
        return root / images_subdir
    return pick_images_folder(root)


def _download(handle: str) -> str:
    """kagglehub's download, with its failures turned into one line that says what to set or check."""
    try:
        import kagglehub
        from kagglehub.config import get_kaggle_credentials

        get_kaggle_credentials()  # a malformed kaggle.json fails here, before any request
        return kagglehub.dataset_download(handle)
    except Exception as exc:  # translated into one line where known; anything else is re-raised as it is
        raise _explain(exc, handle) from None


def _explain(exc: Exception, handle: str) -> Exception:
    import requests
    from kagglehub.exceptions import DataCorruptionError

    source = f"--source {PREFIX}{handle}"
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return _explain_status(exc.response.status_code, source, handle)
    if isinstance(exc, requests.ConnectionError | requests.Timeout):
        return NetworkError(
            f"{source}: cannot reach Kaggle at {_endpoint()}; check the network connection and proxy "
            "settings (HTTPS_PROXY); a version already downloaded (kaggle:OWNER/SLUG/versions/N) needs no network"
        )
    if isinstance(exc, requests.RequestException | DataCorruptionError):
        return NetworkError(f"{source}: the download from Kaggle failed ({type(exc).__name__}); it is retried")
    if isinstance(exc, ValueError) and "credentials file" in str(exc):
        return UserError(f"{source}: {exc}; fix the file or remove it and set KAGGLE_API_TOKEN instead")
    return exc


def _explain_status(status: int, source: str, handle: str) -> Exception:
    owner, slug, _ = split_handle(handle)
    page = f"https://www.kaggle.com/datasets/{owner}/{slug}"
    if status in (401, 403):
        where = credentials_source()
        if where is None:
            return UserError(
                f"{source}: Kaggle refused the download (HTTP {status}) and no Kaggle credentials were found; "
                "set KAGGLE_API_TOKEN (or KAGGLE_USERNAME and KAGGLE_KEY), or save your kaggle.json from "
                "kaggle.com/settings (API) as ~/.kaggle/kaggle.json"
            )
        return UserError(
            f"{source}: Kaggle denied access (HTTP {status}) with the credentials from {where}; check that they "
            f"are current (kaggle.com/settings, API) and that your account accepted the dataset's rules at {page}"
        )
    if status == 404:
        return UserError(f"{source}: no such Kaggle dataset or version (HTTP 404); check the handle at {page}")
    if status in (408, 429) or status >= 500:
        return NetworkError(f"{source}: Kaggle answered HTTP {status}; it is retried")
    return UserError(f"{source}: Kaggle answered HTTP {status}; check the handle at {page}")


def credentials_source() -> str | None:
    """Where kagglehub finds credentials, by name only (the values are never read here)."""
    if os.environ.get("KAGGLE_API_TOKEN"):
        return "KAGGLE_API_TOKEN"
    token = Path("~/.kaggle/access_token").expanduser()
    if token.exists():
        return str(token)
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return "KAGGLE_USERNAME/KAGGLE_KEY"
    config = Path(os.environ.get("KAGGLE_CONFIG_DIR") or Path("~/.kaggle").expanduser()) / "kaggle.json"
    return str(config) if config.exists() else None


def _endpoint() -> str:
    from kagglesdk.kaggle_env import get_endpoint, get_env

    return get_endpoint(get_env())
