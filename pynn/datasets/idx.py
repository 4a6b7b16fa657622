"""Reading IDX files, the format of MNIST (plain or gzip-compressed).

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of
dimensions d), d big-endian uint32 sizes, then the values in row-major order, big-endian.
A file is read only as far as its header says: a short file, extra bytes after the data,
a damaged header or gzip stream raise a ValueError naming the file.
"""
import gzip
import os
import sys
import zlib

import numpy as np

from pynn.files import open_regular

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
CHUNK_BYTES = 1 << 20  # a gzip stream is read by chunks: its size is unknown up front


def load_idx(path):
    """The array stored in the IDX file `path` (gzip-compressed or not, told by its first
    bytes), with the header's shape and the dtype of its type code in native byte order:
    uint8, int8, int16, int32, float32 or float64."""
    path = _check_path(path, "path")
    with open_regular(path) as raw:
        compressed = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        if not compressed:
            return _read_idx(raw, path, file_size=os.fstat(raw.fileno()).st_size)
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                return _read_idx(stream, path, file_size=None)
        except (OSError, EOFError, zlib.error) as error:  # a cut or damaged gzip stream
            raise ValueError(f"IDX file {path!r}: its gzip stream is damaged or cut short "
                             f"({error})") from None


def load_idx_pair(images_path, labels_path, *, dtype=np.float64):
    """Samples and labels from two IDX files, as MNIST's (images, labels) pairs.

    Returns X: (n, prod of the other image dimensions), of `dtype` (float64 by default;
    MNIST's pixel values stay 0..255, divide by 255 to scale them), and y: (n,) int64.
    The labels file must be 1-D of an integer type and hold as many labels as there are
    images."""
    dtype = _check_float_dtype(dtype)
    images = load_idx(images_path)
    labels = load_idx(labels_path)
    if labels.ndim != 1:
        raise ValueError(f"labels file {os.fspath(labels_path)!r} must hold a 1-D array, "
                         f"got shape {labels.shape}")
    if labels.dtype.kind not in "iu":
        raise ValueError(f"labels file {os.fspath(labels_path)!r} must hold integers, got "
                         f"{labels.dtype} values")
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"images file {os.fspath(images_path)!r} holds {images.shape[0]} "
                         f"samples but labels file {os.fspath(labels_path)!r} holds "
                         f"{labels.shape[0]} labels")
    return images.reshape(images.shape[0], -1).astype(dtype), labels.astype(np.int64)


MNIST_PREFIXES = {"train": "train", "test": "t10k"}


def load_mnist(directory, subset="train", *, dtype=np.float64):
    """MNIST's training ("train", 60000 samples) or test ("test", 10000) set from the
    original IDX files in `directory`, named as published (train-images-idx3-ubyte,
    train-labels-idx1-ubyte, t10k-...; also with '.' before 'idx', and/or '.gz').
    Returns load_idx_pair's (X (n, 784) of `dtype`, pixel values 0..255; y (n,) int64)."""
    if subset not in MNIST_PREFIXES:
        raise ValueError(f"subset must be 'train' or 'test', got {subset!r}")
    directory = _check_path(directory, "directory")
    prefix = MNIST_PREFIXES[subset]
    images = _find_file(directory, [f"{prefix}-images{sep}idx3-ubyte" for sep in "-."])
    labels = _find_file(directory, [f"{prefix}-labels{sep}idx1-ubyte" for sep in "-."])
    return load_idx_pair(images, labels, dtype=dtype)


def _find_file(directory, names):
    candidates = [name + ext for name in names for ext in ("", ".gz")]
    for name in candidates:
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f"no MNIST file in {directory!r}: looked for "
                            f"{', '.join(candidates)}")


def _read_idx(stream, path, file_size):
    """Header, then exactly the data it announces; file_size is None for a gzip stream."""
    magic = _read_exactly(stream, 4, path, "the magic number")
    if magic[:2] != b"\0\0":
        raise ValueError(f"IDX file {path!r} is not an IDX file: its magic number "
                         f"0x{magic.hex()} does not start with two zero bytes")
    type_code, ndim = magic[2], magic[3]
    if type_code not in IDX_DTYPES:
        known = ", ".join(f"0x{code:02X}" for code in IDX_DTYPES)
        raise ValueError(f"IDX file {path!r} has unknown type code 0x{type_code:02X} "
                         f"(known: {known})")
    if ndim == 0:
        raise ValueError(f"IDX file {path!r} has a header with 0 dimensions")
    dtype = IDX_DTYPES[type_code]
    shape = tuple(int(size) for size in np.frombuffer(
        _read_exactly(stream, 4 * ndim, path, f"the {ndim} dimension sizes"), dtype=">u4"))
    count = 1
    for size in shape:
        count *= size  # a Python int: cannot overflow
    data_bytes = count * dtype.itemsize
    if data_bytes > sys.maxsize:
        raise ValueError(f"IDX file {path!r} has a corrupt header: its sizes {shape} make "
                         f"{data_bytes} bytes of data, more than this machine can address")
    header_bytes = 4 + 4 * ndim
    if file_size is not None and file_size != header_bytes + data_bytes:
        extra = file_size - header_bytes - data_bytes
        problem = "is truncated" if extra < 0 else \
            f"has {extra} extra byte{'s' if extra > 1 else ''} after its data"
        raise ValueError(f"IDX file {path!r} {problem}: its header announces shape {shape} "
                         f"of {dtype.str[1:]}, {header_bytes + data_bytes} bytes in all, but "
                         f"the file has {file_size} bytes")
    data = _read_exactly(stream, data_bytes, path, f"data (shape {shape})")
    if file_size is None and stream.read(1):
        raise ValueError(f"IDX file {path!r} has extra bytes after the data its header "
                         f"announces (shape {shape} of {dtype.str[1:]})")
    values = np.frombuffer(data, dtype=dtype, count=count).reshape(shape)
    return values.astype(dtype.newbyteorder("="))  # native byte order, a writable copy


def _read_exactly(stream, n, path, what):
    """n bytes, read by chunks so that a header announcing more than the file holds never
    makes us allocate what it announces."""
    data = bytearray()
    while len(data) < n:
        chunk = stream.read(min(CHUNK_BYTES, n - len(data)))
        if not chunk:
            raise ValueError(f"IDX file {path!r} is truncated: it ends after "
                             f"{len(data)} of the {n} bytes of {what}")
        data += chunk
    return data


def _check_path(path, name):
    try:
        return os.fspath(path)
    except TypeError:
        raise TypeError(f"{name} must be a str or os.PathLike, got {type(path).__name__}") \
            from None


def _check_float_dtype(dtype):
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be a float dtype, got {dtype!r}") from None
    if dtype.kind != "f":
        raise TypeError(f"dtype must be a float dtype (float32 or float64), got {dtype}")
    return dtype
