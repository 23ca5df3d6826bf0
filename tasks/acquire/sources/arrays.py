"""In-memory image arrays written once as a folder of PNG files, so they take the same path as any folder."""

from pathlib import Path

import numpy as np

from tasks.acquire.sources.folder import list_images
from tasks.atomic import atomic_dir
from tasks.progress import Throttled, progress_bar, run_logger


def write_png_folder(images: np.ndarray, dest: Path, label: str, prefix: str = "") -> Path:
    """Write uint8 (N, H, W) gray or (N, H, W, 3) RGB images as `<prefix>000.png`...; reuse a finished folder.

    The folder is built under a temporary name and renamed, so an interrupted write is never reused.
    """
    import cv2

    dest = Path(dest)
    if dest.is_dir() and len(list_images(dest)) == len(images):
        return dest
    width = max(3, len(str(len(images) - 1)))
    log = Throttled(run_logger())
    with atomic_dir(dest) as tmp, progress_bar() as bar:
        job = bar.add_task(f"write {label} as PNG", total=len(images))
        for i, image in enumerate(images):
            bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
            if not cv2.imwrite(str(tmp / f"{prefix}{i:0{width}d}.png"), bgr):
                raise OSError(f"could not write PNG {i} of {label} under {tmp}")
            bar.advance(job)
            log.info("%s: wrote %d/%d PNG files", label, i + 1, len(images))
    return dest
