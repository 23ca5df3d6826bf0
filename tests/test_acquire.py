"""acquire: parsing `--source`, the sample and local folders, and the Prefect task's retry and cache semantics."""

import os
from pathlib import Path

import cv2
import pytest
from loopback import FileServer, image_bytes, serving, zip_bytes
from prefect import flow

from flows.params import RunParams
from tasks.acquire.task import AcquireSpec, acquire, acquire_images, list_image_names, list_images, parse_source
from tasks.errors import UserError


def test_sample_source_yields_100_real_face_pngs(tmp_path):
    acquired = acquire_images("sample", tmp_path)
    files = list_images(acquired.images_dir)
    assert acquired.num_files == len(files) == 100
    first = cv2.imread(str(files[0]), cv2.IMREAD_UNCHANGED)
    assert first.shape == (25, 25) and first.std() > 10  # grayscale faces, not blank
    assert files[0].name == "face_000.png"
    again = acquire_images("sample", tmp_path)  # written once, then reused
    assert again.identity == acquired.identity
    assert [p.stat().st_mtime_ns for p in list_images(again.images_dir)] == [p.stat().st_mtime_ns for p in files]


def test_folder_listing_is_recursive_sorted_and_ignores_litter(tmp_path):
    for rel in ["b/2.JPG", "a/1.png", "c.webp", "d.Jpeg", "e.BMP", ".hidden.png", "__MACOSX/a/._1.png", ".cache/x.png"]:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    for litter in ["notes.txt", "jpg", "photo.", "x.jpg.txt"]:
        (tmp_path / litter).write_bytes(b"x")
    names = [p.relative_to(tmp_path).as_posix() for p in list_images(tmp_path)]
    assert names == ["a/1.png", "b/2.JPG", "c.webp", "d.Jpeg", "e.BMP"]
    assert list_image_names(tmp_path) == names  # the same listing as plain strings, which preprocess uses


def test_folder_identity_changes_when_the_folder_does(tiny_faces, tmp_path):
    before = acquire_images(str(tiny_faces), tmp_path).identity
    assert acquire_images(str(tiny_faces), tmp_path).identity == before
    (tiny_faces / "img_00.png").unlink()
    assert acquire_images(str(tiny_faces), tmp_path).identity != before


def test_bad_sources_say_what_to_do(tmp_path):
    with pytest.raises(ValueError, match="is neither a known source .* nor an existing folder or archive"):
        parse_source(str(tmp_path / "missing"))
    (tmp_path / "file.jpg").write_bytes(b"x")
    with pytest.raises(ValueError, match="is a file; pass a folder of images or a .zip/.tar"):
        parse_source(str(tmp_path / "file.jpg"))
    with pytest.raises(ValueError, match="is empty"):
        parse_source("  ")
    with pytest.raises(ValueError, match="only http:// and https://"):
        parse_source("ftp://example.org/faces.zip")
    with pytest.raises(UserError, match="--source: .*is neither a known source"):
        acquire_images(str(tmp_path / "missing"), tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match=f"no image files .* found in {empty}; point it at face images"):
        acquire_images(str(empty), tmp_path)
    (empty / "readme.txt").write_text("no faces here")
    with pytest.raises(UserError, match="no image files"):
        acquire_images(str(empty), tmp_path)
    with pytest.raises(ValueError, match="applies to a URL or archive source"):  # the options' rule (option_checks)
        RunParams(source="sample", sha256="0" * 64, data_dir=tmp_path)


def _run_acquire(task, source_text: str, data_dir: Path) -> tuple[str, object]:
    """Run one acquire task in its own flow: its final state's name and its result (or exception)."""
    spec = AcquireSpec(parse_source(source_text), data_dir)

    @flow(name="acquire-only")
    def acquire_only():
        state = task(spec=spec, return_state=True)
        return state.name, state.result(raise_on_failure=False), state.state_details.task_run_id

    name, result, task_run_id = acquire_only()
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return name, result, client.read_task_run(task_run_id).run_count


@pytest.mark.slow
def test_acquire_is_cached_until_the_folder_changes(prefect_server, tiny_faces, tmp_path):
    data_dir = tmp_path / "data"
    first, images, _ = _run_acquire(acquire, source_text=str(tiny_faces), data_dir=data_dir)
    again, cached, _ = _run_acquire(acquire, source_text=str(tiny_faces), data_dir=data_dir)
    assert (first, again) == ("Completed", "Cached") and cached.identity == images.identity
    (tiny_faces / "extra.png").write_bytes((tiny_faces / "img_00.png").read_bytes())
    changed, grown, _ = _run_acquire(acquire, source_text=str(tiny_faces), data_dir=data_dir)
    assert changed == "Completed" and grown.num_files == images.num_files + 1
    os.utime(tiny_faces / "extra.png", ns=(1, 1))  # same files, one modification time changed
    assert _run_acquire(acquire, source_text=str(tiny_faces), data_dir=data_dir)[0] == "Completed"


@pytest.mark.slow
def test_network_failures_are_retried_with_backoff_and_bad_input_never(prefect_server, tmp_path):
    assert acquire.retries == 3 and acquire.retry_delay_seconds == [3, 6, 12]  # exponential backoff
    no_wait = acquire.with_options(retry_delay_seconds=0)
    (tmp_path / "site").mkdir()
    archive = {"faces/a.png": image_bytes(), "pad.bin": os.urandom(200_000)}
    (tmp_path / "site" / "faces.zip").write_bytes(zip_bytes(archive))
    with serving(FileServer(tmp_path / "site")) as server:
        server.failures, server.cut_after = 1, 100_000  # a 503, then a transfer cut short, then the rest
        state, got, runs = _run_acquire(no_wait, source_text=server.url("faces.zip"), data_dir=tmp_path / "data")
        assert (state, runs, got.num_files) == ("Completed", 3, 1)
        assert [r["range"] for r in server.requests][:2] == [None, None]
        assert server.requests[2]["range"].startswith("bytes=")  # the third try resumed

    empty = tmp_path / "empty"
    empty.mkdir()
    state, error, runs = _run_acquire(no_wait, source_text=str(empty), data_dir=tmp_path / "data")
    assert (state, runs) == ("Failed", 1) and isinstance(error, UserError)
