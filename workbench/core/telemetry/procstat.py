"""/proc/stat parsing and per-core busy % from two snapshots: the one implementation used by the local
CPU load probe, the adb /proc/stat parser and the adb sampler's tick lines.

Parsed by hand (not psutil) so the same code reads a live kernel, a captured file in a test tree, or
text pulled from a phone's shell; one pread + split costs a few microseconds. Android hot-unplugs
cores, so a `cpuN` line can be missing from one snapshot and back in the next with its counters
restarted: load is only computed where both snapshots hold the CPU and the counters moved forward.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CpuTimes:
    """One `cpu` line of /proc/stat, in jiffies since boot. guest/guest_nice are already inside
    user/nice, so they are dropped rather than counted twice."""

    user: int
    nice: int
    system: int
    idle: int
    iowait: int = 0
    irq: int = 0
    softirq: int = 0
    steal: int = 0

    @property
    def idle_all(self) -> int:
        """idle + iowait: a core waiting on I/O runs nothing."""
        return self.idle + self.iowait

    @property
    def busy(self) -> int:
        return self.user + self.nice + self.system + self.irq + self.softirq + self.steal

    @property
    def total(self) -> int:
        return self.busy + self.idle_all

    @classmethod
    def from_fields(cls, fields: list[int]) -> CpuTimes:
        """From the counters after the name; old kernels print only 4, missing ones are 0."""
        return cls(*(list(fields) + [0] * 8)[:8])


def _uint(tok: str) -> bool:
    return tok.isascii() and tok.isdigit()  # str.isdigit alone accepts '²', which int() rejects


def parse_cpu_lines(text: str) -> tuple[dict[str, CpuTimes], list[str]]:
    """`{"cpu": ..., "cpu0": ..., ...}` from /proc/stat text, and one problem line per unreadable
    `cpu` line (fewer than 4 leading counters). Other lines (intr, ctxt, ...) are ignored."""
    out: dict[str, CpuTimes] = {}
    problems: list[str] = []
    for lineno, line in enumerate(text.split("\n"), 1):
        parts = line.split()
        if not parts or not parts[0].startswith("cpu"):
            continue
        name = parts[0]
        if name != "cpu" and not _uint(name[3:]):
            continue
        nums: list[int] = []
        for tok in parts[1:9]:
            if not _uint(tok):
                break
            nums.append(int(tok))
        if len(nums) < 4:
            problems.append(f"/proc/stat line {lineno}: fewer than 4 counters: {line.strip()[:60]}")
            continue
        out[name] = CpuTimes.from_fields(nums)
    return out, problems


def parse_proc_stat(text: str) -> dict[str, CpuTimes]:
    """The cpu lines of /proc/stat; unreadable ones are left out (see `parse_cpu_lines`)."""
    return parse_cpu_lines(text)[0]


def busy_percent(before: CpuTimes, after: CpuTimes) -> float | None:
    """Share of the interval the core was busy, 0..100: 100 * (1 - d(idle+iowait) / d(total)).

    None, rather than 0 % or 100 %, when no time passed, or when counters went backwards: a core
    re-plugged (counters restart) or iowait, which some NO_HZ kernels let decrease.
    """
    d_total = after.total - before.total
    d_idle = after.idle_all - before.idle_all
    if d_total <= 0 or d_idle < 0 or d_idle > d_total:
        return None
    return 100.0 * (d_total - d_idle) / d_total


def cpu_load(prev: dict[str, CpuTimes], cur: dict[str, CpuTimes]) -> dict[str, float]:
    """Busy % per CPU name between two snapshots; CPUs missing from either, or whose counters did
    not advance, are left out."""
    out: dict[str, float] = {}
    for name, after in cur.items():
        before = prev.get(name)
        pct = busy_percent(before, after) if before is not None else None
        if pct is not None:
            out[name] = pct
    return out
