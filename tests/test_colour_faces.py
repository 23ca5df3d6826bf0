"""The colour benchmark's generator (bench/colour_faces.py): seeded, CelebA-sized, and colourful."""

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from bench_scripts import BENCH, bench_script

colour_faces = bench_script("colour_faces")


def _images(folder: Path) -> list[np.ndarray]:
    return [cv2.imread(str(p))[..., ::-1] for p in sorted(folder.glob("*.jpg"))]


def test_same_seed_same_files_and_a_prefix_of_a_larger_set(tmp_path: Path) -> None:
    a = colour_faces.write_colour_faces(tmp_path / "a", n=6, seed=0)
    b = colour_faces.write_colour_faces(tmp_path / "b", n=9, seed=0)
    c = colour_faces.write_colour_faces(tmp_path / "c", n=6, seed=1)
    names = sorted(p.name for p in a.glob("*.jpg"))
    assert len(names) == 6 and len(list(b.glob("*.jpg"))) == 9
    assert all((a / n).read_bytes() == (b / n).read_bytes() for n in names)
    assert not any((a / n).read_bytes() == (c / n).read_bytes() for n in names)


def test_celeba_size_colour_and_spread(tmp_path: Path) -> None:
    images = _images(colour_faces.write_colour_faces(tmp_path / "faces", n=64, seed=0))
    assert {im.shape for im in images} == {(218, 178, 3)}
    means = np.array([im.reshape(-1, 3).mean(0) for im in images])
    # Per-image mean colour spreads widely in every channel (CelebA's is about 40 of 255) ...
    assert means.std(0).min() > 25
    # ... and the images are not gray: the channels differ within an image.
    chroma = np.mean([np.abs(im.astype(float) - im.mean(-1, keepdims=True)).mean() for im in images])
    assert chroma > 10


def test_written_atomically_and_never_mixed_into(tmp_path: Path) -> None:
    out = colour_faces.write_colour_faces(tmp_path / "faces", n=3, seed=0)
    assert [p.name for p in tmp_path.iterdir()] == ["faces"]  # no temporary folder left
    assert colour_faces.write_colour_faces(out, n=3, seed=0) == out  # the same set is reused
    with pytest.raises(FileExistsError):
        colour_faces.write_colour_faces(out, n=4, seed=0)
    (tmp_path / "other").mkdir()
    with pytest.raises(FileExistsError):
        colour_faces.write_colour_faces(tmp_path / "other", n=3, seed=0)


def test_cli_writes_the_folder(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / "colour_faces.py"), str(tmp_path / "out"), "--n", "2", "--seed", "3"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "out").glob("*.jpg"))) == 2
