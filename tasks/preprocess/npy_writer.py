"""Stream rows into a `.npy` file, so memory stays flat however large the dataset.

The file is created by `np.lib.format.open_memmap` with room for every input (sparse: unwritten rows
take no disk); each batch of rows is written at its offset with one `pwrite`, so no more than one
batch is ever in memory. (Mapping a window per batch did the same at four times the cost: page faults
on every page.) Worker processes write their batches themselves (`write_rows`), where the writer
tells them; the writer then only counts them (`advance`). `finish` rewrites the header for the rows
actually written and truncates the file: the result is byte for byte what `np.save` writes for the
same array. The file's sha256 is kept up to date as rows come in, so a finished file need not be
read again to be hashed.
"""

import hashlib
import io
import math
import os
from pathlib import Path

import numpy as np

from tasks.hashing import file_sha256

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
        # sha256 of the file as `finish` leaves it when every row is used: header for `capacity`, rows so far.
        # None once it cannot be kept (a resumed file, rows taken back); `finish` then reads the file.
        self._running = self._fresh_hash() if rows == 0 else None

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
        write_rows(self.path, self.row_offset(self.rows), rows)
        self.advance(rows)

    def advance(self, rows: np.ndarray) -> None:
        """Count `rows` as written: another process already put exactly these bytes after the last row."""
        if self._running is not None:
            self._running.update(rows)
        self.rows += len(rows)

    def row_offset(self, row: int) -> int:
        """The byte offset of row `row` in the file."""
        return self.offset + row * self.row_bytes

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows [start, stop) as written so far (a copy)."""
        if stop <= start:
            return np.empty((0, *self.row_shape), np.uint8)
        size = (stop - start) * self.row_bytes
        buffer = bytearray(size)
        with open(self.path, "rb", buffering=0) as f:
            f.seek(self.row_offset(start))
            if f.readinto(buffer) != size:
                raise ValueError(f"{self.path}: rows {start}:{stop} are beyond the end of the file")
        return np.frombuffer(buffer, np.uint8).reshape(stop - start, *self.row_shape)

    def truncate(self, rows: int) -> None:
        """Forget the rows after the first `rows` (they will be written again)."""
        if rows < self.rows:
            self._running = self._fresh_hash() if rows == 0 else None
        self.rows = min(self.rows, rows)

    def _fresh_hash(self):
        """The running sha256 with no rows yet: the header of a file with every row used."""
        return hashlib.sha256(npy_header((self.capacity, *self.row_shape)))

    def finish(self) -> str:
        """Make the file exactly an `np.save` of the rows written: new header, no unused room.

        Returns the finished file's sha256.
        """
        header = npy_header((self.rows, *self.row_shape))
        if len(header) == self.offset:  # numpy pads headers so the row count can grow in place
            with open(self.path, "r+b") as f:
                f.write(header)
                f.truncate(self.row_offset(self.rows))
        else:
            self._rewrite_with(header)
        if self._running is not None and self.rows == self.capacity:  # then the header is the one hashed
            return self._running.hexdigest()
        return file_sha256(self.path)

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


def write_rows(path: Path | str, offset: int, rows: np.ndarray) -> None:
    """Write `rows` at byte `offset` of an existing file, with as few system calls as the kernel allows."""
    if rows.size == 0:
        return
    data = memoryview(np.ascontiguousarray(rows, np.uint8)).cast("B")
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        while data:  # pwrite may write less than asked (signals, huge batches)
            done = os.pwrite(fd, data, offset)
            data, offset = data[done:], offset + done
    finally:
        os.close(fd)
