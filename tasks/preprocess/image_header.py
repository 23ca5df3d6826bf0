"""Image headers without decoding: format, stored size and EXIF orientation, from the file's first bytes.

The size decides, before any pixel is decoded, whether a file is a decompression bomb, too small to
use, and how far a JPEG can be shrunk while it decodes. JPEG and PNG, nearly every face set, are parsed
here in a few microseconds; anything else goes through Pillow, which also reads only the header.
"""

import io
import struct
import warnings
from typing import NamedTuple

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
EXIF_ORIENTATION_TAG = 0x0112
# Start-of-frame markers carry the size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not.
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE_MARKERS = frozenset({0x01, *range(0xD0, 0xD9)})  # TEM, RST0-7 and SOI have no length
_SOS, _APP1 = 0xDA, 0xE1
_SKIPPED_SEGMENTS = frozenset(range(256)) - _SOF_MARKERS - _STANDALONE_MARKERS - {_SOS, _APP1, 0xFF}
_MARKER = struct.Struct(">BBH").unpack_from  # 0xFF, marker, segment length
_FRAME_SIZE = struct.Struct(">HH").unpack_from  # (height, width) in a start-of-frame segment


class NotAnImage(ValueError):
    """The bytes are not an image format we can read."""


class HugeImage(NotAnImage):
    """Pillow refused to open an image this large (a decompression bomb), so its exact size is unknown."""


class ImageHeader(NamedTuple):
    """What the first bytes say. `scan_offset` is where a JPEG's compressed data starts (0 otherwise).

    A named tuple, not a dataclass: one is made per image, and it is built in a third of the time.
    """

    format: str  # "jpeg", "png", or Pillow's lower-cased format name
    width: int
    height: int
    orientation: int = 1  # EXIF orientation 1..8; 5 to 8 swap width and height
    scan_offset: int = 0

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def oriented_size(self) -> tuple[int, int]:
        """(height, width) once the EXIF orientation is applied."""
        return (self.width, self.height) if self.orientation >= 5 else (self.height, self.width)


def read_header(raw: bytes) -> ImageHeader:
    """Parse the header of an encoded image; raise NotAnImage when it is not one."""
    if raw.startswith(JPEG_MAGIC):
        return _jpeg_header(raw)
    if raw.startswith(PNG_MAGIC):
        return _png_header(raw)
    return _pillow_header(raw)


def jpeg_is_complete(raw: bytes, header: ImageHeader) -> bool:
    """A JPEG ends with its EOI marker after the scan data; a cut-off download does not.

    Searching only after the scan start ignores the EOI of an EXIF thumbnail. Entropy-coded data
    escapes 0xFF, so FF D9 there is always a real marker.
    """
    return raw.rfind(b"\xff\xd9", header.scan_offset) != -1


def _jpeg_header(raw: bytes) -> ImageHeader:
    """Walk the marker segments up to the first scan: SOF gives the size, APP1 the orientation."""
    pos, size, orientation = 2, None, 1
    end = len(raw)
    while pos + 4 <= end:
        ff, marker, length = _MARKER(raw, pos)
        if ff != 0xFF:
            raise NotAnImage("corrupt JPEG marker stream")
        if marker in _SKIPPED_SEGMENTS:  # tables and the like, most segments: step over
            pos += 2 + length
            continue
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker in _STANDALONE_MARKERS:
            pos += 2
            continue
        if marker == _SOS:
            if size is None:
                break
            return ImageHeader("jpeg", size[1], size[0], orientation, pos + 2 + length)
        if marker == _APP1:
            if raw[pos + 4 : pos + 10] == b"Exif\0\0":
                orientation = tiff_orientation(memoryview(raw)[pos + 10 : pos + 2 + length])
        elif pos + 9 <= end:  # a start of frame
            size = _FRAME_SIZE(raw, pos + 5)
            if 0 in size:
                raise NotAnImage("JPEG frame with a zero size")
        pos += 2 + length
    raise NotAnImage("JPEG without a frame and scan")


def _png_header(raw: bytes) -> ImageHeader:
    """IHDR comes first; an eXIf chunk, if any, comes before the image data."""
    if len(raw) < 33 or raw[12:16] != b"IHDR":
        raise NotAnImage("PNG without an IHDR chunk")
    width, height = struct.unpack_from(">II", raw, 16)
    if not width or not height:
        raise NotAnImage("PNG with a zero size")
    orientation, pos = 1, 33
    while pos + 8 <= len(raw):
        length, kind = struct.unpack_from(">I4s", raw, pos)
        if kind == b"IDAT":
            break
        if kind == b"eXIf":
            orientation = tiff_orientation(memoryview(raw)[pos + 8 : pos + 8 + length])
        pos += 12 + length
    return ImageHeader("png", width, height, orientation)


def _pillow_header(raw: bytes) -> ImageHeader:
    """BMP, WebP and the rest: Pillow's `open` reads only the header."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as im:
                width, height = im.size
                orientation = im.getexif().get(EXIF_ORIENTATION_TAG, 1)
                fmt = (im.format or "unknown").lower()
    except Image.DecompressionBombError as exc:
        raise HugeImage(str(exc)) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, struct.error) as exc:
        raise NotAnImage(str(exc) or type(exc).__name__) from None
    if not width or not height:
        raise NotAnImage("image with a zero size")
    return ImageHeader(fmt, width, height, orientation if orientation in range(1, 9) else 1)


def tiff_orientation(tiff: memoryview | bytes) -> int:
    """The orientation tag of IFD0 in a TIFF-structured EXIF block; 1 when absent or malformed."""
    try:
        order = {b"II": "<", b"MM": ">"}[bytes(tiff[:2])]
        (ifd,) = struct.unpack_from(order + "I", tiff, 4)
        (count,) = struct.unpack_from(order + "H", tiff, ifd)
        for entry in range(ifd + 2, ifd + 2 + 12 * count, 12):
            tag, kind = struct.unpack_from(order + "HH", tiff, entry)
            if tag == EXIF_ORIENTATION_TAG:
                value = struct.unpack_from(order + ("H" if kind == 3 else "I"), tiff, entry + 8)[0]
                return value if 1 <= value <= 8 else 1
    except (KeyError, struct.error):
        pass
    return 1
