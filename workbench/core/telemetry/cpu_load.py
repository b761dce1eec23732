"""Per-core CPU load probe: % busy between two consecutive ticks, from /proc/stat.

/proc/stat counts in USER_HZ jiffies (10 ms on Linux), so a per-core figure over one tick is coarse
at high rates: at 50 Hz a core's tick holds ~2 jiffies (0/50/100 %), at 100 Hz ~1. Averages over
many ticks (the run's mean, `cpu.load.all` over many cores) stay right; charts may smooth.
"""
from __future__ import annotations

from workbench.core.telemetry.probe import Probe
from workbench.core.telemetry.procstat import CpuTimes, cpu_load, parse_proc_stat
from workbench.core.telemetry.sysfs import KernelFile, read_text, under
from workbench.core.types import ChannelSpec


class CpuLoadProbe(Probe):
    """`cpu.load.<i>` per core plus `cpu.load.all`; the first tick has no values (needs a delta)."""

    id = "cpu_load"
    title = "CPU load"

    def __init__(self, root: str = "/") -> None:
        self.root = root
        self._path = under(root, "/proc/stat")
        self._file = KernelFile(self._path)
        self._prev: dict[str, CpuTimes] | None = None

    def channels(self) -> list[ChannelSpec]:
        snap = parse_proc_stat(read_text(self._path) or "")
        cores = sorted((int(n[3:]) for n in snap if n != "cpu"))
        specs = [ChannelSpec(f"cpu.load.{i}", "%", "cpu_load", f"cpu{i}") for i in cores]
        if "cpu" in snap:
            specs.append(ChannelSpec("cpu.load.all", "%", "cpu_load", "all cores"))
        return specs

    def absent_reason(self) -> str | None:
        if parse_proc_stat(read_text(self._path) or ""):
            return None
        return f"cpu load: {self._path} is missing or has no cpu lines"

    def read(self) -> dict[str, float]:
        text = self._file.read()
        if text is None:
            return {}
        now = parse_proc_stat(text)
        prev, self._prev = self._prev, now
        if prev is None:
            return {}
        return {"cpu.load.all" if name == "cpu" else f"cpu.load.{name[3:]}": pct
                for name, pct in cpu_load(prev, now).items()}
