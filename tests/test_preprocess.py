import concurrent.futures
import ctypes
import hashlib
import io
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import write_faces
from PIL import Image

from tasks.acquire.task import AcquiredImages, Source, list_images
from tasks.preprocess.crops import crop_square, resize_square
from tasks.preprocess.image_decode import prepare_image
from tasks.preprocess.npy_writer import read_npy_header
from tasks.preprocess.task import preprocess_images, read_cache

ROOT = Path(__file__).resolve().parents[1]


def test_center_crop_keeps_the_largest_centred_square():
    # 40 rows x 60 cols: columns 10..49 are the centred 40x40 square, marked white; the rest black.
    img = np.zeros((40, 60, 3), np.uint8)
    img[:, 10:50] = 255
    out = crop_square(img, "center")
    assert out.shape == (40, 40, 3)
    assert out.min() == 255
    tall = np.zeros((60, 40), np.uint8)
    tall[10:50] = 7
    assert crop_square(tall).shape == (40, 40) and crop_square(tall).min() == 7


def test_resize_keeps_a_quadrant_pattern():
    img = np.zeros((64, 64, 3), np.uint8)
    img[:32, :32] = (255, 0, 0)
    img[:32, 32:] = (0, 255, 0)
    img[32:, :32] = (0, 0, 255)
    img[32:, 32:] = (255, 255, 255)
    out = resize_square(img, 32)
    assert out.shape == (32, 32, 3)
    assert (out[:16, :16] == (255, 0, 0)).all() and (out[:16, 16:] == (0, 255, 0)).all()
    assert (out[16:, :16] == (0, 0, 255)).all() and (out[16:, 16:] == 255).all()


def test_prepare_image_decodes_crops_resizes_in_rgb(tmp_path):
    img = np.zeros((50, 80, 3), np.uint8)
    img[:, 15:65] = (0, 0, 255)  # BGR red in the centred square, green bars outside it
    img[:, :15] = img[:, 65:] = (0, 255, 0)
    path = tmp_path / "ünïcode name.PNG"
    cv2.imencode(".png", img)[1].tofile(str(path))
    rgb = prepare_image(path, 28, 3, "center")
    assert rgb.shape == (28, 28, 3) and (rgb == (255, 0, 0)).all()
    gray = prepare_image(path, 32, 1, "center")
    assert gray.shape == (32, 32, 1) and len(np.unique(gray)) == 1


def test_corrupt_files_are_skipped_and_recorded(tmp_path, tiny_faces):
    (tiny_faces / "broken.jpg").write_text("not an image")
    (tiny_faces / "empty.png").write_bytes(b"")
    acquired = _acquired(tiny_faces, "test:faces")
    data = preprocess_images(acquired, 32, 3, "center", tmp_path / "data")
    assert data.count == 8 and data.skipped == 2
    array = np.load(data.npy)
    assert array.shape == (8, 32, 32, 3) and array.dtype == np.uint8
    manifest = json.loads(data.manifest.read_text())
    reasons = {item["file"].rsplit("/", 1)[-1]: item["reason"] for item in manifest["skipped"]}
    assert reasons == {"broken.jpg": "not a decodable image", "empty.png": "empty file"}
    assert manifest["count"] == 8 and manifest["params"]["size"] == 32
    assert manifest["identity"] == "test:faces"
    assert manifest["sha256"] == hashlib.sha256(data.npy.read_bytes()).hexdigest()
    assert not list(data.npy.parent.glob(".*tmp*")), "temporary files left behind"


def test_cache_key_depends_on_source_and_parameters(tmp_path, tiny_faces):
    acquired = _acquired(tiny_faces, "id-1")
    a = preprocess_images(acquired, 32, 3, "center", tmp_path)
    assert preprocess_images(acquired, 32, 3, "center", tmp_path).npy == a.npy
    assert preprocess_images(acquired, 28, 3, "center", tmp_path).npy != a.npy
    changed = AcquiredImages(acquired.source, tiny_faces, "id-2", 8)
    assert preprocess_images(changed, 32, 3, "center", tmp_path).npy.parent != a.npy.parent


def test_unknown_crop_is_rejected():
    with pytest.raises(ValueError, match="unknown crop"):
        crop_square(np.zeros((4, 4)), "corner")


# --- a folder as messy as real ones -------------------------------------------------------------


def _jpeg(image: np.ndarray, orientation: int = 1) -> bytes:
    exif = Image.Exif()
    if orientation != 1:
        exif[0x0112] = orientation
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "JPEG", quality=95, exif=exif.tobytes())
    return buf.getvalue()


def _png(image: np.ndarray) -> bytes:
    return cv2.imencode(".png", image)[1].tobytes()


def _bomb_png(width: int, height: int) -> bytes:
    """A valid PNG signature and IHDR claiming a huge size, followed by almost nothing."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    idat = zlib.compress(b"\0" * 64)
    idat_chunk = struct.pack(">I", len(idat)) + b"IDAT" + idat + struct.pack(">I", zlib.crc32(b"IDAT" + idat))
    return b"\x89PNG\r\n\x1a\n" + chunk + idat_chunk


def _bomb_jpeg(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header is rewritten to claim `width` x `height`."""
    raw = bytearray(_jpeg(np.zeros((20, 20, 3), np.uint8)))
    sof = raw.index(b"\xff\xc0")
    raw[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(raw)


def _readable(path: Path) -> bool:
    """Root (CAP_DAC_OVERRIDE) still reads a chmod 000 file; then that file is simply a good one."""
    try:
        path.open("rb").close()
        return True
    except PermissionError:
        return False


@pytest.fixture
def messy_folder(tmp_path):
    """Every kind of bad file, odd names and image formats; returns (folder, good names, bad name -> reason)."""
    root = tmp_path / "messy"
    rng = np.random.default_rng(3)
    face = lambda: rng.integers(0, 256, (30, 24, 3), dtype=np.uint8)  # noqa: E731
    files = {
        "faces/ünïcødé 顔.jpg": _jpeg(face()),
        "faces/UPPER.JPG": _jpeg(face()),
        "faces/Also.PNG": _png(face()),
        "deep/a/b/c/nested.png": _png(face()),
        "dup_1.png": (dup := _png(face())),
        "dup_2.png": dup,
        "rgba.png": _pil_bytes(Image.new("RGBA", (24, 30), (200, 100, 50, 128)), "PNG"),
        "gray16.png": cv2.imencode(".png", np.full((30, 24), 40000, np.uint16))[1].tobytes(),
        "gray.jpg": cv2.imencode(".jpg", np.full((30, 24), 77, np.uint8))[1].tobytes(),
        "palette.png": _pil_bytes(_palette_image(), "PNG"),
        "rotated.jpg": _jpeg(ROTATED_STORED, orientation=6),
        "upright.png": _png(cv2.cvtColor(np.rot90(ROTATED_STORED, -1).copy(), cv2.COLOR_RGB2BGR)),
        "locked.jpg": _jpeg(face()),
        "bad/empty.jpg": b"",
        "bad/truncated.jpg": (full := _jpeg(face()))[: len(full) // 2],
        "bad/notes.jpg": b"this is a text file with a .jpg name\n",
        "bad/bomb.png": _bomb_png(100_000, 100_000),
        "bad/bomb.jpg": _bomb_jpeg(60_000, 60_000),
        "bad/tiny.png": _png(np.zeros((10, 12, 3), np.uint8)),
        ".hidden/ignored.jpg": _jpeg(face()),
    }
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / "locked.jpg").chmod(0)
    (root / "bad/broken_link.jpg").symlink_to(root / "no-such-file.jpg")
    (root / "bad/loop.jpg").symlink_to(root / "bad/loop.jpg")
    os.mkfifo(root / "bad/fifo.jpg")  # reading it would wait forever
    bad = {
        "bad/empty.jpg": "empty file",
        "bad/truncated.jpg": "truncated image",
        "bad/notes.jpg": "not a decodable image",
        "bad/bomb.png": "too many pixels",
        "bad/bomb.jpg": "too many pixels",
        "bad/tiny.png": "too small",
        "bad/broken_link.jpg": "broken symlink",
        "bad/loop.jpg": "broken symlink",
        "bad/fifo.jpg": "not a regular file",
    }
    good = sorted(n for n in files if not n.startswith((".", "bad/")))
    if not _readable(root / "locked.jpg"):  # see test_an_unreadable_file_is_skipped_with_its_reason for root
        good.remove("locked.jpg")
        bad["locked.jpg"] = "unreadable"
    return root, good, bad


ROTATED_STORED = np.zeros((24, 48, 3), np.uint8)  # stored 48 wide, 24 tall; EXIF 6 shows it 24 wide, 48 tall
ROTATED_STORED[:12, :16] = (250, 250, 250)


def _pil_bytes(image: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt)
    return buf.getvalue()


def _palette_image() -> Image.Image:
    image = Image.new("P", (24, 30), 1)
    image.putpalette([0, 0, 0, 200, 100, 50] + [0] * 762)
    return image


def _acquired(folder: Path, identity: str = "test:messy") -> AcquiredImages:
    return AcquiredImages(Source("folder", str(folder)), folder, identity, len(list_images(folder)))


def _within(seconds: float, fn, *args, **kwargs):
    """Run `fn` on a thread and fail (instead of hanging the suite) if it takes longer than `seconds`."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        future = pool.submit(fn, *args, **kwargs)
        try:
            return future.result(timeout=seconds)
        except concurrent.futures.TimeoutError:
            pytest.fail(f"{fn.__name__} hung for {seconds} s")


def test_a_messy_folder_completes_with_every_bad_file_reported(messy_folder, tmp_path, caplog):
    root, good, bad = messy_folder
    caplog.set_level("INFO", logger="ganflow")
    data = _within(120, preprocess_images, _acquired(root), 32, 3, "center", tmp_path / "data", workers=2, chunk_size=4)
    manifest = json.loads(data.manifest.read_text())
    reasons = {Path(item["file"]).relative_to(root).as_posix(): item["reason"] for item in manifest["skipped"]}
    assert reasons == bad
    assert manifest["files"] == good  # every good file, in sorted order, one row each
    assert data.count == len(good) and data.skipped == len(bad)
    assert manifest["skipped_by_reason"] == data.skipped_by_reason
    assert sum(data.skipped_by_reason.values()) == len(bad)
    assert f"{len(bad)} files skipped" in caplog.text  # the count at the end

    images = np.load(data.npy, mmap_mode="r")  # as training loads it
    row = {name: images[i] for i, name in enumerate(manifest["files"])}
    assert (row["rgba.png"] == (100, 50, 25)).all()  # composited on black
    assert (row["gray16.png"] == 156).all()  # 40000 / 257
    assert (row["palette.png"] == (200, 100, 50)).all()
    assert np.abs(row["gray.jpg"].astype(int) - 77).max() <= 1
    assert np.array_equal(row["dup_1.png"], row["dup_2.png"])  # duplicates are kept unless --dedupe
    # The EXIF-rotated JPEG shows the same picture as the same pixels stored upright.
    assert np.abs(row["rotated.jpg"].astype(int) - row["upright.png"]).mean() < 4


def test_dedupe_drops_exact_duplicates(messy_folder, tmp_path):
    root, good, _ = messy_folder
    plain = preprocess_images(_acquired(root), 32, 3, "center", tmp_path / "data")
    deduped = preprocess_images(_acquired(root), 32, 3, "center", tmp_path / "data", dedupe=True)
    assert deduped.npy != plain.npy and deduped.count == plain.count - 1
    manifest = json.loads(deduped.manifest.read_text())
    duplicate = next(item for item in manifest["skipped"] if item["reason"] == "duplicate")
    assert duplicate["file"].endswith("dup_2.png") and duplicate["detail"] == "same bytes as dup_1.png"
    assert "dup_2.png" not in manifest["files"] and "dup_1.png" in manifest["files"]


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_an_unreadable_file_is_skipped_with_its_reason(tmp_path, tiny_faces):
    """As root, chmod 000 does not stop reads, so the run goes in a child without CAP_DAC_OVERRIDE."""
    (tiny_faces / "img_03.png").chmod(0)
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from tasks.acquire.task import AcquiredImages, Source\n"
        "from tasks.preprocess.task import preprocess_images\n"
        "folder = Path(sys.argv[1])\n"
        "data = preprocess_images(AcquiredImages(Source('folder', str(folder)), folder, 'perm', 8), 32, 3, "
        "'center', Path(sys.argv[2]))\n"
        "print(json.dumps(json.loads(data.manifest.read_text())['skipped']))\n"
    )
    preexec = _drop_file_permission_override if os.geteuid() == 0 else None
    out = subprocess.run(
        [sys.executable, "-c", script, str(tiny_faces), str(tmp_path / "data")],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        preexec_fn=preexec,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    skipped = json.loads(out.stdout.strip().splitlines()[-1])
    assert [(Path(s["file"]).name, s["reason"], s["detail"]) for s in skipped] == [
        ("img_03.png", "unreadable", "permission denied")
    ]


def _drop_file_permission_override() -> None:
    """In the child before exec: drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, so root obeys file modes."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


# --- parallel, streaming, determinism -----------------------------------------------------------


def test_parallel_output_equals_sequential_byte_for_byte(tmp_path):
    folder = write_faces(tmp_path / "faces", 23, size=(50, 40))
    (folder / "zz_broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    acquired = _acquired(folder)
    runs = [
        preprocess_images(acquired, 32, 3, "center", tmp_path / f"data{i}", workers=w, chunk_size=c)
        for i, (w, c) in enumerate([(1, 256), (2, 4), (3, 5)])
    ]
    blobs = [run.npy.read_bytes() for run in runs]
    assert blobs[0] == blobs[1] == blobs[2]
    assert runs[0].sha256 == runs[1].sha256 == runs[2].sha256 == hashlib.sha256(blobs[0]).hexdigest()
    # The streamed file is exactly what np.save writes for the same images.
    expected = np.stack([prepare_image(p, 32, 3) for p in list_images(folder) if p.name != "zz_broken.png"])
    buf = io.BytesIO()
    np.save(buf, expected)
    assert blobs[0] == buf.getvalue()


def test_workers_writing_in_place_give_the_sequential_bytes_around_skips_and_duplicates(tmp_path):
    # Workers write each chunk where it would start if nothing were skipped; the rows after a skipped
    # file or a dropped duplicate must move up, and the result must not depend on the pool at all.
    folder = write_faces(tmp_path / "faces", 21, size=(50, 40))
    (folder / "a_empty.png").write_bytes(b"")  # in the first chunk: every later chunk moves
    (folder / "img_05_text.jpg").write_text("not an image")
    shutil.copy(folder / "img_03.png", folder / "img_10_dup.png")  # a duplicate in a middle chunk
    acquired = _acquired(folder, "test:in-place")
    for dedupe in (False, True):
        runs = [
            preprocess_images(
                acquired, 32, 3, "center", tmp_path / f"d{dedupe}{w}", workers=w, chunk_size=4, dedupe=dedupe
            )
            for w in (1, 2)
        ]
        assert runs[0].npy.read_bytes() == runs[1].npy.read_bytes()
        assert runs[0].sha256 == runs[1].sha256 == hashlib.sha256(runs[0].npy.read_bytes()).hexdigest()
        manifests = [json.loads(r.manifest.read_text()) for r in runs]
        assert manifests[0]["files"] == manifests[1]["files"] and manifests[0]["skipped"] == manifests[1]["skipped"]
        assert runs[1].count == 22 - dedupe


# --- interruption -------------------------------------------------------------------------------

KILL_AFTER = (
    "import os, signal, sys\n"
    "from pathlib import Path\n"
    "from tasks.preprocess import chunk_journal, task as preprocess\n"
    "from tasks.acquire.task import AcquiredImages, Source\n"
    "where, n, identity = sys.argv[3], int(sys.argv[4]), sys.argv[5]\n"
    "def killer(real):\n"
    "    calls = []\n"
    "    def wrapped(*args, **kwargs):\n"
    "        calls.append(1)\n"
    "        if len(calls) > n:\n"
    "            os.kill(os.getpid(), signal.SIGKILL)\n"
    "        return real(*args, **kwargs)\n"
    "    return wrapped\n"
    "if where == 'chunk':\n"
    "    chunk_journal.ChunkJournal.append = killer(chunk_journal.ChunkJournal.append)\n"
    "else:\n"
    "    preprocess.write_json = killer(preprocess.write_json)\n"
    "folder = Path(sys.argv[1])\n"
    "acquired = AcquiredImages(Source('folder', str(folder)), folder, identity, 30)\n"
    "preprocess.preprocess_images(acquired, 32, 3, 'center', Path(sys.argv[2]), workers=2, chunk_size=3)\n"
)


@pytest.mark.parametrize(
    ("where", "n"),
    [("chunk", 3), ("manifest", 0)],
    ids=["killed-after-3-of-10-chunks", "killed-just-before-the-manifest"],
)
def test_kill_9_leaves_no_complete_looking_cache_and_the_rerun_matches(tmp_path, where, n, caplog):
    folder = write_faces(tmp_path / "faces", 30, size=(50, 40))
    acquired = _acquired(folder, "kill-test")
    reference = preprocess_images(acquired, 32, 3, "center", tmp_path / "reference", chunk_size=3)

    data_dir = tmp_path / "data"
    args = [sys.executable, "-c", KILL_AFTER, str(folder), str(data_dir), where, str(n), "kill-test"]
    out = subprocess.run(args, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert out.returncode == -signal.SIGKILL, out.stderr[-2000:]
    cache = next(data_dir.glob("faces-*"))
    assert not (cache / "manifest.json").exists()
    assert read_cache(cache / "manifest.json") is None

    caplog.set_level("INFO", logger="ganflow")
    rerun = preprocess_images(acquired, 32, 3, "center", data_dir, workers=2, chunk_size=3)
    assert rerun.sha256 == reference.sha256 and rerun.count == 30
    assert rerun.npy.read_bytes() == reference.npy.read_bytes()
    assert ("resuming an interrupted run after 3 of 10 chunks" in caplog.text) == (where == "chunk")
    assert sorted(p.name for p in cache.iterdir()) == [".lock", "images.npy", "manifest.json"]


def test_a_kill_at_any_moment_never_leaves_a_complete_looking_cache(tmp_path):
    """A real kill -9 from outside, at whatever point the child is: nothing looks complete, the rerun is right."""
    folder = write_faces(tmp_path / "faces", 60, size=(120, 100))
    acquired = _acquired(folder, "kill-any")
    reference = preprocess_images(acquired, 32, 3, "center", tmp_path / "reference", chunk_size=1)
    script = (
        "import sys\nfrom pathlib import Path\nfrom tasks.acquire.task import AcquiredImages, Source\n"
        "from tasks.preprocess.task import preprocess_images\nfolder = Path(sys.argv[1])\n"
        "preprocess_images(AcquiredImages(Source('folder', str(folder)), folder, 'kill-any', 60), 32, 3, "
        "'center', Path(sys.argv[2]), workers=1, chunk_size=1)\n"
    )
    data_dir = tmp_path / "data"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", script, str(folder), str(data_dir)], env=env)
    deadline = time.monotonic() + 120
    while child.poll() is None and time.monotonic() < deadline:
        journal = next(data_dir.glob("faces-*/.journal.jsonl"), None)
        if journal is not None and journal.read_text().count("\n") >= 3:  # the job line and 2 chunks
            child.send_signal(signal.SIGKILL)
            break
        time.sleep(0.001)
    child.wait(timeout=60)
    cache = next(data_dir.glob("faces-*"))
    assert child.returncode == -signal.SIGKILL, "the child finished before it could be killed"
    assert not (cache / "manifest.json").exists() and read_cache(cache / "manifest.json") is None
    rerun = preprocess_images(acquired, 32, 3, "center", data_dir, chunk_size=1)
    assert rerun.sha256 == reference.sha256


def test_a_resumed_run_rewrites_chunks_whose_rows_did_not_reach_the_disk(tmp_path):
    """The journal holds each chunk's CRC-32: rows that differ (a power cut) are written again."""
    folder = write_faces(tmp_path / "faces", 12, size=(50, 40))
    acquired = _acquired(folder, "verify")
    reference = preprocess_images(acquired, 32, 3, "center", tmp_path / "reference", chunk_size=3)
    data_dir = tmp_path / "data"
    args = [sys.executable, "-c", KILL_AFTER, str(folder), str(data_dir), "chunk", "3", "verify"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    assert subprocess.run(args, capture_output=True, env=env, timeout=120).returncode == -signal.SIGKILL
    partial = next(data_dir.glob("faces-*/.images.partial.npy"))
    with open(partial, "r+b") as f:  # zero the rows of the second chunk, as if they never reached the disk
        f.seek(read_npy_header(partial)[2] + 3 * 32 * 32 * 3)
        f.write(bytes(3 * 32 * 32 * 3))
    rerun = preprocess_images(acquired, 32, 3, "center", data_dir, chunk_size=3)
    assert rerun.sha256 == reference.sha256
