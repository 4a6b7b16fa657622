"""The peak resident memory (RSS) a piece of work adds to this process.

On Linux the kernel's high-water mark (VmHWM in /proc/self/status) can be reset to the
current RSS by writing "5" to /proc/self/clear_refs: the peak increase of the work is then
VmHWM after it minus VmRSS before it, exactly. Elsewhere the process's lifetime peak
(getrusage ru_maxrss) is all there is: its increase over the work is a lower bound (zero
when an earlier peak, e.g. while importing, was higher).
"""

import resource
import sys

METHODS = {
    "vmhwm": "peak RSS (VmHWM, reset through /proc/self/clear_refs at the baseline) minus "
    "RSS at the baseline",
    "ru_maxrss": "growth of the process's peak RSS (getrusage ru_maxrss) over the work: a "
    "lower bound",
}


def _status_bytes(field):
    """A size field of /proc/self/status (VmRSS, VmHWM) in bytes, or None."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024  # the kernel writes kB
    except (OSError, ValueError, IndexError):
        pass
    return None


def _ru_maxrss_bytes():
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, kB elsewhere


def _reset_high_water_mark():
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


class PeakMemory:
    """start() at the baseline, stop() after the work: the peak increase in bytes."""

    def start(self):
        rss = _status_bytes("VmRSS")
        if rss is not None and _reset_high_water_mark() and _status_bytes("VmHWM") is not None:
            self.method, self.baseline = "vmhwm", _status_bytes("VmRSS")
        else:
            self.method, self.baseline = "ru_maxrss", _ru_maxrss_bytes()
        return self

    def stop(self):
        peak = _status_bytes("VmHWM") if self.method == "vmhwm" else _ru_maxrss_bytes()
        return max(0, peak - self.baseline)
