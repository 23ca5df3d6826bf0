"""Real HTTP servers on 127.0.0.1 for the download tests: a file server with Range support, and Kaggle's API.

Both are `http.server` servers in a thread. They record every request, so tests can assert what the
real clients (`requests`, `kagglehub`) asked for, and they can be told to misbehave the way real
servers do: fail with 503, cut a transfer short, refuse credentials.
"""

import hashlib
import io
import json
import re
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np

KAGGLE_PORT = 7777  # where kagglehub looks when KAGGLE_API_ENVIRONMENT=TEST
KAGGLE_TOKEN = "test-token-4f1d9c"  # what the Kaggle server accepts as `Authorization: Bearer ...`


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[ThreadingHTTPServer]:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class FileServer(ThreadingHTTPServer):
    """Serves a folder like `python -m http.server`, plus Range/If-Range, ETag and scripted failures."""

    def __init__(self, folder: Path, ranges: bool = True):
        super().__init__(("127.0.0.1", 0), lambda *a: _FileHandler(*a, directory=str(folder)))
        self.ranges = ranges
        self.failures = 0  # answer this many requests with 503 first
        self.cut_after: int | None = None  # send only this many body bytes of the next response
        self.auth: str | None = None  # when set, the Authorization header every request must carry
        self.requests: list[dict] = []

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{name}"


class _FileHandler(SimpleHTTPRequestHandler):
    def do_GET(self) -> None:
        srv: FileServer = self.server
        srv.requests.append(
            {"path": self.path, "range": self.headers.get("Range"), "authorization": self.headers.get("Authorization")}
        )
        if srv.auth is not None and self.headers.get("Authorization") != srv.auth:
            self.send_error(401, "Unauthorized")
            return
        if srv.failures > 0:
            srv.failures -= 1
            self.send_error(503, "Busy")
            return
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404, "Not Found")
            return
        data = path.read_bytes()
        etag = '"' + hashlib.sha1(data).hexdigest()[:16] + '"'
        start = self._range_start(etag)
        if start is not None and start >= len(data):
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{len(data)}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if start is None:
            start = 0
            self.send_response(200)
        else:
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Length", str(len(data) - start))
        self.send_header("ETag", etag)
        if srv.ranges:
            self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        body = data[start:]
        if srv.cut_after is not None:
            body, srv.cut_after = body[: srv.cut_after], None
            self.close_connection = True
        self.wfile.write(body)

    def _range_start(self, etag: str) -> int | None:
        """The offset a valid `Range: bytes=N-` asks for, or None to send the whole file."""
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
        if not (self.server.ranges and match):
            return None
        if_range = self.headers.get("If-Range")
        return int(match.group(1)) if if_range in (None, etag) else None

    def log_message(self, *args) -> None:
        pass


@dataclass
class KaggleDataset:
    version: int
    archives: dict[int, bytes] = field(default_factory=dict)  # version -> zip bytes


class KaggleServer(ThreadingHTTPServer):
    """Kaggle's dataset API as kagglehub 1.x speaks it: JSON POSTs, and a redirect to the archive bytes."""

    allow_reuse_address = True

    def __init__(self, datasets: dict[str, KaggleDataset], token: str = KAGGLE_TOKEN):
        super().__init__(("127.0.0.1", KAGGLE_PORT), _KaggleHandler)
        self.datasets, self.token = datasets, token
        self.calls: list[tuple[str, dict]] = []

    def rpc_names(self) -> list[str]:
        return [path.rsplit("/", 1)[-1] for path, _ in self.calls]


class _KaggleHandler(BaseHTTPRequestHandler):
    API = "/api/v1/datasets.DatasetApiService/"

    def do_POST(self) -> None:
        srv: KaggleServer = self.server
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        srv.calls.append((self.path, body))
        if not self.path.startswith(self.API):
            return self._json(404, {"code": 404, "message": "no such method"})
        auth = self.headers.get("Authorization", "")
        if not auth:
            return self._json(401, {"code": 401, "message": "Unauthenticated"})
        if auth != f"Bearer {srv.token}":
            return self._json(403, {"code": 403, "message": "Permission denied"})
        ref = f"{body.get('ownerSlug')}/{body.get('datasetSlug')}"
        dataset = srv.datasets.get(ref)
        method = self.path.removeprefix(self.API)
        if dataset is None:
            return self._json(404, {"code": 404, "message": f"dataset {ref} not found"})
        if method == "GetDataset":
            return self._json(200, {"ref": ref, "currentVersionNumber": dataset.version, "title": ref})
        if method == "DownloadDataset":
            version = body.get("datasetVersionNumber")
            if version not in dataset.archives:
                return self._json(404, {"code": 404, "message": f"version {version} not found"})
            self.send_response(302)
            self.send_header("Location", f"/blobs/{ref}/{version}.zip")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        return self._json(404, {"code": 404, "message": f"unknown method {method}"})

    def do_GET(self) -> None:
        """The signed-URL side: the archive bytes that DownloadDataset redirects to."""
        match = re.fullmatch(r"/blobs/([^/]+/[^/]+)/(\d+)\.zip", self.path)
        dataset = self.server.datasets.get(match.group(1)) if match else None
        data = dataset.archives.get(int(match.group(2))) if dataset else None
        if data is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


def image_bytes(ext: str = ".png", size: tuple[int, int] = (20, 16), seed: int = 0) -> bytes:
    """A small, valid image file's bytes (height, width)."""
    rng = np.random.default_rng(seed)
    ok, buf = cv2.imencode(ext, rng.integers(0, 255, (*size, 3), dtype=np.uint8))
    assert ok
    return buf.tobytes()


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()
