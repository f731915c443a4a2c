"""CPU time and resident memory of process trees, read from /proc (Linux)."""

from __future__ import annotations

import os
from pathlib import Path


def descendants(pid: int, limit: int = 1000) -> set[int]:
    """The process ids below ``pid`` (via /proc/<pid>/task/*/children), at most ``limit``."""
    found: set[int] = set()
    pending = [pid]
    while pending and len(found) < limit:
        current = pending.pop()
        for children in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                pids = [int(child) for child in children.read_text().split()]
            except OSError:
                continue
            for child in pids:
                if child not in found and child != pid:
                    found.add(child)
                    pending.append(child)
    return found


def rss_kib(pid: int) -> int:
    """VmRSS of a process in KiB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MiB."""
    return sum(rss_kib(member) for member in {pid, *descendants(pid)}) / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, in seconds (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    except (OSError, IndexError, ValueError):
        return 0.0


def cpu_snapshot(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds of each named process tree."""
    return {name: sum(cpu_seconds(member) for member in {pid, *descendants(pid)}) for name, pid in pids.items()}


def cpu_ms_per_turn(before: dict[str, float], after: dict[str, float], turns: int) -> dict[str, float | None]:
    return {name: (after[name] - before[name]) * 1000 / turns if turns else None for name in before}
