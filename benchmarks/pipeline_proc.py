"""What the pipeline benchmark reads from /proc: CPU time, peak memory, children, load.

VmHWM is the peak resident set size the kernel kept for a process since it started; it
must be read while the process lives (before the supervisor stops it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def _status_kib(pid: int, field_name: str) -> int | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1])
    return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a live process (all its threads) has used so far, in seconds."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    # Fields 14 and 15 of proc(5) (utime, stime), counted from the state field (3) here.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def vm_hwm_kib(pid: int) -> int | None:
    """Peak resident set size of a live process, KiB (None when it is gone)."""
    return _status_kib(pid, "VmHWM")


def child_pids(parent: int) -> list[int]:
    """Pids whose parent is `parent` (from /proc/*/stat)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: fields follow the last ')'.
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[1]) == parent:
            children.append(int(stat.parent.name))
    return children


def service_cpu(pids: Mapping[str, int]) -> dict[str, float]:
    """name -> CPU seconds used so far, for each live pid."""
    found = {name: cpu_seconds(pid) for name, pid in pids.items()}
    return {name: seconds for name, seconds in found.items() if seconds is not None}


def service_memory(pids: Mapping[str, int]) -> dict[str, int]:
    """name -> VmHWM in KiB for each live pid."""
    found = {name: vm_hwm_kib(pid) for name, pid in pids.items()}
    return {name: kib for name, kib in found.items() if kib is not None}


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as /proc/loadavg gives them."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])
