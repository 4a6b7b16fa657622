"""Timing shared by the benchmarks: interleaved repeats, medians, a quiet machine.

The machine these figures come from is shared and noisy (shared/BENCHMARKS.md): every claim
is a ratio of two libraries timed in the same run, turn about, as the median of several
repeats, so that the noise hits both alike.
"""

import os
import statistics
import time

REPEAT_SECONDS = 0.025  # each repeat times enough calls to last about this long
SLOW_CALL_SECONDS = 0.25  # cases whose single call is slower than this (2048³) ...
SLOW_REPEATS = 3  # ... get at most this many repeats
# Other processes on the machine wreck multi-threaded figures (a thread that loses its core
# stalls the whole parallel region): wait up to this long for no other runnable thread.
QUIET_WAIT_SECONDS = 0.2
# A measurement during which other processes used more than this share of the machine's
# cores (OtherLoad) is "busy": it times the other work as much as the library.
BUSY_SHARE = 0.10


def seconds_per_call(fn, calls):
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def measure(fns, repeats):
    """Median seconds per call of each function in fns (name -> fn), repeats interleaved:
    each repeat times a batch of about REPEAT_SECONDS of calls of each function in turn, after
    one warm-up call of each. Returns ({name: median seconds}, repeats used)."""
    calls, slowest = {}, 0.0
    for name, fn in fns.items():
        fn()  # warm-up: first touch of the outputs, thread pools, packing buffers
        one = seconds_per_call(fn, 1)
        calls[name] = max(1, int(REPEAT_SECONDS / one))
        slowest = max(slowest, one)
    if slowest > SLOW_CALL_SECONDS:
        repeats = min(repeats, SLOW_REPEATS)
    samples = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            samples[name].append(seconds_per_call(fn, calls[name]))
    return {name: statistics.median(times) for name, times in samples.items()}, repeats


def median_or_none(values):
    """The median of the values that are not None, or None when there are none."""
    values = [value for value in values if value is not None]
    return statistics.median(values) if values else None


def rotated(items, turn):
    """items rotated left by `turn`: each repeat starts with a different library, so that no
    library always runs first (on a cold cache) or last."""
    items = list(items)
    if not items:
        return items
    turn %= len(items)
    return items[turn:] + items[:turn]


def other_runnable_threads():
    """Runnable threads on the machine besides the one reading (/proc/loadavg), or None."""
    try:
        with open("/proc/loadavg") as loadavg:
            return int(loadavg.read().split()[3].split("/")[0]) - 1
    except (OSError, IndexError, ValueError):
        return None


def wait_for_quiet_machine(limit=QUIET_WAIT_SECONDS):
    """Wait up to `limit` seconds for no other runnable thread; True if some still ran."""
    deadline = time.perf_counter() + limit
    while True:
        others = other_runnable_threads()
        if not others:
            return False
        if time.perf_counter() >= deadline:
            return True
        time.sleep(0.002)


def _cpu_seconds():
    """(CPU seconds the whole machine spent busy, CPU seconds of this process), or None
    without /proc/stat. Busy is all but idle and iowait; it includes steal (time the
    hypervisor gave our virtual cores to others)."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(value) for value in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    busy = sum(fields[:8]) - fields[3] - fields[4]  # user..steal, less idle and iowait
    own = os.times()
    return busy / ticks, own.user + own.system


class OtherLoad:
    """The share of the machine's cores that other processes used between start() and
    stop(): 0 on a quiet machine, 0.5 when something kept one of two cores busy throughout.
    None where /proc/stat cannot be read."""

    def start(self):
        self.before, self.started = _cpu_seconds(), time.perf_counter()
        return self

    def stop(self):
        after, wall = _cpu_seconds(), time.perf_counter() - self.started
        if self.before is None or after is None or wall <= 0:
            return None
        others = (after[0] - self.before[0]) - (after[1] - self.before[1])
        return max(0.0, others / (wall * (os.cpu_count() or 1)))
