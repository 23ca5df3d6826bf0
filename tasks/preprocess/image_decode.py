"""One image file to one (size, size, channels) uint8 array, or `Unusable` with the reason.

Order of work, cheapest check first: read the bytes (refusing anything that is not a regular file, so
a FIFO or device named `.jpg` cannot hang the run), parse the header (format, size, orientation), refuse
decompression bombs, tiny and truncated images, then decode. A JPEG is decoded by libjpeg at 1/2, 1/4 or
1/8 scale when the crop is at least that many times larger than the output, which is several times
cheaper than a full decode; the last step is always INTER_AREA. This module does not import Prefect,
so worker processes start quickly.
"""

import errno
import functools
import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from tasks.preprocess.crops import Box, crop_box, fit_square, output_extent, scale_box
from tasks.preprocess.image_header import HugeImage, ImageHeader, NotAnImage, jpeg_is_complete, read_header

DEFAULT_MIN_SIDE = 16
DEFAULT_MAX_PIXELS = 100_000_000
BYTES_PER_PIXEL_LIMIT = 8  # 16-bit RGBA, uncompressed: no real image file is larger per capped pixel
REDUCTIONS = (8, 4, 2)  # the scales libjpeg decodes directly

_RGB = getattr(cv2, "IMREAD_COLOR_RGB", 0)  # OpenCV >= 4.10 decodes JPEG straight to RGB
_COLOR_FLAGS = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4}
_COLOR_FLAGS[8] = cv2.IMREAD_REDUCED_COLOR_8
_GRAY_FLAGS = {1: cv2.IMREAD_GRAYSCALE, 2: cv2.IMREAD_REDUCED_GRAYSCALE_2, 4: cv2.IMREAD_REDUCED_GRAYSCALE_4}
_GRAY_FLAGS[8] = cv2.IMREAD_REDUCED_GRAYSCALE_8
# EXIF orientation -> the OpenCV operations that undo it (transpose swaps axes; flip 1 = left-right, 0 = up-down)
_ORIENT = {2: ("flip1",), 3: ("flip-1",), 4: ("flip0",), 5: ("transpose",), 6: ("transpose", "flip1")}
_ORIENT |= {7: ("transpose", "flip-1"), 8: ("transpose", "flip0")}


_OBJECT_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+>")


class Unusable(Exception):
    """Why one file was skipped: a short stable `reason` (counted in the manifest) and a `detail`."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason)
        # Library messages can name an object's address ("<_io.BytesIO object at 0x7f...>"), which would
        # make the manifest differ from run to run; keep the words, drop the address.
        self.reason, self.detail = reason, _OBJECT_ADDRESS.sub(">", detail)


@dataclass(frozen=True)
class DecodeSettings:
    """Everything that decides the pixels of one output image."""

    size: int
    channels: int
    crop: str = "center"
    min_side: int = DEFAULT_MIN_SIDE
    max_pixels: int = DEFAULT_MAX_PIXELS

    @property
    def max_bytes(self) -> int:
        return self.max_pixels * BYTES_PER_PIXEL_LIMIT + (1 << 20)


def read_file(path: Path | str, max_bytes: int = 1 << 40) -> bytes:
    """The file's bytes; Unusable for broken links, permissions, non-regular, empty or huge files."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)  # O_NONBLOCK: a FIFO cannot block us
    except OSError as exc:
        raise _open_error(Path(path), exc) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Unusable("not a regular file", _file_kind(st.st_mode))
        if st.st_size == 0:
            raise Unusable("empty file")
        if st.st_size > max_bytes:
            raise Unusable("file too large", f"{st.st_size} bytes")
        data = os.read(fd, st.st_size)  # one read of the size fstat gave (readall would add two syscalls)
        while len(data) < st.st_size and (more := os.read(fd, st.st_size - len(data))):
            data += more  # a short read: a file over 2 GB, or one cut while we read it
        return data
    except OSError as exc:
        raise Unusable("unreadable", exc.strerror or str(exc)) from None
    finally:
        os.close(fd)


def _open_error(path: Path, exc: OSError) -> Unusable:
    if exc.errno == errno.ENOENT and path.is_symlink():
        return Unusable("broken symlink", f"points to {os.readlink(path)}")
    if exc.errno == errno.ELOOP:
        return Unusable("broken symlink", "symlink loop")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return Unusable("unreadable", "permission denied")
    return Unusable("unreadable", exc.strerror or str(exc))


def _file_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device")):
        if test(mode):
            return kind
    return "a socket" if stat.S_ISSOCK(mode) else "not a plain file"


def checked_header(raw: bytes, settings: DecodeSettings) -> ImageHeader:
    """The header, after the checks that need no decode: format, pixel cap, minimum side, truncation."""
    try:
        header = read_header(raw)
    except HugeImage as exc:
        raise Unusable("too many pixels", str(exc)) from None
    except NotAnImage as exc:
        raise Unusable("not a decodable image", str(exc)) from None
    if header.pixels > settings.max_pixels:
        detail = f"{header.width}x{header.height} = {header.pixels} pixels, above --max-pixels {settings.max_pixels}"
        raise Unusable("too many pixels", detail)
    if min(header.width, header.height) < settings.min_side:
        detail = f"{header.width}x{header.height} px, a side below --min-side {settings.min_side}"
        raise Unusable("too small", detail)
    if header.format == "jpeg" and not jpeg_is_complete(raw, header):
        raise Unusable("truncated image", "the JPEG ends before its end-of-image marker")
    return header


def reduction_factor(is_jpeg: bool, box: Box, extent: tuple[int, int]) -> int:
    """The largest JPEG decode scale 1/k that still leaves the crop at least as large as the output."""
    if not is_jpeg:
        return 1  # OpenCV would decode other formats fully and shrink them with a worse filter
    room = min(box.height / extent[0], box.width / extent[1])
    return next((k for k in REDUCTIONS if k <= room), 1)


@dataclass(frozen=True)
class DecodePlan:
    """How to turn an image of one size into the output: crop box, output extent, decode reduction."""

    box: Box  # in full-size, oriented coordinates
    extent: tuple[int, int]
    factor: int
    full: tuple[int, int]  # oriented (height, width) at full size

    # Computed once per plan (plans are cached per image size), read for every image.
    @functools.cached_property
    def decoded_size(self) -> tuple[int, int]:
        """(height, width) libjpeg produces at 1/factor scale: each side rounded up."""
        return -(-self.full[0] // self.factor), -(-self.full[1] // self.factor)

    @functools.cached_property
    def slices(self) -> tuple[slice, slice]:
        """The box in an image of `decoded_size`."""
        return self.region(self.decoded_size)

    def region(self, decoded: tuple[int, int]) -> tuple[slice, slice]:
        """The box's slices in the decoded image (smaller than `full` after a reduced decode)."""
        return _scaled_slices(self.box, self.full, decoded)


def decode_plan(header: ImageHeader, settings: DecodeSettings) -> DecodePlan:
    """The plan for this header; a dataset of same-size images computes it once."""
    return _plan(header.format == "jpeg", header.oriented_size, settings)


@functools.lru_cache(maxsize=4096)
def _plan(is_jpeg: bool, full: tuple[int, int], settings: DecodeSettings) -> DecodePlan:
    box = crop_box(*full, settings.crop)
    extent = output_extent(box, settings.size, settings.crop)
    return DecodePlan(box, extent, reduction_factor(is_jpeg, box, extent), full)


@functools.lru_cache(maxsize=4096)
def _scaled_slices(box: Box, full: tuple[int, int], decoded: tuple[int, int]) -> tuple[slice, slice]:
    return scale_box(box, full, decoded).slices


def jpeg_flag(channels: int, factor: int) -> int:
    """cv2.imdecode flag for a JPEG: gray or RGB, at 1/factor scale. OpenCV applies EXIF orientation."""
    if channels == 1:
        return _GRAY_FLAGS[factor]
    flag = _COLOR_FLAGS[factor]
    return (flag & ~cv2.IMREAD_COLOR) | _RGB if _RGB else flag


def decode(raw: bytes, header: ImageHeader, channels: int, factor: int = 1) -> np.ndarray:
    """Pixels as uint8, oriented, RGB (H, W, 3) or gray (H, W)."""
    buf = np.frombuffer(raw, np.uint8)
    if header.format == "jpeg":
        image = cv2.imdecode(buf, jpeg_flag(channels, factor))
        if image is None:
            raise Unusable("corrupt or truncated image")
        if channels == 3 and not _RGB:
            image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        return image
    image = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)  # keeps alpha and 16 bits; ignores EXIF orientation
    if image is None:
        raise Unusable("corrupt or truncated image")
    return to_channels(orient(to_8bit_on_black(image), header.orientation), channels)


def to_8bit_on_black(image: np.ndarray) -> np.ndarray:
    """16-bit to 8-bit (rounded), and an alpha channel composited on black: gray (H, W) or BGR (H, W, 3)."""
    if image.dtype not in (np.uint8, np.uint16):
        raise Unusable("unsupported pixel type", str(image.dtype))
    top = 255.0 if image.dtype == np.uint8 else 65535.0
    if image.ndim == 3 and image.shape[2] in (2, 4):
        color, alpha = image[..., :-1].astype(np.float32), image[..., -1:].astype(np.float32)
        image = color * (alpha / top)
        if image.shape[2] == 1:
            image = image[..., 0]
    elif image.dtype == np.uint8:
        return image
    return cv2.convertScaleAbs(image, alpha=255.0 / top)  # rounds and saturates


def orient(image: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1..8), as a viewer would show the image."""
    for op in _ORIENT.get(orientation, ()):
        image = cv2.transpose(image) if op == "transpose" else cv2.flip(image, int(op[4:]))
    return image


def to_channels(image: np.ndarray, channels: int) -> np.ndarray:
    """Gray (H, W) or BGR (H, W, 3) to what the output wants: gray (H, W) or RGB (H, W, 3)."""
    if image.ndim == 2:
        return image if channels == 1 else cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY if channels == 1 else cv2.COLOR_BGR2RGB)


def prepare_bytes(raw: bytes, settings: DecodeSettings, out: np.ndarray | None = None) -> np.ndarray:
    """Encoded bytes to one (size, size, channels) uint8 image, written into `out` when given."""
    header = checked_header(raw, settings)
    plan = decode_plan(header, settings)
    image = decode(raw, header, settings.channels, plan.factor)
    if image.shape[:2] != plan.decoded_size:  # the decoder read another orientation than the header said
        plan = _plan(False, image.shape[:2], settings)
    size = settings.size
    if out is None:
        out = np.empty((size, size, settings.channels), np.uint8)
    fit_square(image[plan.slices], size, plan.extent, out if image.ndim == 3 else out[..., 0])
    return out


def prepare_image(path: Path | str, size: int, channels: int, crop: str = "center", **limits: int) -> np.ndarray:
    """One file to one (size, size, channels) uint8 image; `limits`: min_side, max_pixels."""
    settings = DecodeSettings(size, channels, crop, **limits)
    return prepare_bytes(read_file(path, settings.max_bytes), settings)


def content_digest(raw: bytes) -> str:
    """The content hash `--dedupe` compares."""
    return hashlib.sha256(raw).hexdigest()
