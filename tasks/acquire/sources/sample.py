"""The built-in sample: the first 100 faces of scikit-image's LFW subset, which ships in its wheel (offline)."""

from pathlib import Path

from tasks.acquire.sources.arrays import write_png_folder

SAMPLE_COUNT = 100  # rows 0..99 of lfw_subset() are faces; the rest are not
IDENTITY = f"sample:skimage-lfw_subset:{SAMPLE_COUNT}"


def write_sample(dest: Path) -> Path:
    """Write the sample faces once as PNG files, so they take the same decode path as any folder."""
    from skimage import data

    faces = data.lfw_subset()[:SAMPLE_COUNT]  # float in [0, 1], 25x25 grayscale
    return write_png_folder((faces * 255).round().astype("uint8"), dest, "sample", prefix="face_")
