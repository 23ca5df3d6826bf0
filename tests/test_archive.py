"""Local .zip and .tar(.gz) sources: real zipfile/tarfile archives, extracted safely into the cache."""

import io
import stat
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from loopback import image_bytes, zip_bytes

from tasks.acquire.sources.archive import ExtractLimits, extract_archive
from tasks.acquire.sources.folder import list_images
from tasks.acquire.task import acquire_images, parse_source
from tasks.errors import UserError


def _faces(n: int = 3) -> dict[str, bytes]:
    files = {f"set/faces/img_{i}.png": image_bytes(seed=i) for i in range(n)}
    return {**files, "set/attributes.csv": b"id,smile\n0,1\n", "__MACOSX/set/._img_0.png": b"junk"}


def _tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]], mode: str = "w") -> Path:
    with tarfile.open(path, mode) as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _info(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


def _symlink_zip_entry(name: str, target: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix, so the mode bits below are read
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def _nothing_left(data_dir: Path) -> list[str]:
    sources = data_dir / "sources"
    return sorted(p.name for p in sources.iterdir()) if sources.exists() else []


def test_zip_and_tar_gz_sources_extract_and_pick_the_images_folder(tmp_path):
    zip_path = tmp_path / "faces.zip"
    zip_path.write_bytes(zip_bytes(_faces()))
    tgz_path = _tar(tmp_path / "faces.tar.gz", [(_info(n), d) for n, d in _faces().items()], "w:gz")

    for archive in (zip_path, tgz_path):
        assert parse_source(str(archive)).kind == "archive"
        got = acquire_images(str(archive), tmp_path / "data")
        assert got.num_files == 3
        assert got.images_dir.relative_to(tmp_path / "data" / "sources").parts[1:] == ("set", "faces")
        assert got.source.name == "faces"
        assert got.identity.startswith(f"archive:{archive}:") and got.identity.endswith(":set/faces")
        again = acquire_images(str(archive), tmp_path / "data")  # the finished extraction is reused
        assert again.identity == got.identity and again.images_dir == got.images_dir


def test_a_changed_archive_gets_a_new_identity_and_folder(tmp_path):
    archive = tmp_path / "faces.zip"
    archive.write_bytes(zip_bytes(_faces(3)))
    first = acquire_images(str(archive), tmp_path / "data")
    archive.write_bytes(zip_bytes(_faces(4)))
    second = acquire_images(str(archive), tmp_path / "data")
    assert second.identity != first.identity and second.num_files == 4


BAD_ZIP_ENTRIES = {
    "parent": ("../evil.txt", "'..' component"),
    "absolute": ("/tmp/ganflow-evil-{n}/evil.txt", "absolute path"),
    "drive": ("C:\\evil.txt", "absolute path"),
    "symlink": ("link-to-etc", "symbolic link"),
}


@pytest.mark.parametrize("case", sorted(BAD_ZIP_ENTRIES))
def test_unsafe_zip_entries_are_refused_and_nothing_is_written(tmp_path, case):
    name, why = BAD_ZIP_ENTRIES[case]
    name = name.format(n=tmp_path.name)
    archive = tmp_path / "in" / "bad.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ok/face.png", image_bytes())
        if case == "symlink":
            zf.writestr(_symlink_zip_entry(name, "/etc/passwd"), "/etc/passwd")
        else:
            zf.writestr(name, b"owned")
    data = tmp_path / "in" / "data"

    with pytest.raises(UserError, match=why) as err:
        acquire_images(str(archive), data)
    assert "bad.zip is refused" in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "in" / "evil.txt").exists()
    assert not Path(f"/tmp/ganflow-evil-{tmp_path.name}").exists()
    assert _nothing_left(data) == []  # neither the target nor its temporary folder


def test_one_zip_with_every_bad_entry_is_refused(tmp_path):
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../evil.txt", b"owned")
        zf.writestr(f"/tmp/ganflow-evil-{tmp_path.name}.txt", b"owned")
        zf.writestr(_symlink_zip_entry("link", "/etc/passwd"), "/etc/passwd")
    with pytest.raises(UserError, match="is refused"):
        extract_archive(archive, tmp_path / "out" / "target")
    assert not (tmp_path / "evil.txt").exists() and not Path(f"/tmp/ganflow-evil-{tmp_path.name}.txt").exists()
    assert list((tmp_path / "out").iterdir()) == []


BAD_TAR_MEMBERS = {
    "parent": (_info("../evil.txt"), b"owned", "'..' component"),
    "absolute": (_info("/tmp/ganflow-evil-tar.txt"), b"owned", "absolute path"),
    "symlink": (_info("link", tarfile.SYMTYPE, "/etc/passwd"), None, "symbolic link"),
    "hardlink": (_info("hard", tarfile.LNKTYPE, "/etc/passwd"), None, "hard link"),
    "device": (_info("dev", tarfile.CHRTYPE), None, "device or special file"),
    "fifo": (_info("pipe", tarfile.FIFOTYPE), None, "device or special file"),
}


@pytest.mark.parametrize("case", sorted(BAD_TAR_MEMBERS))
@pytest.mark.parametrize("mode", ["w", "w:gz"])
def test_unsafe_tar_members_are_refused_and_nothing_is_written(tmp_path, case, mode):
    info, data, why = BAD_TAR_MEMBERS[case]
    archive = _tar(tmp_path / "bad.tar", [(_info("ok/face.png"), image_bytes()), (info, data)], mode)
    with pytest.raises(UserError, match=why):
        extract_archive(archive, tmp_path / "out" / "target")
    assert not (tmp_path / "evil.txt").exists() and not Path("/tmp/ganflow-evil-tar.txt").exists()
    assert list((tmp_path / "out").iterdir()) == []  # the half-done temporary folder is gone too


def test_caps_on_entries_and_bytes_refuse_the_archive(tmp_path):
    archive = tmp_path / "many.zip"
    archive.write_bytes(zip_bytes({f"f{i}.png": b"x" * 1000 for i in range(5)}))
    with pytest.raises(UserError, match="more than 4 entries.*--max-extract-entries"):
        extract_archive(archive, tmp_path / "a", ExtractLimits(max_entries=4))
    with pytest.raises(UserError, match="more than 4,999 bytes.*--max-extract-bytes"):
        extract_archive(archive, tmp_path / "b", ExtractLimits(max_bytes=4999))
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    assert extract_archive(archive, tmp_path / "c", ExtractLimits(max_bytes=5000, max_entries=5)).is_dir()


def test_an_interrupted_extraction_is_never_taken_for_a_finished_one(tmp_path):
    archive = tmp_path / "faces.zip"
    archive.write_bytes(zip_bytes(_faces()))
    target = tmp_path / "out" / "faces"
    with pytest.raises(UserError):  # stops after writing some files
        extract_archive(archive, target, ExtractLimits(max_entries=2))
    assert not target.exists() and list(target.parent.iterdir()) == []
    assert [p.name for p in list_images(extract_archive(archive, target))] == ["img_0.png", "img_1.png", "img_2.png"]


def test_corrupt_and_mislabelled_archives_say_so(tmp_path):
    truncated = tmp_path / "cut.zip"
    truncated.write_bytes(zip_bytes(_faces())[:200])
    with pytest.raises(UserError, match="not a .zip or .tar archive"):
        acquire_images(str(truncated), tmp_path / "data")
    damaged = tmp_path / "damaged.tar.gz"
    noise = np.random.default_rng(0).bytes(200_000)  # incompressible, so the cut lands inside the data
    whole = _tar(tmp_path / "x.tar.gz", [(_info("a.png"), noise)], "w:gz").read_bytes()
    damaged.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(UserError, match="cannot extract .*damaged.tar.gz"):
        acquire_images(str(damaged), tmp_path / "data")
    no_images = tmp_path / "notes.zip"
    no_images.write_bytes(zip_bytes({"notes.txt": b"hello"}))
    with pytest.raises(UserError, match="no image files"):
        acquire_images(str(no_images), tmp_path / "data")
