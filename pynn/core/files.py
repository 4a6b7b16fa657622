"""Opening files that pynn reads and replacing files that it writes, without harm.

Reading: `open_regular` opens without blocking and refuses anything but a regular file (a
FIFO would block open() forever, a device would be read without end), naming the path.
`DEFLATE_MAX_RATIO` bounds what a compressed file can hold.
Writing: `save_target` is the regular file a save replaces (a symlink is followed to its
target, which is written), and refuses a path that exists and is anything else. A
directory raises IsADirectoryError, as open() does; any other kind ValueError.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from os import PathLike

# Deflate (zip, gzip) encodes at most 258 bytes with one length/distance pair of at least
# 2 bits, so no deflate stream expands more than 1032 times: a header that declares more
# uncompressed bytes than that lies.
DEFLATE_MAX_RATIO = 1032


def _not_regular(path, mode, doing):
    """IsADirectoryError for a directory (as open() raises), else ValueError."""
    if stat.S_ISDIR(mode):
        return IsADirectoryError(
            errno.EISDIR, f"{path!r} is a directory: pynn {doing} regular files only"
        )
    kind = (
        "a FIFO"
        if stat.S_ISFIFO(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "not a regular file"
    )
    return ValueError(f"{path!r} is {kind}: pynn {doing} regular files only")


def open_regular(
    path: str | bytes | PathLike[str] | PathLike[bytes], mode: str = "rb", **options: Any
) -> IO[Any]:
    """open(path, mode, **options) for reading, refused (ValueError) unless `path` is a
    regular file. Opened with O_NONBLOCK first, so a FIFO with no writer cannot block, and
    checked on the open descriptor, so the file cannot be swapped after the check.

    Parameters
    ----------
    path : str, bytes or os.PathLike
        The file.
    mode : str, default "rb"
        A reading mode of open().
    **options
        open()'s other arguments (encoding, newline, ...).

    Returns
    -------
    file object
        As open() returns.

    Raises
    ------
    ValueError
        A writing mode, or a path that is not a regular file (a FIFO, a device, ...).
    IsADirectoryError
        A directory.
    OSError
        The file cannot be opened.
    """
    if any(flag in mode for flag in "wax+"):
        raise ValueError(f"open_regular opens for reading only, got mode {mode!r}")
    fd = os.open(
        path,
        os.O_RDONLY
        | getattr(os, "O_NONBLOCK", 0)
        | getattr(os, "O_CLOEXEC", 0)
        | getattr(os, "O_BINARY", 0),
    )
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _not_regular(path, st.st_mode, "reads")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return open(fd, mode, closefd=True, **options)
    except BaseException:
        os.close(fd)
        raise


def save_target(path: str) -> tuple[str, os.stat_result | None]:
    """(the path a save replaces, its stat or None): `path` itself, or a symlink's final
    target (created if the link dangles); ValueError when it exists and is not a regular
    file, which replacing would destroy (a device node, a FIFO, a directory).

    Parameters
    ----------
    path : str
        The path the caller saves to.

    Returns
    -------
    target : str
        The real path written.
    stat : os.stat_result or None
        Its stat when it exists.

    Raises
    ------
    ValueError
        It exists and is not a regular file.
    IsADirectoryError
        It is a directory.
    """
    target = os.path.realpath(path)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return target, None
    if not stat.S_ISREG(st.st_mode):
        raise _not_regular(path, st.st_mode, "saves over")
    return target, st
