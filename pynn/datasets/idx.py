"""Reading IDX files, the format of MNIST (plain or gzip-compressed).

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of
dimensions d), d big-endian uint32 sizes, then the values in row-major order, big-endian.
A file is read only as far as its header says: a short file, extra bytes after the data,
a damaged header or gzip stream raise a ValueError naming the file.

Nothing the header declares is allocated before it is checked. A plain file must hold
exactly the bytes its header declares. A gzip file's declared size must not be more than
deflate can expand the file to (1032 times its size, pynn.core.files.DEFLATE_MAX_RATIO), and
must agree with the gzip trailer's ISIZE, the uncompressed size modulo 2**32 (a full
check below 4 GiB, a consistency check above; a file of several gzip streams joined
records only its last stream's size there, and is refused: recompress it as one). Then
what the result needs is checked against the memory budget (pynn.memory: MemoryError),
and the data are read by chunks into the allocated result.
"""

from __future__ import annotations

import contextlib
import gzip
import math
import os
import sys
import zlib
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from pynn.core.checks import check_float_dtype, check_numpy_dtype, check_path
from pynn.core.files import DEFLATE_MAX_RATIO, open_regular
from pynn.core.memory import check_allocation, check_max_bytes

if TYPE_CHECKING:
    from os import PathLike

    #: a path argument: str, bytes or os.PathLike
    StrPath = str | bytes | PathLike[str] | PathLike[bytes]

# Type code -> the big-endian dtype of the values.
IDX_DTYPES = {
    0x08: np.dtype(">u1"),  # unsigned byte
    0x09: np.dtype(">i1"),  # signed byte
    0x0B: np.dtype(">i2"),  # short
    0x0C: np.dtype(">i4"),  # int
    0x0D: np.dtype(">f4"),  # float
    0x0E: np.dtype(">f8"),  # double
}
GZIP_MAGIC = b"\x1f\x8b"
CHUNK_BYTES = 1 << 20  # the data are read by chunks into the result


def load_idx(
    path: StrPath, *, dtype: DTypeLike | None = None, max_bytes: int | None = None
) -> NDArray[Any]:
    """The array stored in the IDX file `path` (gzip-compressed or not, told by its first
    bytes), with the header's shape and the dtype of its type code in native byte order:
    uint8, int8, int16, int32, float32 or float64.

    dtype: None (default) for that dtype, or a dtype to convert the values to as they are
    read (as .astype(dtype) would, without holding the file's dtype whole too).
    max_bytes: the memory budget in bytes for the result; None (default): what this
    process can allocate now (pynn.memory.available_bytes). A file declaring more raises
    MemoryError before anything is allocated.

    Parameters
    ----------
    path : str, bytes or os.PathLike
        The IDX file.
    dtype : numpy dtype or None, default None
        The result's dtype (None: the file's, in native byte order).
    max_bytes : int or None, default None
        The memory budget in bytes for the result (None: what this process can allocate
        now, pynn.memory.available_bytes).

    Returns
    -------
    numpy.ndarray
        The array, of the header's shape.

    Raises
    ------
    ValueError
        A damaged, short or over-long file (the message names it).
    MemoryError
        The result does not fit max_bytes.
    OSError
        The file cannot be opened (or is not a regular file).
    """
    path = check_path(path, "path")
    max_bytes = check_max_bytes(max_bytes)
    with _IdxFile(path) as idx:
        dtype = idx.dtype.newbyteorder("=") if dtype is None else check_numpy_dtype(dtype)
        check_allocation(
            idx.count * dtype.itemsize, f"{idx.describe()}, read as {dtype},", max_bytes
        )
        return idx.read(dtype)


def idx_header(path: StrPath) -> tuple[tuple[int, ...], np.dtype[Any]]:
    """(shape, dtype) that the IDX file `path` declares, its sizes checked against the
    file as load_idx checks them; the data are not read.

    Parameters
    ----------
    path : str, bytes or os.PathLike
        The IDX file.

    Returns
    -------
    shape : tuple of int
    dtype : numpy.dtype
        In native byte order.

    Raises
    ------
    ValueError
        A damaged file, or sizes the file cannot hold.
    OSError
        The file cannot be opened.
    """
    path = check_path(path, "path")
    with _IdxFile(path) as idx:
        return idx.shape, idx.dtype.newbyteorder("=")


def load_idx_pair(
    images_path: StrPath,
    labels_path: StrPath,
    *,
    dtype: DTypeLike = np.float64,
    max_bytes: int | None = None,
) -> tuple[NDArray[np.floating[Any]], NDArray[np.int64]]:
    """Samples and labels from two IDX files, as MNIST's (images, labels) pairs.

    Returns X: (n, prod of the other image dimensions), of `dtype` (float64 by default;
    MNIST's pixel values stay 0..255, divide by 255 to scale them), and y: (n,) int64.
    The labels file must be 1-D of an integer type and hold as many labels as there are
    images; both headers are checked before any data are read. max_bytes: the memory
    budget for X and y together, as load_idx's.

    Parameters
    ----------
    images_path : str, bytes or os.PathLike
        The IDX file of the samples (n, ...).
    labels_path : str, bytes or os.PathLike
        The IDX file of the labels (n,), of an integer type.
    dtype : float dtype, default numpy.float64
        X's dtype.
    max_bytes : int or None, default None
        The memory budget in bytes for X and y together (None: what this process can
        allocate now).

    Returns
    -------
    X : numpy.ndarray of shape (n, n_features)
    y : numpy.ndarray of shape (n,), int64

    Raises
    ------
    ValueError
        A damaged file, labels that are not 1-D integers, or counts that differ.
    MemoryError
        X and y do not fit max_bytes.
    OSError
        A file cannot be opened.
    TypeError
        dtype is not a float dtype.
    """
    dtype = check_float_dtype(dtype)
    max_bytes = check_max_bytes(max_bytes)
    images_path = check_path(images_path, "images_path")
    labels_path = check_path(labels_path, "labels_path")
    with _IdxFile(images_path) as images, _IdxFile(labels_path) as labels:
        if len(labels.shape) != 1:
            raise ValueError(
                f"labels file {labels_path!r} must hold a 1-D array, got shape {labels.shape}"
            )
        if labels.dtype.kind not in "iu":
            raise ValueError(
                f"labels file {labels_path!r} must hold integers, got "
                f"{labels.dtype.newbyteorder('=')} values"
            )
        n, width = images.shape[0], math.prod(images.shape[1:])
        if n != labels.shape[0]:
            raise ValueError(
                f"images file {images_path!r} holds {n} samples but labels "
                f"file {labels_path!r} holds {labels.shape[0]} labels"
            )
        check_allocation(
            n * width * dtype.itemsize + n * np.dtype(np.int64).itemsize,
            f"{images.describe()} and {labels.describe()}, read as X ({n}, "
            f"{width}) of {dtype} and y ({n},) of int64,",
            max_bytes,
        )
        return images.read(dtype).reshape(n, width), labels.read(np.dtype(np.int64))


MNIST_PREFIXES = {"train": "train", "test": "t10k"}


def load_mnist(
    directory: StrPath,
    subset: str = "train",
    *,
    dtype: DTypeLike = np.float64,
    max_bytes: int | None = None,
) -> tuple[NDArray[np.floating[Any]], NDArray[np.int64]]:
    """MNIST's training ("train", 60000 samples) or test ("test", 10000) set from the
    original IDX files in `directory`, named as published (train-images-idx3-ubyte,
    train-labels-idx1-ubyte, t10k-...; also with '.' before 'idx', and/or '.gz').
    Returns load_idx_pair's (X (n, 784) of `dtype`, pixel values 0..255; y (n,) int64);
    max_bytes as load_idx_pair's.

    Parameters
    ----------
    directory : str, bytes or os.PathLike
        The directory holding the four files.
    subset : {"train", "test"}, default "train"
        Which set.
    dtype : float dtype, default numpy.float64
        X's dtype.
    max_bytes : int or None, default None
        The memory budget for X and y together, as load_idx_pair's.

    Returns
    -------
    X : numpy.ndarray of shape (n, 784)
    y : numpy.ndarray of shape (n,), int64

    Raises
    ------
    ValueError
        An unknown subset, or a damaged file.
    FileNotFoundError
        A file is missing.
    MemoryError
        X and y do not fit max_bytes.
    """
    if subset not in MNIST_PREFIXES:
        raise ValueError(f"subset must be 'train' or 'test', got {subset!r}")
    directory = check_path(directory, "directory")
    prefix = MNIST_PREFIXES[subset]
    images = _find_file(directory, [f"{prefix}-images{sep}idx3-ubyte" for sep in "-."])
    labels = _find_file(directory, [f"{prefix}-labels{sep}idx1-ubyte" for sep in "-."])
    return load_idx_pair(images, labels, dtype=dtype, max_bytes=max_bytes)


def _find_file(directory, names):
    candidates = [name + ext for name in names for ext in ("", ".gz")]
    for name in candidates:
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f"no MNIST file in {directory!r}: looked for {', '.join(candidates)}")


class _IdxFile:
    """An open IDX file whose header has been read and its sizes checked against the
    file (see the module docstring); `read(dtype)` then reads the data into a new array."""

    def __init__(self, path):
        self.path = path
        self._raw = open_regular(path)
        try:
            self._stream = self._raw
            file_size = os.fstat(self._raw.fileno()).st_size
            self.compressed = self._raw.read(2) == GZIP_MAGIC
            if self.compressed:  # the trailer first: GzipFile then reads on from offset 0
                self._raw.seek(max(0, file_size - 4))
                isize = int.from_bytes(self._raw.read(4), "little")
                self._raw.seek(0)
                self._stream = gzip.GzipFile(fileobj=self._raw, mode="rb")
            else:
                self._raw.seek(0)
            with self._gzip_errors():
                self.shape, self.dtype, header_bytes = _read_header(self._stream, path)
            self.count = math.prod(self.shape)  # Python ints: no overflow
            data_bytes = self.count * self.dtype.itemsize
            if data_bytes > sys.maxsize:
                raise ValueError(
                    f"IDX file {path!r} has a corrupt header: its sizes "
                    f"{self.shape} make {data_bytes} bytes of data, more than "
                    f"this machine can address"
                )
            if self.compressed:
                self._check_gzip_sizes(header_bytes + data_bytes, file_size, isize)
            elif file_size != header_bytes + data_bytes:
                extra = file_size - header_bytes - data_bytes
                problem = (
                    "is truncated"
                    if extra < 0
                    else f"has {extra} extra byte{'s' if extra > 1 else ''} after its data"
                )
                raise ValueError(
                    f"IDX file {path!r} {problem}: its header announces "
                    f"{self._declared()}, {header_bytes + data_bytes} bytes "
                    f"in all, but the file has {file_size} bytes"
                )
        except BaseException:
            self._raw.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._raw.close()

    def _declared(self):
        return f"shape {self.shape} of {self.dtype.str[1:]}"

    def describe(self):
        return f"IDX file {self.path!r} ({self._declared()})"

    def _check_gzip_sizes(self, total, file_size, isize):
        """The uncompressed size the header declares, against deflate's largest ratio and
        the gzip trailer's ISIZE (the last 4 bytes: the size modulo 2**32)."""
        if total > DEFLATE_MAX_RATIO * file_size:
            raise ValueError(
                f"IDX file {self.path!r}: its header lies: it announces "
                f"{self._declared()}, {total} bytes, but deflate cannot expand "
                f"the {file_size}-byte file to more than "
                f"{DEFLATE_MAX_RATIO * file_size} ({DEFLATE_MAX_RATIO}:1)"
            )
        if isize != total % 2**32:
            problem = (
                "is truncated"
                if isize < total < 2**32
                else "has extra bytes after its data"
                if total < isize
                else "is damaged"
            )
            raise ValueError(
                f"IDX file {self.path!r} {problem} or its header lies: its "
                f"header announces {self._declared()}, {total} bytes in all, "
                f"but its gzip trailer records {isize} bytes (modulo 2**32); a "
                f"file of several gzip streams joined records only the last "
                f"one's (recompress it as one)"
            )

    @contextlib.contextmanager
    def _gzip_errors(self):
        """A cut or damaged gzip stream as a ValueError naming the file."""
        try:
            yield
        except (OSError, EOFError, zlib.error) as error:
            if not self.compressed:
                raise
            raise ValueError(
                f"IDX file {self.path!r}: its gzip stream is damaged or cut short ({error})"
            ) from None

    def read(self, dtype):
        """The data as a new array of `dtype` and the header's shape, converted chunk by
        chunk (as astype converts), so nothing but the result is held whole."""
        out = np.empty(self.count, dtype=dtype)
        step = max(1, CHUNK_BYTES // self.dtype.itemsize)
        total = self.count * self.dtype.itemsize
        with self._gzip_errors():
            for start in range(0, self.count, step):
                k = min(step, self.count - start)
                chunk = _read_exactly(
                    self._stream,
                    k * self.dtype.itemsize,
                    self.path,
                    f"data ({self._declared()})",
                    start * self.dtype.itemsize,
                    total,
                )
                np.copyto(
                    out[start : start + k],
                    np.frombuffer(chunk, dtype=self.dtype),
                    casting="unsafe",
                )
            if self.compressed and self._stream.read(1):
                raise ValueError(
                    f"IDX file {self.path!r} has extra bytes after the data its "
                    f"header announces ({self._declared()})"
                )
        return out.reshape(self.shape)


def _read_header(stream, path):
    """(shape, big-endian dtype, header size in bytes) of the IDX header."""
    magic = _read_exactly(stream, 4, path, "the magic number")
    if magic[:2] != b"\0\0":
        raise ValueError(
            f"IDX file {path!r} is not an IDX file: its magic number "
            f"0x{magic.hex()} does not start with two zero bytes"
        )
    type_code, ndim = magic[2], magic[3]
    if type_code not in IDX_DTYPES:
        known = ", ".join(f"0x{code:02X}" for code in IDX_DTYPES)
        raise ValueError(
            f"IDX file {path!r} has unknown type code 0x{type_code:02X} (known: {known})"
        )
    if ndim == 0:
        raise ValueError(f"IDX file {path!r} has a header with 0 dimensions")
    shape = tuple(
        int(size)
        for size in np.frombuffer(
            _read_exactly(stream, 4 * ndim, path, f"the {ndim} dimension sizes"), dtype=">u4"
        )
    )
    return shape, IDX_DTYPES[type_code], 4 + 4 * ndim


def _read_exactly(stream, n, path, what, done=0, total=None):
    """n bytes (at most a chunk), looping over short reads; `done` of `total` bytes of
    `what` were read before, for the message of a file that ends early."""
    data = bytearray()
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            raise ValueError(
                f"IDX file {path!r} is truncated: it ends after "
                f"{done + len(data)} of the {n if total is None else total} "
                f"bytes of {what}"
            )
        data += chunk
    return data
