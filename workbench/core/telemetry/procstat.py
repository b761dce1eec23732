"""/proc/stat parsing and per-core busy % from two snapshots.

Parsed by hand (not psutil) so the same code reads a live kernel, a captured file in a test tree,
or text pulled from a phone's shell; one pread + split costs a few microseconds.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CpuTimes:
    """Jiffies since boot. `idle` includes iowait (a core waiting on I/O runs nothing)."""

    busy: int
    idle: int

    @property
    def total(self) -> int:
        return self.busy + self.idle


def parse_proc_stat(text: str) -> dict[str, CpuTimes]:
    """`{"cpu": ..., "cpu0": ..., ...}` from /proc/stat text; malformed lines are ignored.

    Fields: user nice system idle iowait irq softirq steal guest guest_nice. guest and guest_nice
    are already counted in user and nice, so they are left out to avoid counting them twice.
    """
    out: dict[str, CpuTimes] = {}
    for line in text.splitlines():
        if not line.startswith("cpu"):
            continue
        parts = line.split()
        name = parts[0]
        if name != "cpu" and not name[3:].isdigit():
            continue
        try:
            nums = [int(p) for p in parts[1:9]]
        except ValueError:
            continue
        if len(nums) < 4 or any(n < 0 for n in nums):
            continue
        nums += [0] * (8 - len(nums))
        user, nice, system, idle, iowait, irq, softirq, steal = nums
        out[name] = CpuTimes(busy=user + nice + system + irq + softirq + steal, idle=idle + iowait)
    return out


def busy_percent(before: CpuTimes, after: CpuTimes) -> float | None:
    """Share of the interval the core was busy, 0..100; None when no time passed (or counters reset)."""
    d_total = after.total - before.total
    d_busy = after.busy - before.busy
    if d_total <= 0 or d_busy < 0:
        return None
    return max(0.0, min(100.0, 100.0 * d_busy / d_total))
