"""Stream rows into a `.npy` file through a memory map, so memory stays flat however large the dataset.

The file is created by `np.lib.format.open_memmap` with room for every input; each batch of rows is
written through a map of just its own byte range, which is unmapped right after, so no more than one
batch is ever resident. `finish` rewrites the header for the rows actually written and truncates the
file: the result is byte for byte what `np.save` writes for the same array.
"""

import io
import math
from pathlib import Path

import numpy as np

_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def npy_header(shape: tuple[int, ...], dtype: np.dtype | type = np.uint8) -> bytes:
    """The header `np.save` writes for a C-ordered array of `shape`."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": shape}
    )
    return buf.getvalue()


def read_npy_header(path: Path) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, data offset) of a `.npy` file."""
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        if version not in _HEADER_READERS:
            raise ValueError(f"{path}: .npy format version {version}")
        shape, fortran, dtype = _HEADER_READERS[version](f)
        if fortran:
            raise ValueError(f"{path}: Fortran-ordered array")
        return shape, dtype, f.tell()


class NpyRowWriter:
    """Appends uint8 rows of `row_shape`, in order, to a `.npy` file with room for `capacity` rows."""

    def __init__(self, path: Path, capacity: int, row_shape: tuple[int, ...], rows: int, offset: int):
        self.path, self.capacity, self.row_shape = Path(path), capacity, tuple(row_shape)
        self.rows, self.offset = rows, offset
        self.row_bytes = math.prod(self.row_shape)

    @classmethod
    def create(cls, path: Path, capacity: int, row_shape: tuple[int, ...]) -> "NpyRowWriter":
        """A new file with room for `capacity` rows (sparse: unwritten rows take no disk)."""
        array = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=(capacity, *row_shape))
        del array
        return cls(path, capacity, row_shape, 0, read_npy_header(path)[2])

    @classmethod
    def reopen(cls, path: Path, capacity: int, row_shape: tuple[int, ...], rows: int) -> "NpyRowWriter | None":
        """An unfinished file of the same layout, to go on after its first `rows` rows; None if it is not one."""
        try:
            shape, dtype, offset = read_npy_header(path)
        except (OSError, ValueError):
            return None
        if shape != (capacity, *row_shape) or dtype != np.uint8 or not 0 <= rows <= capacity:
            return None
        if Path(path).stat().st_size != offset + capacity * math.prod(row_shape):
            return None
        return cls(path, capacity, row_shape, rows, offset)

    def append(self, rows: np.ndarray) -> None:
        """Write `rows` after the rows already written."""
        if len(rows) == 0:
            return
        if self.rows + len(rows) > self.capacity:
            raise ValueError(f"{self.path}: more rows than the {self.capacity} it has room for")
        window = np.memmap(self.path, np.uint8, "r+", offset=self.offset + self.rows * self.row_bytes, shape=rows.shape)
        window[:] = rows
        del window  # unmap: the pages go to the page cache, not this process's memory
        self.rows += len(rows)

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows [start, stop) as written so far (a copy)."""
        if stop <= start:
            return np.empty((0, *self.row_shape), np.uint8)
        window = np.memmap(
            self.path, np.uint8, "r", offset=self.offset + start * self.row_bytes, shape=(stop - start, *self.row_shape)
        )
        return np.array(window)

    def truncate(self, rows: int) -> None:
        """Forget the rows after the first `rows` (they will be written again)."""
        self.rows = min(self.rows, rows)

    def finish(self) -> None:
        """Make the file exactly an `np.save` of the rows written: new header, no unused room."""
        header = npy_header((self.rows, *self.row_shape))
        with open(self.path, "r+b") as f:
            if len(header) == self.offset:  # numpy pads headers so the row count can grow in place
                f.write(header)
                f.truncate(self.offset + self.rows * self.row_bytes)
                return
        self._rewrite_with(header)

    def _rewrite_with(self, header: bytes) -> None:
        """Fallback for a header of another length: copy the rows behind the new header, in blocks."""
        tmp = self.path.with_name(self.path.name + ".resize")
        block = max(1, (64 << 20) // self.row_bytes)
        with open(tmp, "wb") as out:
            out.write(header)
            for start in range(0, self.rows, block):
                out.write(self.read(start, min(self.rows, start + block)).tobytes())
        tmp.replace(self.path)
        self.offset = len(header)
