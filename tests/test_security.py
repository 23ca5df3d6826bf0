"""Secrets are never written down, and the result store is the data folder's own (issue 13, points 1 and 3).

Downloads go to a real `http.server` on 127.0.0.1 with the real `requests` client; the flow runs for real
on the session's Prefect test server; credentials come from a real ~/.netrc and a real Secret block.
"""

import base64
import io
import logging
import os
import pickle
import re
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from classic_files import Planted, mnist_npz, planted_cifar, red_cifar, sha256
from loopback import FileServer, serving
from pydantic import ValidationError

from flows.params import RunParams
from tasks.acquire.sources import classic
from tasks.acquire.task import acquire_images
from tasks.caching import RESULTS_FOLDER, result_storage_dir
from tasks.errors import UserError

TOKEN = "tok3n-5ecr3t-7f9a2c"  # a signed link's token: may appear in no file ganflow writes


def _zip_folder(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path in sorted(folder.iterdir()):
            zf.write(path, f"faces/{path.name}")
    return buf.getvalue()


@pytest.fixture
def site(tmp_path, make_faces):
    root = tmp_path / "site"
    root.mkdir()
    (root / "faces.zip").write_bytes(_zip_folder(make_faces(8)))
    with serving(FileServer(root)) as server:
        yield server


def _files_holding(needle: str, *folders: Path) -> list[Path]:
    """Every file under the folders whose bytes contain `needle` (pickles and .npy included)."""
    return [
        path
        for folder in folders
        if folder.exists()
        for path in folder.rglob("*")
        if path.is_file() and needle.encode() in path.read_bytes()
    ]


# Point 1: a URL with a user name or password in it is refused, pointing at the two proper places.


@pytest.mark.parametrize("url", ["http://alice:wonderland@127.0.0.1:9/f.zip", "https://alice@example.org/f.zip"])
def test_a_url_with_credentials_is_refused_in_one_line(url, tmp_path):
    with pytest.raises(ValidationError) as caught:
        RunParams(source=url)
    message = caught.value.errors()[0]["msg"]
    assert "~/.netrc" in message and "--http-auth-secret" in message and "\n" not in message
    assert "wonderland" not in message and "alice" not in message
    with pytest.raises(UserError, match="~/.netrc"):
        acquire_images(url, tmp_path / "data")


def test_the_cli_refuses_a_url_with_credentials_without_echoing_them():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", "--source", "https://bob:hunter2@example.org/faces.zip"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    lines = out.stderr.strip().splitlines()
    assert out.returncode != 0 and len(lines) == 1 and "--http-auth-secret" in lines[0], out.stderr
    assert "hunter2" not in out.stderr + out.stdout


# Point 1: credentials have a home that is never a flow parameter.


def test_a_login_in_netrc_is_used(site, tmp_path, monkeypatch):
    site.auth = "Basic " + base64.b64encode(b"alice:wonderland").decode()
    with pytest.raises(UserError, match="HTTP 401.*~/.netrc"):
        acquire_images(site.url("faces.zip"), tmp_path / "data")
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login alice password wonderland\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    assert acquire_images(site.url("faces.zip"), tmp_path / "data").num_files == 8
    assert not _files_holding("wonderland", tmp_path / "data")


@pytest.mark.parametrize(
    ("value", "header"),
    [("alice:wonderland", "Basic " + base64.b64encode(b"alice:wonderland").decode()), (TOKEN, f"Bearer {TOKEN}")],
)
def test_a_secret_block_is_read_at_download_time(prefect_server, site, tmp_path, value, header):
    from prefect.blocks.system import Secret

    name = "faces-login-basic" if ":" in value else "faces-login-bearer"
    Secret(value=value).save(name, overwrite=True)
    site.auth = header
    got = acquire_images(site.url("faces.zip"), tmp_path / "data", auth_secret=name)
    assert got.num_files == 8 and site.requests[-1]["authorization"] == header
    assert not _files_holding(value, tmp_path / "data")
    with pytest.raises(UserError, match="no Secret block named 'no-such-login'"):
        acquire_images(site.url("faces.zip"), tmp_path / "other", auth_secret="no-such-login")


def test_http_auth_secret_is_checked_with_the_options():
    with pytest.raises(ValidationError, match="applies to a URL --source"):
        RunParams(http_auth_secret="faces-login")  # the default source is the built-in sample
    with pytest.raises(ValidationError, match="not a Prefect block name"):
        RunParams(source="https://example.org/f.zip", http_auth_secret="Faces Login")
    assert RunParams(source="https://example.org/f.zip", http_auth_secret="faces-login").http_auth_secret


# Point 3: the result store belongs to the data folder, owner-only.


def test_the_result_store_is_owner_only(tmp_path):
    folder = result_storage_dir(tmp_path / "data")
    assert folder == tmp_path / "data" / RESULTS_FOLDER and stat.S_IMODE(folder.stat().st_mode) == 0o700
    folder.chmod(0o777)  # opened up by someone: closed again before any pickle is read from it
    assert stat.S_IMODE(result_storage_dir(tmp_path / "data").stat().st_mode) == 0o700


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a folder to another user needs root")
def test_a_result_store_owned_by_someone_else_is_refused(tmp_path):
    folder = result_storage_dir(tmp_path / "data")
    os.chown(folder, 65534, 65534)
    with pytest.raises(UserError, match="belongs to another user"):
        result_storage_dir(tmp_path / "data")


# Points 1 and 3 end to end: a real flow run from a signed URL.


@pytest.mark.slow
def test_a_signed_urls_token_is_written_nowhere_and_the_cache_follows_the_data_dir(
    prefect_server, site, tmp_path, monkeypatch, caplog
):
    from flows.flow_parameters import of_run
    from flows.ganflow import ganflow

    params = RunParams(
        source=site.url("faces.zip") + f"?token={TOKEN}&expires=9999",
        size=28,
        channels=1,
        epochs=1,
        batch_size=4,
        latent_dim=16,
        eval_every=0,
        eval_images=8,
        run_dir=tmp_path / "run",
        data_dir=tmp_path / "data",
    )
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    with caplog.at_level(logging.WARNING):
        first = ganflow(**of_run(params))
    warnings = [r.getMessage() for r in caplog.records if "Prefect keeps" in r.getMessage()]
    assert len(warnings) == 1 and TOKEN not in warnings[0] and "\n" not in warnings[0]

    store = tmp_path / "data" / RESULTS_FOLDER
    assert stat.S_IMODE(store.stat().st_mode) == 0o700 and any(store.iterdir())  # the pickles are here
    assert not (tmp_path / "here" / ".ganflow").exists()  # and nothing depends on where it was typed
    assert (tmp_path / "run" / "summary.json").is_file() and any((tmp_path / "data").rglob("manifest.json"))
    assert _files_holding(TOKEN, tmp_path / "run", tmp_path / "data", tmp_path / "here") == []
    assert _files_holding("expires=9999", tmp_path / "run", tmp_path / "data") == []

    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # another folder, the same --data-dir: the same cache
    second = ganflow(**of_run(params))
    assert first.states["train"] == "Completed"
    assert {second.states[s] for s in ("acquire", "preprocess", "train", "render")} == {"Cached"}


# Point 4: no known safe-mode bypass in the Keras we allow, and safe mode on for every model file a user passes.

SAFE_KERAS = "3.15.1"  # the fixes for the load_model safe-mode bypasses (CVE-2025-1550, -8747, -9905, -9906)


def test_the_keras_floor_has_the_safe_mode_fixes():
    import tomllib
    from importlib.metadata import version

    from packaging.requirements import Requirement
    from packaging.version import Version

    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
    keras = next(Requirement(d) for d in project["dependencies"] if Requirement(d).name == "keras")
    floors = [Version(s.version) for s in keras.specifier if s.operator == ">="]
    assert floors and min(floors) >= Version(SAFE_KERAS), keras
    assert Version(version("keras")) in keras.specifier


def _ganflow_generate(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "flows.cli", "generate", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.slow
def test_a_model_file_with_code_in_it_is_refused_in_one_line(tmp_path, monkeypatch):
    from ganmodels.tf import keras

    marker = tmp_path / "code-ran"
    monkeypatch.setenv("GANFLOW_TEST_MARKER", str(marker))  # where the model's code, if it ever ran, leaves a file
    code = lambda x: (open(__import__("os").environ["GANFLOW_TEST_MARKER"], "w").close(), x)[1]  # noqa: E731, SIM115
    model = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(code)])
    model.save(tmp_path / "evil.keras")
    model.save(tmp_path / "evil.h5")
    marker.unlink(missing_ok=True)  # building the model ran it once, here, on purpose

    for name, reason in (("evil.keras", "Keras refused to load it safely"), ("evil.h5", "only .keras model files")):
        out = _ganflow_generate("--model", str(tmp_path / name), "--out", str(tmp_path / "out"))
        lines = out.stderr.strip().splitlines()
        assert out.returncode == 1 and len(lines) == 1 and reason in lines[0], out.stderr[-2000:]
        assert str(tmp_path / name) in lines[0]
    assert not marker.exists() and not (tmp_path / "out").exists()


# Point 2: the classic datasets live in the data folder, and no byte of theirs is parsed before its hash is checked.


def _plant(data_dir: Path, name: str, data: bytes) -> Path:
    """A file left in the data folder where ganflow keeps `name`'s published file."""
    path = classic.local_file(name, data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("name", ["cifar10", "mnist", "fashion_mnist"])
def test_a_planted_file_is_refused_against_the_published_hash(name, tmp_path, monkeypatch):
    """No mirror, no pins: the published hashes (Keras's) refuse a planted file, unread and in one line."""
    monkeypatch.delenv(classic.MIRROR_ENV, raising=False)
    monkeypatch.delenv(classic.SHA256_ENV, raising=False)
    marker = tmp_path / "code-ran"
    payload = planted_cifar(marker) if name == "cifar10" else pickle.dumps(Planted(marker))
    path = _plant(tmp_path / "data", name, payload)
    with pytest.raises(UserError, match=re.escape(f"{path} has sha256 {sha256(payload)}, not the published")) as exc:
        acquire_images(name, tmp_path / "data")
    assert "\n" not in str(exc.value) and "delete it" in str(exc.value)
    assert not marker.exists() and path.read_bytes() == payload  # left for the user to look at


def test_a_planted_file_is_refused_before_any_download(classic_site, tmp_path):
    """A mirror is set, and the good file is pinned: the planted one is still refused, and not replaced."""
    marker = tmp_path / "code-ran"
    classic_site.serve("cifar-10-python.tar.gz", red_cifar())
    _plant(tmp_path / "data", "cifar10", planted_cifar(marker))
    with pytest.raises(UserError, match=r"cifar-10-python\.tar\.gz has sha256 \w+, not the published"):
        acquire_images("cifar10", tmp_path / "data")
    assert not marker.exists() and classic_site.fetched("cifar-10-python.tar.gz") == 0


def test_a_tampered_file_is_refused_then_downloaded_again_once_deleted(classic_site, tmp_path):
    data = tmp_path / "data"
    first = acquire_images("mnist", data)
    path = classic.local_file("mnist", data)
    npz, _ = mnist_npz(count=9, seed=5)  # valid, but not the file that was published
    path.write_bytes(npz)
    with pytest.raises(UserError, match=re.escape(f"{path} has sha256 {sha256(npz)}")):
        acquire_images("mnist", data)
    path.unlink()  # what the message says to do
    assert acquire_images("mnist", data).identity == first.identity and classic_site.fetched("mnist.npz") == 2


def test_a_download_with_the_wrong_hash_is_deleted_unread(classic_site, tmp_path):
    marker = tmp_path / "code-ran"
    classic_site.serve("cifar-10-python.tar.gz", planted_cifar(marker), pin=False)
    classic_site.pin("cifar-10-python.tar.gz", sha256(red_cifar()))
    with pytest.raises(UserError, match=r"^--source cifar10: http://127\.0\.0\.1:\d+/cifar-10-python\.tar\.gz sent a"):
        acquire_images("cifar10", tmp_path / "data")
    folder = classic.local_file("cifar10", tmp_path / "data").parent
    assert not marker.exists() and sorted(p.name for p in folder.iterdir()) == []  # no file, no .part


def test_a_pinned_file_with_code_in_it_still_runs_none(classic_site, tmp_path):
    """The second wall: a batch that passes its (pinned) hash is still unpickled as arrays only."""
    marker = tmp_path / "code-ran"
    classic_site.serve("cifar-10-python.tar.gz", planted_cifar(marker))
    with pytest.raises(UserError, match=r"data_batch_3: it names (os|posix)\.system"):
        acquire_images("cifar10", tmp_path / "data")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("pins", "mirror", "reason"),
    [
        ("mnist.npz=" + "0" * 64, False, "GANFLOW_CLASSIC_URL is not"),
        ("mnist.npz=abc", True, "is not FILE=SHA256"),
        ("evil.pkl=" + "0" * 64, True, "is not FILE=SHA256"),
    ],
)
def test_hash_pins_need_a_mirror_and_the_right_form(pins, mirror, reason, tmp_path, monkeypatch):
    monkeypatch.setenv(classic.SHA256_ENV, pins)
    if mirror:
        monkeypatch.setenv(classic.MIRROR_ENV, "http://127.0.0.1:9/")
    else:
        monkeypatch.delenv(classic.MIRROR_ENV, raising=False)
    with pytest.raises(UserError, match=reason):
        acquire_images("mnist", tmp_path / "data")
    assert not (tmp_path / "data" / "sources" / "classic" / "mnist").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_file_of_another_user_is_not_read(classic_site, tmp_path):
    npz = (classic_site.root / "mnist.npz").read_bytes()
    path = _plant(tmp_path / "data", "mnist", npz)  # even with the right hash: its owner could change it later
    os.chown(path, 65534, 65534)
    with pytest.raises(UserError, match="belongs to another user"):
        acquire_images("mnist", tmp_path / "data")
