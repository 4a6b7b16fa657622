"""How many bytes this process may still allocate, the check loaders make before they
allocate what a file declares, and how a byte count is written (format_bytes).

`available_bytes()` is the smallest of what the system, the process's memory cgroup and
its address-space limit leave:
- MemAvailable of /proc/meminfo (what the kernel can give without swapping);
- for each memory cgroup from the process's own up to the root (cgroup v2: memory.max
  and memory.current; v1: memory.limit_in_bytes and memory.usage_in_bytes), the limit
  minus the usage, the usage counted without the cgroup's inactive file cache
  (memory.stat's inactive_file), which the kernel reclaims before it fails an allocation;
- RLIMIT_AS minus the address space mapped now (VmSize of /proc/self/status), and
  RLIMIT_DATA minus VmData, when those limits are set.
What cannot be read (another OS, no /proc, no cgroup) is skipped; None when nothing is
known, which means no limit. The figure is a snapshot: other processes may take memory
after it is read, so it guards against allocations that cannot fit, not against every
shortage.
"""

from __future__ import annotations

import os
import re

try:
    import resource
except ImportError:  # Windows: no rlimits
    resource = None  # type: ignore[assignment]

__all__ = ["available_bytes", "check_allocation", "check_max_bytes", "format_bytes"]

CGROUP_ROOT = "/sys/fs/cgroup"


def available_bytes() -> int | None:
    """The bytes this process can still allocate (see the module docstring), or None when
    no limit is known.

    Returns
    -------
    int or None
    """
    known = [
        room for room in (_meminfo_available(), _cgroup_room(), _rlimit_room()) if room is not None
    ]
    return max(0, min(known)) if known else None


def format_bytes(count: float) -> str:  # type: ignore[return]  # the loop returns
    """1023 B, 1.5 KiB, 2.3 MiB ... (binary prefixes).

    Parameters
    ----------
    count : int or float
        A number of bytes.

    Returns
    -------
    str
    """
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024


def check_max_bytes(max_bytes: int | None) -> int | None:
    """`max_bytes` checked: None (the default budget, available_bytes()) or an int >= 0.

    Parameters
    ----------
    max_bytes : int or None
        The budget.

    Returns
    -------
    int or None

    Raises
    ------
    TypeError
        Not None or an int.
    ValueError
        A negative int.
    """
    if max_bytes is None:
        return None
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int):
        raise TypeError(f"max_bytes must be None or an int number of bytes, got {max_bytes!r}")
    if max_bytes < 0:
        raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
    return max_bytes


def check_allocation(nbytes: int, what: str, max_bytes: int | None = None) -> None:
    """Raise MemoryError, before anything is allocated, when `what` (a description naming
    the file: "data file 'x.npz' member 'X' (shape (10, 3), float64)") needs more than
    `max_bytes` bytes. max_bytes None: what available_bytes() says this process can
    allocate now (no check when that is unknown); an int: the caller's budget.

    Parameters
    ----------
    nbytes : int
        The bytes the allocation needs.
    what : str
        What is allocated, for the message.
    max_bytes : int or None, default None
        The budget.

    Raises
    ------
    MemoryError
        nbytes exceeds the budget.
    TypeError, ValueError
        A bad max_bytes.
    """
    max_bytes = check_max_bytes(max_bytes)
    if max_bytes is None:
        limit = available_bytes()
        if limit is None or nbytes <= limit:
            return
        raise MemoryError(
            f"{what} needs {format_bytes(nbytes)} ({nbytes} bytes), more than "
            f"the {format_bytes(limit)} this process can allocate now (free "
            f"memory, its cgroup's and its address-space limit)"
        )
    if nbytes > max_bytes:
        raise MemoryError(
            f"{what} needs {format_bytes(nbytes)} ({nbytes} bytes), more than "
            f"the budget max_bytes={max_bytes} ({format_bytes(max_bytes)})"
        )


def _read_text(path):
    try:
        with open(path) as file:
            return file.read()
    except (OSError, UnicodeDecodeError):
        return None


def _field_bytes(text, name):
    """The 'name: N kB' field of /proc/meminfo or /proc/self/status, in bytes."""
    match = re.search(rf"^{name}:\s+(\d+) kB", text or "", re.MULTILINE)
    return int(match.group(1)) * 1024 if match else None


def _meminfo_available():
    return _field_bytes(_read_text("/proc/meminfo"), "MemAvailable")


def _number(path):
    """An integer file of the cgroup tree; None when absent or 'max' (no limit)."""
    text = _read_text(path)
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def _inactive_file(directory):
    """The cgroup's inactive file cache: v1's total_inactive_file counts its children too,
    as its usage does; v2's inactive_file always does."""
    stat = _read_text(os.path.join(directory, "memory.stat")) or ""
    for name in ("total_inactive_file", "inactive_file"):
        match = re.search(rf"^{name} (\d+)$", stat, re.MULTILINE)
        if match:
            return int(match.group(1))
    return 0


def _cgroup_directories():
    """The memory cgroup directories of this process, its own first, then its ancestors
    (each may set a lower limit), as (directory, limit file, usage file)."""
    text = _read_text("/proc/self/cgroup") or ""
    found = []
    for line in text.splitlines():
        _, controllers, path = line.split(":", 2) if line.count(":") >= 2 else ("", "", "")
        if controllers == "":  # cgroup v2's unified hierarchy
            mount, files = CGROUP_ROOT, ("memory.max", "memory.current")
        elif "memory" in controllers.split(","):  # cgroup v1's memory controller
            mount, files = (
                os.path.join(CGROUP_ROOT, "memory"),
                ("memory.limit_in_bytes", "memory.usage_in_bytes"),
            )
        else:
            continue
        parts = [part for part in path.split("/") if part and part != ".."]
        for depth in range(len(parts), -1, -1):
            found.append((os.path.join(mount, *parts[:depth]), *files))
    return found


def _cgroup_room():
    rooms = []
    for directory, limit_file, usage_file in _cgroup_directories():
        limit = _number(os.path.join(directory, limit_file))
        usage = _number(os.path.join(directory, usage_file))
        if limit is None or usage is None:
            continue
        rooms.append(limit - max(0, usage - _inactive_file(directory)))
    return min(rooms) if rooms else None


def _rlimit_room():
    if resource is None:
        return None
    status = _read_text("/proc/self/status")
    rooms = []
    for limit, field in (
        (resource.RLIMIT_AS, "VmSize"),
        (getattr(resource, "RLIMIT_DATA", None), "VmData"),
    ):
        if limit is None:
            continue
        soft, _ = resource.getrlimit(limit)
        used = _field_bytes(status, field)
        if soft != resource.RLIM_INFINITY and used is not None:
            rooms.append(soft - used)
    return min(rooms) if rooms else None
