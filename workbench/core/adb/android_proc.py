"""/proc text from a device: per-CPU jiffies (-> load %), and a process's memory (status, smaps_rollup).

/proc/stat lines and load % come from `workbench.core.telemetry.procstat`, the same code the local
probe uses (hot-unplugged cores and counter resets are handled there); this module adds the shell's
error text ("Permission denied") as a problem.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from workbench.core.adb.android_text import clip, error_reason, is_uint, lines
from workbench.core.telemetry.procstat import CpuTimes, cpu_load, parse_cpu_lines  # noqa: F401 - cpu_load re-exported

CpuJiffies = CpuTimes  # the adb-side name of the shared /proc/stat record


@dataclass
class ProcStat:
    """Per-CPU counters keyed `cpu` (all CPUs) and `cpu0`, `cpu1`, ... (online CPUs only)."""

    cpus: dict[str, CpuJiffies] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def parse_proc_stat(text: str) -> ProcStat:
    """Read the `cpu*` lines of /proc/stat; other lines (intr, ctxt, ...) are ignored."""
    out = ProcStat()
    reason = error_reason(text)
    if reason:
        out.problems.append(f"/proc/stat: {reason}")
        return out
    out.cpus, out.problems = parse_cpu_lines(text)
    if not out.cpus:
        out.problems.append("/proc/stat: no cpu lines")
    return out


@dataclass
class ProcStatus:
    """Memory lines of /proc/<pid>/status in kB; None where absent or unreadable."""

    name: str | None = None
    pid: int | None = None
    vm_rss_kb: int | None = None
    vm_hwm_kb: int | None = None
    rss_anon_kb: int | None = None
    rss_file_kb: int | None = None
    vm_swap_kb: int | None = None
    problems: list[str] = field(default_factory=list)


_STATUS_FIELDS = {
    "VmRSS": "vm_rss_kb",
    "VmHWM": "vm_hwm_kb",
    "RssAnon": "rss_anon_kb",
    "RssFile": "rss_file_kb",
    "VmSwap": "vm_swap_kb",
}


def parse_proc_status(text: str, source: str = "/proc/<pid>/status") -> ProcStatus:
    """Parse `Key:\\tvalue kB` lines; a permission error or a dead process yields problems, not raises."""
    out = ProcStatus()
    reason = error_reason(text)
    if reason:
        out.problems.append(f"{source}: {reason}")
        return out
    for line in lines(text):
        key, sep, rest = line.partition(":")
        if not sep:
            continue
        value = rest.strip()
        if key == "Name":
            out.name = value
        elif key == "Pid":
            out.pid = int(value) if is_uint(value) else None
        elif key in _STATUS_FIELDS:
            num = value.split()[0] if value.split() else ""
            if is_uint(num):
                setattr(out, _STATUS_FIELDS[key], int(num))
            else:
                out.problems.append(f"{source}: {key} is not a number: {clip(value)}")
    if out.vm_rss_kb is None and not out.problems:
        out.problems.append(f"{source}: no VmRSS line (kernel thread or not a status file)")
    return out


@dataclass
class SmapsRollup:
    """/proc/<pid>/smaps_rollup totals in kB. USS (private clean + dirty) is what killing the process frees."""

    rss_kb: int | None = None
    pss_kb: int | None = None
    private_clean_kb: int | None = None
    private_dirty_kb: int | None = None
    shared_clean_kb: int | None = None
    shared_dirty_kb: int | None = None
    swap_kb: int | None = None
    swap_pss_kb: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def uss_kb(self) -> int | None:
        if self.private_clean_kb is None or self.private_dirty_kb is None:
            return None
        return self.private_clean_kb + self.private_dirty_kb


_SMAPS_FIELDS = {
    "Rss": "rss_kb",
    "Pss": "pss_kb",
    "Private_Clean": "private_clean_kb",
    "Private_Dirty": "private_dirty_kb",
    "Shared_Clean": "shared_clean_kb",
    "Shared_Dirty": "shared_dirty_kb",
    "Swap": "swap_kb",
    "SwapPss": "swap_pss_kb",
}


def parse_smaps_rollup(text: str, source: str = "/proc/<pid>/smaps_rollup") -> SmapsRollup:
    """Parse smaps_rollup (kernel 4.14+); SELinux often denies it for other apps' processes."""
    out = SmapsRollup()
    reason = error_reason(text)
    if reason:
        out.problems.append(f"{source}: {reason}")
        return out
    for line in lines(text):
        key, sep, rest = line.partition(":")
        if sep and key.strip() in _SMAPS_FIELDS:
            parts = rest.split()
            if parts and is_uint(parts[0]):
                setattr(out, _SMAPS_FIELDS[key.strip()], int(parts[0]))
    if out.rss_kb is None:
        out.problems.append(f"{source}: no Rss line")
    return out
