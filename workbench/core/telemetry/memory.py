"""Memory probe: system used/available and the watched runner process's RSS, PSS and USS (MB).

Read from /proc directly, the same files psutil's `memory_info`/`memory_full_info` read
(`statm`, `smaps_rollup`), so the probe works on a captured tree and costs one pread per file and
tick with no process scan. PSS and USS come from `smaps_rollup`, which needs ptrace rights over the
process; when denied only RSS is reported (`statm` is world-readable).

`smaps_rollup` walks the process's page tables, so its cost grows with RSS (about 0.6-1.6 ms per read
for a 75 MB process on the dev VM, against 2 us for `statm`). It is therefore read at most every
`pss_interval_s` (default 0.2 s): PSS/USS keys are simply missing on the ticks in between (never
repeated stale values), while RSS and system memory are read every tick.
"""
from __future__ import annotations

import os
import threading
import time
from typing import Callable

from workbench.core.telemetry.probe import Probe
from workbench.core.telemetry.sysfs import KernelFile, read_text, under
from workbench.core.types import ChannelSpec

MB = 1024.0 * 1024.0


def parse_meminfo(text: str) -> dict[str, float]:
    """/proc/meminfo (or smaps_rollup) `Key: N kB` lines -> {Key: bytes}; other lines ignored."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        key, sep, rest = line.partition(":")
        if not sep:
            continue
        parts = rest.split()
        if not parts:
            continue
        try:
            value = float(int(parts[0]))
        except ValueError:
            continue
        if value < 0:
            continue
        if len(parts) > 1 and parts[1].lower() == "kb":
            value *= 1024.0
        out[key.strip()] = value
    return out


def system_memory(meminfo: dict[str, float]) -> dict[str, float]:
    """used/available MB. `used` = MemTotal - MemAvailable: memory a new app could not get
    (cache the kernel would drop is not "used"), the figure that matters for an OOM budget."""
    total = meminfo.get("MemTotal")
    if total is None:
        return {}
    avail = meminfo.get("MemAvailable")
    if avail is None:  # kernels before 3.14
        avail = meminfo.get("MemFree", 0.0) + meminfo.get("Buffers", 0.0) + meminfo.get("Cached", 0.0)
    avail = min(avail, total)
    return {"mem.system.used": (total - avail) / MB, "mem.system.available": avail / MB}


def rollup_mb(smaps_rollup: dict[str, float]) -> dict[str, float]:
    """PSS and USS (private clean + dirty) in MB from parsed smaps_rollup."""
    out: dict[str, float] = {}
    if "Pss" in smaps_rollup:
        out["mem.runner.pss"] = smaps_rollup["Pss"] / MB
    if "Private_Clean" in smaps_rollup or "Private_Dirty" in smaps_rollup:
        out["mem.runner.uss"] = (smaps_rollup.get("Private_Clean", 0.0) + smaps_rollup.get("Private_Dirty", 0.0)) / MB
    return out


class MemoryProbe(Probe):
    """`mem.system.*` always; `mem.runner.*` only while a pid is watched (see `watch_pid`)."""

    id = "memory"
    title = "Memory"

    def __init__(
        self, root: str = "/", pss_interval_s: float = 0.2, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.root = root
        self.pss_interval_s = pss_interval_s
        self.clock = clock
        self._last_rollup: float | None = None
        self._meminfo_path = under(root, "/proc/meminfo")
        self._meminfo = KernelFile(self._meminfo_path)
        self._page = float(os.sysconf("SC_PAGE_SIZE")) if hasattr(os, "sysconf") else 4096.0
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._statm: KernelFile | None = None
        self._rollup: KernelFile | None = None
        self._rollup_denied = False

    def channels(self) -> list[ChannelSpec]:
        specs: list[ChannelSpec] = []
        if system_memory(parse_meminfo(read_text(self._meminfo_path) or "")):
            specs += [
                ChannelSpec("mem.system.used", "MB", "memory", "system used (total - available)"),
                ChannelSpec("mem.system.available", "MB", "memory", "system available"),
            ]
        if os.path.isdir(under(self.root, "/proc/self")) or os.path.isdir(under(self.root, "/proc/1")):
            specs.append(ChannelSpec("mem.runner.rss", "MB", "memory", "runner RSS"))
            # smaps_rollup exists since Linux 4.14; older phones give RSS only.
            if os.path.exists(under(self.root, "/proc/self/smaps_rollup")) or os.path.exists(
                under(self.root, "/proc/1/smaps_rollup")
            ):
                specs += [
                    ChannelSpec("mem.runner.pss", "MB", "memory", "runner PSS"),
                    ChannelSpec("mem.runner.uss", "MB", "memory", "runner USS"),
                ]
        return specs

    def absent_reason(self) -> str | None:
        if self.channels():
            return None
        return f"memory: {self._meminfo_path} has no MemTotal"

    def watch_pid(self, pid: int | None) -> None:
        with self._lock:
            for fh in (self._statm, self._rollup):
                if fh is not None:
                    fh.close()
            self._pid = pid
            self._rollup_denied = False
            self._last_rollup = None
            if pid is None:
                self._statm = self._rollup = None
            else:
                self._statm = KernelFile(under(self.root, f"/proc/{pid}/statm"))
                self._rollup = KernelFile(under(self.root, f"/proc/{pid}/smaps_rollup"))

    @property
    def rollup_denied(self) -> bool:
        """True when PSS/USS of the watched process could not be read (no ptrace rights)."""
        return self._rollup_denied

    def read(self) -> dict[str, float]:
        out = system_memory(parse_meminfo(self._meminfo.read() or ""))
        with self._lock:
            statm, rollup = self._statm, self._rollup
            if statm is None:
                return out
            fields = (statm.read() or "").split()
            if len(fields) >= 2 and fields[1].isdigit() and int(fields[1]) > 0:
                # a zombie (exited, not yet reaped) reads all zeros: no reading, not "0 MB"
                out["mem.runner.rss"] = int(fields[1]) * self._page / MB
            now = self.clock()
            due = self._last_rollup is None or now - self._last_rollup >= self.pss_interval_s
            if rollup is not None and not self._rollup_denied and due:
                self._last_rollup = now
                text = rollup.read()
                if text is None and out.get("mem.runner.rss") is not None:
                    # statm read fine but smaps_rollup did not: access denied, stop trying each tick.
                    self._rollup_denied = os.path.exists(rollup.path)
                elif text:
                    out.update(rollup_mb(parse_meminfo(text)))
        return out
