import cv2
import pytest

from tasks.acquire import acquire_images, list_images, parse_source
from tasks.errors import UserError


def test_sample_source_yields_100_real_face_pngs(tmp_path):
    acquired = acquire_images("sample", tmp_path)
    files = list_images(acquired.images_dir)
    assert acquired.num_files == len(files) == 100
    first = cv2.imread(str(files[0]), cv2.IMREAD_UNCHANGED)
    assert first.shape == (25, 25) and first.std() > 10  # grayscale faces, not blank
    again = acquire_images("sample", tmp_path)  # written once, then reused
    assert again.identity == acquired.identity
    assert [p.stat().st_mtime_ns for p in list_images(again.images_dir)] == [p.stat().st_mtime_ns for p in files]


def test_folder_listing_is_recursive_sorted_and_ignores_litter(tmp_path):
    for rel in ["b/2.JPG", "a/1.png", "c.webp", ".hidden.png", "__MACOSX/a/._1.png", ".cache/x.png", "notes.txt"]:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    names = [p.relative_to(tmp_path).as_posix() for p in list_images(tmp_path)]
    assert names == ["a/1.png", "b/2.JPG", "c.webp"]


def test_folder_identity_changes_when_the_folder_does(tiny_faces, tmp_path):
    before = acquire_images(str(tiny_faces), tmp_path).identity
    assert acquire_images(str(tiny_faces), tmp_path).identity == before
    (tiny_faces / "img_00.png").unlink()
    assert acquire_images(str(tiny_faces), tmp_path).identity != before


def test_bad_sources_say_what_to_do(tmp_path):
    with pytest.raises(ValueError, match="neither 'sample' nor an existing folder"):
        parse_source(str(tmp_path / "missing"))
    (tmp_path / "file.jpg").write_bytes(b"x")
    with pytest.raises(ValueError, match="is a file"):
        parse_source(str(tmp_path / "file.jpg"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match="no image files"):
        acquire_images(str(empty), tmp_path)
