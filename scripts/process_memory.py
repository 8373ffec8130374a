"""Memory of the whole process, as the operating system counts it, for the benchmarks.

tracemalloc sees only Python's own allocations and misses what lxml, openpyxl's C parts and
SQLite allocate; VmRSS / VmHWM from /proc count everything the process holds.
"""

from __future__ import annotations

import resource
from pathlib import Path

_STATUS = Path("/proc/self/status")


def _status_kib(field: str) -> int | None:
    if not _STATUS.exists():
        return None
    for line in _STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return None


def peak_rss_kib() -> int:
    """This process's peak resident memory in KiB (VmHWM: this program alone; ru_maxrss would
    also carry the parent's peak over from before the exec)."""
    peak = _status_kib("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def rss_kib() -> int:
    """This process's resident memory now, in KiB."""
    now = _status_kib("VmRSS")
    return now if now is not None else peak_rss_kib()
