"""http(s) archive sources against a real `http.server` on 127.0.0.1, with the real `requests` client."""

import hashlib
import json

import numpy as np
import pytest
from loopback import FileServer, image_bytes, serving, zip_bytes

from tasks.acquire.sources.download import download, redact
from tasks.acquire.task import acquire_images
from tasks.errors import NetworkError, UserError


@pytest.fixture
def site(tmp_path):
    """A folder served over HTTP: faces.zip (with padding, so a transfer can be cut), HTML traps."""
    root = tmp_path / "site"
    root.mkdir()
    faces = {f"faces/{i}.png": image_bytes(seed=i) for i in range(4)}
    faces["faces/padding.bin"] = np.random.default_rng(1).bytes(300_000)  # incompressible bulk
    (root / "faces.zip").write_bytes(zip_bytes({**faces, "labels.csv": b"a,b\n"}))
    (root / "page.html").write_text("<!DOCTYPE html><html><body>Sign in</body></html>")
    (root / "login.zip").write_text("\n  <!doctype html>\n<html><body>Please sign in</body></html>")  # a lying name
    with serving(FileServer(root)) as server:
        yield server, root


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_full_download_is_extracted_and_reused_offline(site, tmp_path):
    server, root = site
    url = server.url("faces.zip") + "?token=secret"
    got = acquire_images(url, tmp_path / "data")
    assert got.num_files == 4 and got.images_dir.name == "faces"
    assert got.identity == f"url:{server.url('faces.zip')}:sha256={_sha(root / 'faces.zip')}:faces"
    assert "secret" not in got.identity  # a signed URL's query never reaches identities or manifests
    assert got.source.name == "faces"
    downloads = list((tmp_path / "data" / "sources" / "downloads").rglob("*"))
    record = json.loads(next(p for p in downloads if p.name == "download.json").read_text())
    assert record["sha256"] == _sha(root / "faces.zip") and record["etag"]
    assert not [p for p in downloads if p.suffix in (".zip", ".part")]  # only the extracted folder is kept

    server.shutdown()  # no network from here on
    assert acquire_images(url, tmp_path / "data").identity == got.identity


def test_a_partial_download_resumes_with_a_range_request(site, tmp_path):
    server, root = site
    size = (root / "faces.zip").stat().st_size
    server.cut_after = size // 2  # the connection drops halfway
    target = tmp_path / "dl" / "faces.zip"
    with pytest.raises(NetworkError, match="resumes where it stopped"):
        download(server.url("faces.zip"), target)
    kept = (tmp_path / "dl" / "faces.zip.part").stat().st_size
    assert 0 < kept <= size // 2 and not target.exists()

    got = download(server.url("faces.zip"), target)
    assert server.requests[-1]["range"] == f"bytes={kept}-"  # only the missing bytes were asked for
    assert got.sha256 == _sha(root / "faces.zip") == _sha(target)
    assert not (tmp_path / "dl" / "faces.zip.part").exists()


def test_a_server_without_ranges_restarts_the_download(tmp_path):
    (tmp_path / "faces.zip").write_bytes(zip_bytes({"a.png": image_bytes(), "pad": b"\1" * 100_000}))
    with serving(FileServer(tmp_path, ranges=False)) as server:
        server.cut_after = 1000
        with pytest.raises(NetworkError):
            download(server.url("faces.zip"), tmp_path / "dl" / "faces.zip")
        got = download(server.url("faces.zip"), tmp_path / "dl" / "faces.zip")
    assert got.sha256 == _sha(tmp_path / "faces.zip")


def test_a_sha256_mismatch_is_refused_and_the_file_deleted(site, tmp_path):
    server, root = site
    with pytest.raises(UserError, match=f"--sha256: .* has sha256 {_sha(root / 'faces.zip')}, not the expected 0+;"):
        acquire_images(server.url("faces.zip"), tmp_path / "data", sha256="0" * 64)
    assert not [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
    got = acquire_images(server.url("faces.zip"), tmp_path / "data", sha256=_sha(root / "faces.zip").upper().lower())
    assert got.num_files == 4


@pytest.mark.parametrize("name", ["page.html", "login.zip"])
def test_an_html_page_is_refused(site, tmp_path, name):
    server, _ = site
    with pytest.raises(UserError, match="served an HTML page, not an archive") as err:
        acquire_images(server.url(name), tmp_path / "data")
    assert "\n" not in str(err.value)
    assert not [p for p in (tmp_path / "data").rglob("*") if p.suffix in (".zip", ".part", ".html")]


def test_http_errors_are_user_errors_or_retryable(site, tmp_path):
    server, _ = site
    with pytest.raises(UserError, match="HTTP 404 .*check the URL"):
        acquire_images(server.url("missing.zip"), tmp_path / "data")
    server.failures = 1
    with pytest.raises(NetworkError, match="HTTP 503"):
        acquire_images(server.url("faces.zip"), tmp_path / "data")
    port = server.server_address[1]
    server.shutdown()
    server.server_close()
    with pytest.raises(NetworkError, match="Connection refused"):
        acquire_images(f"http://127.0.0.1:{port}/faces.zip", tmp_path / "data")


def test_redact_drops_credentials_and_query():
    assert redact("https://user:pw@example.org:8443/a/b.zip?sig=x#f") == "https://example.org:8443/a/b.zip"
