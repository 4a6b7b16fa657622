"""Reading data arrays from NumPy .npy files and .npz archives without trusting their
headers.

np.load allocates the whole array an .npy header declares before it reads a byte of
data, so a small file that declares a huge shape (a deflated .npz member of zeros, a
header that lies) makes it allocate gigabytes. Here each array's header is read first and
checked before anything is allocated:
- its dtype holds numbers, booleans or fixed-width strings (no objects: they need pickle;
  no records);
- the bytes its shape and dtype declare fit what the file holds: for a plain .npy file,
  the file's size after the header; for a stored (uncompressed) .npz member, its size in
  the zip directory, which must fit the file; for a deflated member, its declared
  uncompressed size, which deflate cannot make more than 1032 times its compressed size
  (so a directory entry claiming more is a lie). Failing any of these is a ValueError
  naming the file and the member;
- the arrays asked for, together, fit the memory budget (pynn.memory.check_allocation:
  MemoryError naming the file).
Then the data are read into the allocated array in chunks; a file that holds less than
its headers say is a ValueError naming it.
"""

from __future__ import annotations

import contextlib
import math
import os
import zipfile
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from pynn.core.checks import check_path
from pynn.core.files import DEFLATE_MAX_RATIO, open_regular
from pynn.core.memory import check_allocation, check_max_bytes

if TYPE_CHECKING:
    from os import PathLike

    #: a path argument: str, bytes or os.PathLike
    StrPath = str | bytes | PathLike[str] | PathLike[bytes]

NPY_HEADER_READERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}
DATA_KINDS = "biufcSU"  # booleans, integers, floats, complex, bytes and str
# What zipfile raises for a damaged archive (a bad offset can make a seek fail, too).
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, ValueError)
CHUNK_BYTES = 1 << 20


class _FileError(ValueError):
    """A problem this module found (its message names the file), told apart from the
    ValueErrors zipfile raises for a damaged archive; raised to callers as a ValueError."""


@contextlib.contextmanager
def _value_errors(where, zip_member):
    """Our _FileError as a plain ValueError; for a zip member, zipfile's errors (a damaged
    archive) as a ValueError naming it."""
    try:
        yield
    except _FileError as error:
        raise ValueError(str(error)) from None
    except ZIP_ERRORS as error:
        if not zip_member:
            raise
        raise ValueError(f"{where} is damaged ({error})") from None


def load_npy(path: StrPath, *, max_bytes: int | None = None) -> NDArray[Any]:
    """The array of the .npy file `path`, checked as the module docstring says before it
    is allocated. max_bytes: the memory budget in bytes; None (default): what this process
    can allocate now (pynn.memory.available_bytes).

    Parameters
    ----------
    path : str, bytes or os.PathLike
        The .npy file.
    max_bytes : int or None, default None
        The memory budget in bytes for the result (None: what this process can allocate
        now, pynn.memory.available_bytes).

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        A damaged or short file, an object or record dtype, or a header the file cannot
        hold (the message names the file).
    MemoryError
        The array does not fit max_bytes.
    OSError
        The file cannot be opened (or is not a regular file).
    """
    path = check_path(path)
    max_bytes = check_max_bytes(max_bytes)
    where = f"data file {path!r}"
    with open_regular(path) as file, _value_errors(where, zip_member=False):
        header = _read_header(file, where)
        _check_fits(header, os.fstat(file.fileno()).st_size, where)
        check_allocation(header["nbytes"], _describe(where, header), max_bytes)
        return _read_data(file, header, where)


def load_npz(
    path: StrPath, names: Sequence[str] | None = None, *, max_bytes: int | None = None
) -> dict[str, NDArray[Any]]:
    """{name: array} of the .npz archive `path`: the arrays `names` (a list of names as
    np.savez gives them, "X" for member "X.npy"), or all of them; each checked as the
    module docstring says, and together against the budget max_bytes (None: what this
    process can allocate now), before any is allocated.

    Parameters
    ----------
    path : str, bytes or os.PathLike
        The .npz archive.
    names : sequence of str or None, default None
        The arrays to read (None: all).
    max_bytes : int or None, default None
        The memory budget in bytes for the arrays together (None: what this process can allocate
        now, pynn.memory.available_bytes).

    Returns
    -------
    dict of str to numpy.ndarray

    Raises
    ------
    ValueError
        A damaged archive or member, a missing name, or a header the member cannot hold.
    MemoryError
        The arrays do not fit max_bytes.
    OSError
        The file cannot be opened.
    """
    path = check_path(path)
    max_bytes = check_max_bytes(max_bytes)
    with _npz_headers(path, names) as (archive, members, headers):
        total = sum(header["nbytes"] for header in headers.values())
        check_allocation(
            total,
            f"data file {path!r}, "
            + ", ".join(_describe(f"member {name!r}", header) for name, header in headers.items()),
            max_bytes,
        )
        arrays = {}
        for name, header in headers.items():
            where = f"data file {path!r} member {name!r}"
            with _value_errors(where, zip_member=True), archive.open(members[name]) as stream:
                _read_header(stream, where)
                arrays[name] = _read_data(stream, header, where)
        return arrays


def npz_shapes(
    path: StrPath, names: Sequence[str] | None = None
) -> dict[str, tuple[tuple[int, ...], np.dtype[Any]]]:
    """{name: (shape, dtype)} that the .npz archive `path` declares for the arrays `names`
    (or all), checked as load_npz checks them; no data are read.

    Parameters
    ----------
    path : str, bytes or os.PathLike
        The .npz archive.
    names : sequence of str or None, default None
        The arrays (None: all).

    Returns
    -------
    dict of str to (tuple of int, numpy.dtype)

    Raises
    ------
    ValueError
        As load_npz.
    OSError
        The file cannot be opened.
    """
    with _npz_headers(check_path(path), names) as (_, _, headers):
        return {name: (header["shape"], header["dtype"]) for name, header in headers.items()}


@contextlib.contextmanager
def _npz_headers(path, names):
    """(the open archive, {name: ZipInfo}, {name: checked header}) for the arrays `names`
    (None: all), which must all be in the archive."""
    with open_regular(path) as file:
        file_size = os.fstat(file.fileno()).st_size
        try:
            archive = zipfile.ZipFile(file)
        except ZIP_ERRORS as error:
            raise ValueError(
                f"data file {path!r} is not a valid .npz (zip) archive ({error})"
            ) from None
        with archive:
            members = {
                info.filename[:-4] if info.filename.endswith(".npy") else info.filename: info
                for info in archive.infolist()
            }
            names = list(members) if names is None else list(names)
            missing = [name for name in names if name not in members]
            if missing:
                raise ValueError(
                    f"NPZ file {path!r} has no array {missing[0]!r} (it has "
                    f"{', '.join(members) or 'none'})"
                )
            yield (
                archive,
                members,
                {
                    name: _member_header(path, archive, name, members[name], file_size)
                    for name in names
                },
            )


def _member_header(path, archive, name, info, file_size):
    """The header of one member, checked against its zip directory entry and the file."""
    where = f"data file {path!r} member {name!r}"
    if info.flag_bits & 0x1:
        raise ValueError(f"{where} is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        # bzip2 and lzma can expand without a useful bound; np.savez_compressed deflates.
        raise ValueError(
            f"{where} is compressed with zip method {info.compress_type}: pynn "
            f"reads stored or deflated members only"
        )
    if info.compress_size > file_size or (
        info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size
    ):
        raise ValueError(
            f"{where}: the zip directory lies (sizes {info.file_size} "
            f"uncompressed, {info.compress_size} stored, in a {file_size}-byte "
            f"file): the file is truncated or forged"
        )
    if info.file_size > DEFLATE_MAX_RATIO * info.compress_size:
        raise ValueError(
            f"{where}: the zip directory lies: {info.file_size} bytes cannot "
            f"inflate from {info.compress_size} (deflate expands at most "
            f"{DEFLATE_MAX_RATIO}:1)"
        )
    with _value_errors(where, zip_member=True):
        with archive.open(info) as stream:
            header = _read_header(stream, where)
        _check_fits(header, info.file_size, where)
    return header


def _read_header(stream, where):
    """{shape, fortran_order, dtype, count, nbytes, offset} of the .npy header at the
    start of `stream`, with its dtype and shape checked."""
    try:
        version = np.lib.format.read_magic(stream)
        if version not in NPY_HEADER_READERS:
            raise _FileError(f"unsupported .npy format version {version}")
        shape, fortran_order, dtype = NPY_HEADER_READERS[version](stream)
    except ValueError as error:
        raise _FileError(
            f"{where} is not an .npy array or its header is damaged ({error})"
        ) from None
    if dtype.kind not in DATA_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise _FileError(
            f"{where} holds {dtype} values: pynn reads arrays of numbers, "
            f"booleans or strings only (no objects, which need pickle, and no "
            f"records)"
        )
    if dtype.itemsize == 0:
        raise _FileError(f"{where} has dtype {dtype.str!r}, whose items have no size")
    if any(size < 0 for size in shape):
        raise _FileError(f"{where} has a negative size in its shape {shape}")
    count = math.prod(shape)  # Python ints: no overflow
    return {
        "shape": shape,
        "fortran_order": fortran_order,
        "dtype": dtype,
        "count": count,
        "nbytes": count * dtype.itemsize,
        "offset": stream.tell(),
    }


def _check_fits(header, size, where):
    """The data the header declares must fit the `size` bytes of the .npy (file or
    uncompressed member), header included."""
    present = size - header["offset"]
    if header["nbytes"] > present:
        raise _FileError(
            f"{where} has a truncated or lying header: shape {header['shape']} "
            f"of {header['dtype']} is {header['nbytes']} bytes, but only "
            f"{max(present, 0)} bytes follow it"
        )


def _describe(where, header):
    return f"{where} (shape {header['shape']}, {header['dtype']})"


def _read_data(stream, header, where):
    """The array the checked header declares, read from `stream` by chunks into one
    allocation."""
    flat = np.empty(header["count"], dtype=header["dtype"])
    buffer = memoryview(flat.view(np.uint8)) if flat.size else memoryview(b"")
    done = 0
    while done < len(buffer):
        n = stream.readinto(buffer[done : done + CHUNK_BYTES])
        if not n:
            raise _FileError(
                f"{where} is truncated: it ends after {done} of the "
                f"{len(buffer)} bytes its header declares"
            )
        done += n
    shape = header["shape"]
    if header["fortran_order"]:
        return flat.reshape(shape[::-1]).transpose()
    return flat.reshape(shape)
