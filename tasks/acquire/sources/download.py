"""Download an http(s) archive to disk: streamed, resumable, optionally verified, never an HTML page.

The bytes go to `<name>.part` beside the final file, with the server's validators (ETag,
Last-Modified, size) in `<name>.part.json`. A later try asks only for the missing bytes with a
`Range` request (guarded by `If-Range`), and starts over when the server cannot resume. The finished
file is verified against `--sha256` when one is given and renamed to its final name only then.
"""

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from tasks.atomic import read_json, write_json
from tasks.errors import NetworkError, UserError
from tasks.hashing import file_sha256
from tasks.progress import Throttled, bytes_bar, run_logger
from tasks.redaction import redact

NET_CHUNK = 1 << 16  # per network read; a dropped connection loses at most one
TIMEOUT = (15, 60)  # seconds to connect, and between bytes
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<?xml")


@dataclass(frozen=True)
class Downloaded:
    """A finished download and its content hash."""

    path: Path
    sha256: str
    etag: str


def credentials_problem(url: str) -> str | None:
    """Why a URL may not carry credentials (one line, naming the two proper places), or None."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return None
    return (
        f"{redact(url)!r} has a user name or password in it, which Prefect would keep in its database with the "
        f"flow run's parameters; put the login in ~/.netrc (machine {parts.hostname} login USER password PASS) "
        "or in a Prefect Secret block named by --http-auth-secret NAME, and give the URL without it"
    )


def query_warning(url: str) -> str | None:
    """A one-line warning for a URL with a query (a signed link's token), or None."""
    if not urlsplit(url).query:
        return None
    return (
        f"--source {redact(url)}: its query (a signed link's token?) is left out of every file ganflow writes, "
        "but Prefect keeps the flow run's parameters, the URL included, in its database; for a lasting "
        "credential use ~/.netrc or --http-auth-secret NAME"
    )


def http_auth(secret_name: str | None):
    """The `requests` auth for a download: the Prefect Secret block's value, read now, never stored.

    `USER:PASSWORD` is sent as HTTP Basic auth, anything else as `Authorization: Bearer VALUE`. Without a
    secret `requests` reads ~/.netrc (or $NETRC) for the host by itself.
    """
    if not secret_name:
        return None
    import requests
    from prefect.blocks.system import Secret

    try:
        value = str(Secret.load(secret_name).get()).strip()
    except ValueError:
        raise UserError(
            f"--http-auth-secret: there is no Secret block named {secret_name!r}; create it in the Prefect UI "
            f"(Blocks, Secret) or with Secret(value='USER:PASSWORD').save({secret_name!r})"
        ) from None
    if not value:
        raise UserError(f"--http-auth-secret: the Secret block {secret_name!r} is empty")
    if ":" in value and not value.lower().startswith("bearer "):
        user, password = value.split(":", 1)
        return requests.auth.HTTPBasicAuth(user, password)
    return _Bearer(value.removeprefix("Bearer ").removeprefix("bearer ").strip())


class _Bearer:
    """`Authorization: Bearer TOKEN` as a requests auth object, so ~/.netrc cannot replace it."""

    def __init__(self, token: str):
        self.token = token

    def __call__(self, request):
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


def url_file_name(url: str) -> str:
    """The last path segment, made safe for a file name (`download` when there is none)."""
    name = unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")
    return name or "download"


def download(
    url: str,
    target: Path,
    expected_sha256: str | None = None,
    auth=None,
    mismatch: Callable[[str], str] | None = None,
) -> Downloaded:
    """Fetch `url` to `target` (resuming `target.part`), verify it, and return its path and sha256.

    `auth` is a `requests` auth (see `http_auth`); None lets `requests` use ~/.netrc.
    A finished `target` is reused without the network, unless it fails `expected_sha256`: then the
    remote file may have been replaced, so it is fetched once more before giving up. `mismatch` turns
    the actual sha256 into the one-line refusal, for callers whose expected hash is not `--sha256`.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        sha = file_sha256(target)
        if not expected_sha256 or sha == expected_sha256.lower():
            return Downloaded(target, sha, "")
        target.unlink()
    meta_path = Path(f"{target}.part.json")
    part = _fetch(url, target, meta_path, allow_restart=True, auth=auth)
    sha = file_sha256(part)
    if expected_sha256 and sha != expected_sha256.lower():
        _discard(target, meta_path)
        raise UserError(
            mismatch(sha)
            if mismatch
            else f"--sha256: {redact(url)} has sha256 {sha}, not the expected {expected_sha256.lower()}; "
            "the download was deleted. Check --sha256 and the URL"
        )
    etag = _read_meta(meta_path, url).get("etag", "")
    os.replace(part, target)
    meta_path.unlink(missing_ok=True)
    return Downloaded(target, sha, etag)


def _fetch(url: str, target: Path, meta_path: Path, allow_restart: bool, auth=None) -> Path:
    """Complete `target.part` from where an earlier try stopped, when the server agrees; return its path."""
    import requests

    part = Path(f"{target}.part")
    meta = _read_meta(meta_path, url)
    offset = part.stat().st_size if part.exists() and meta else 0
    if offset and offset == meta.get("total"):
        return part  # every byte arrived last time; only the rename was missing
    headers = {"Accept-Encoding": "identity"}  # the archive's own bytes, so sizes and offsets match
    if offset:
        headers["Range"] = f"bytes={offset}-"
        if meta.get("etag") or meta.get("last_modified"):
            headers["If-Range"] = meta.get("etag") or meta["last_modified"]
    try:
        with requests.get(url, headers=headers, stream=True, timeout=TIMEOUT, auth=auth) as response:
            if response.status_code == 416 and allow_restart:  # the part no longer fits the file: start over
                _discard(target, meta_path)
                return _fetch(url, target, meta_path, allow_restart=False, auth=auth)
            _check_status(response, url)
            offset, total = _start(response, offset, meta, url)
            if offset < 0:
                _discard(target, meta_path)
                raise NetworkError(f"--source: {redact(url)} resumed at the wrong place; the next try starts over")
            write_json(meta_path, {"url": redact(url), **_validators(response), "total": total})
            _stream(response, part, offset, total, url)
    except requests.RequestException as exc:
        raise NetworkError(
            f"--source: downloading {redact(url)} failed ({_reason(exc)}); check the network connection "
            "and the server, then run again: the download resumes where it stopped"
        ) from None
    return part


def _reason(exc: Exception) -> str:
    """The OS-level cause ("Connection refused") when there is one, else the error's type."""
    found = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", str(exc))
    return found.group(1).strip() if found else type(exc).__name__


def _check_status(response, url: str) -> None:
    code = response.status_code
    if code in (200, 206):
        return
    if code in (408, 425, 429) or code >= 500:
        raise NetworkError(f"--source: {redact(url)} answered HTTP {code} {response.reason}; it is retried")
    hint = {
        401: "it needs a login: put it in ~/.netrc or a Prefect Secret block named by --http-auth-secret",
        403: "access is denied or the link has expired: use a public, direct download link",
        404: "nothing is there: check the URL",
        410: "it is gone: check the URL",
    }.get(code, "check the URL")
    raise UserError(f"--source: {redact(url)} answered HTTP {code} {response.reason}; {hint}")


def _start(response, offset: int, meta: dict, url: str) -> tuple[int, int | None]:
    """Where this response's bytes go in the file, and the file's full size when the server says."""
    if _content_type(response) == "text/html":
        raise _html(url, f"Content-Type {response.headers.get('Content-Type')}")
    if response.status_code == 206:
        match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
        total = int(match.group(3)) if match and match.group(3) != "*" else None
        if not match or int(match.group(1)) != offset or (meta.get("total") and total != meta["total"]):
            return -1, total  # not the continuation of our part: the caller starts over
        return offset, total
    if offset:
        run_logger().info("%s cannot resume (HTTP 200 to a Range request); downloading from the start", redact(url))
    length = response.headers.get("Content-Length")
    return 0, int(length) if length and length.isdigit() else None


def _stream(response, part: Path, offset: int, total: int | None, url: str) -> None:
    log = Throttled(run_logger())
    done = offset
    with open(part, "ab" if offset else "wb") as out, bytes_bar() as bar:
        job = bar.add_task(f"download {url_file_name(url)}", total=total, completed=offset)
        for chunk in response.iter_content(NET_CHUNK):
            if done == 0 and _looks_like_html(chunk):
                out.close()
                part.unlink(missing_ok=True)
                raise _html(url, "the body is an HTML page")
            out.write(chunk)
            done += len(chunk)
            bar.update(job, completed=done)
            log.info("download %s: %d of %s bytes", redact(url), done, total or "?")
    if total is not None and done != total:
        raise NetworkError(f"--source: {redact(url)} stopped after {done} of {total} bytes; the next try resumes")


def _looks_like_html(chunk: bytes) -> bool:
    head = chunk[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(_HTML_STARTS) and (b"<html" in head or b"<!doctype html" in head or b"<body" in head)


def _html(url: str, why: str) -> UserError:
    return UserError(
        f"--source: {redact(url)} served an HTML page, not an archive ({why}): it is probably a login, "
        "consent or 'cannot scan this file' page; use the direct download link of the .zip or .tar.gz"
    )


def _content_type(response) -> str:
    return response.headers.get("Content-Type", "").split(";")[0].strip().lower()


def _validators(response) -> dict:
    return {"etag": response.headers.get("ETag", ""), "last_modified": response.headers.get("Last-Modified", "")}


def _read_meta(path: Path, url: str) -> dict:
    """The validators saved with a partial download, if they belong to this URL."""
    meta = read_json(path)
    return meta if meta.get("url") == redact(url) else {}


def _discard(target: Path, meta: Path) -> None:
    for path in (target, Path(f"{target}.part"), meta):
        path.unlink(missing_ok=True)
