"""url: an http(s) URL to a .zip/.tar(.gz) of images, downloaded with resume, then extracted once."""

import hashlib
import re
from urllib.parse import urlsplit

from tasks.acquire.kinds import Fetch, Source, SourceKind, register
from tasks.acquire.sources.archive import archive_stem, extract_archive
from tasks.acquire.sources.download import credentials_problem, download, http_auth, url_file_name
from tasks.acquire.sources.folder import pick_images_folder
from tasks.atomic import read_json, write_json
from tasks.redaction import redact

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def _parse(text: str) -> Source | None:
    if not _URL.match(text):
        return None
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{redact(text)!r} is not an http(s) URL; only http:// and https:// downloads are supported")
    if problem := credentials_problem(text):
        raise ValueError(problem)
    return Source("url", text)


def _locate(source: Source, fetch: Fetch):
    """Download and extract once; later runs find the record of what was extracted and need no network.

    The credentials in the Secret block `fetch.auth_secret` are read only when a download is needed. A URL's
    query (a signed link's token) is needed for the download only: the source is recorded redacted."""
    url, data_dir, sha256 = source.location, fetch.data_dir, fetch.sha256
    folder = data_dir / "sources" / "downloads" / hashlib.sha256(url.encode()).hexdigest()[:16]
    record_path = folder / "download.json"
    record = read_json(record_path)
    dest = data_dir / "sources" / str(record.get("extracted", "-"))
    if not (dest.is_dir() and (not sha256 or record.get("sha256") == sha256)):
        got = download(url, folder / url_file_name(url), sha256, http_auth(fetch.auth_secret))
        dest = extract_archive(got.path, data_dir / "sources" / f"{source.name}-{got.sha256[:12]}", fetch.limits)
        record = {"url": redact(url), "sha256": got.sha256, "etag": got.etag, "extracted": dest.name}
        write_json(record_path, record)
        got.path.unlink()  # the extracted folder is what is used; the record says where it came from
    images = pick_images_folder(dest)
    identity = f"url:{redact(url)}:sha256={record['sha256']}:{images.relative_to(dest).as_posix()}"
    return Source("url", redact(source.location)), images, identity


register(
    SourceKind(
        "url",
        order=40,
        parse=_parse,
        locate=_locate,
        display=lambda source: archive_stem(url_file_name(source.location)),
        sha256=True,
        auth=True,
    )
)
