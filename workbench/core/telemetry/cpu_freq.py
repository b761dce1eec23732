"""CPU frequency probe: current MHz per cpufreq policy (a cluster of cores sharing one clock).

Where cpufreq is absent (this kind of VM) the probe is absent and says so. `/proc/cpuinfo`'s
"cpu MHz" is offered instead only when it is evidently measured: the cores disagree with each other
or the value moves between two reads at discovery. A hypervisor reports one constant nominal figure
for every core; charting that as "frequency" would be a fake flat line, so it is not offered.
"""
from __future__ import annotations

import os
import time

from workbench.core.telemetry.probe import Probe
from workbench.core.telemetry.sysfs import KernelFile, read_text, sorted_glob, under
from workbench.core.types import ChannelSpec

CPUFREQ_DIR = "/sys/devices/system/cpu/cpufreq"


def parse_cpuinfo_mhz(text: str) -> dict[int, float]:
    """processor index -> "cpu MHz" from /proc/cpuinfo text (x86 has it; arm64 does not)."""
    out: dict[int, float] = {}
    current: int | None = None
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip()
        value = value.strip()
        try:
            if key == "processor":
                current = int(value)
            elif key == "cpu MHz" and current is not None:
                mhz = float(value)
                if mhz == mhz and 0 < mhz < 1e6:
                    out[current] = mhz
        except ValueError:
            continue
    return out


def _policy_cpus(policy_dir: str) -> str:
    text = read_text(os.path.join(policy_dir, "related_cpus")) or read_text(os.path.join(policy_dir, "affected_cpus"))
    return " ".join((text or "").split())


class CpuFreqProbe(Probe):
    """`cpu.freq.<n>` (MHz) for cpufreq policyN, or cpuN when only per-cpu cpufreq dirs exist."""

    id = "cpu_freq"
    title = "CPU frequency"

    def __init__(self, root: str = "/", cpuinfo_recheck_s: float = 0.02) -> None:
        self.root = root
        self._recheck_s = cpuinfo_recheck_s
        self._files: dict[str, KernelFile] = {}
        self._cpuinfo: KernelFile | None = None
        self._specs: list[ChannelSpec] | None = None
        self._reason: str | None = None

    def _discover(self) -> list[ChannelSpec]:
        if self._specs is not None:
            return self._specs
        specs: list[ChannelSpec] = []
        base = under(self.root, CPUFREQ_DIR)
        for pol in sorted_glob(os.path.join(base, "policy*")):
            cur = os.path.join(pol, "scaling_cur_freq")
            if not os.path.exists(cur):
                continue
            n = os.path.basename(pol)[len("policy"):]
            key = f"cpu.freq.{n}"
            self._files[key] = KernelFile(cur)
            cpus = _policy_cpus(pol)
            specs.append(ChannelSpec(key, "MHz", "cpu_freq", f"policy{n} (cpus {cpus})" if cpus else f"policy{n}"))
        if not specs:
            for cpu in sorted_glob(under(self.root, "/sys/devices/system/cpu/cpu[0-9]*")):
                cur = os.path.join(cpu, "cpufreq", "scaling_cur_freq")
                if not os.path.exists(cur):
                    continue
                n = os.path.basename(cpu)[len("cpu"):]
                key = f"cpu.freq.{n}"
                self._files[key] = KernelFile(cur)
                specs.append(ChannelSpec(key, "MHz", "cpu_freq", f"cpu{n}"))
        if not specs:
            specs = self._discover_cpuinfo(base)
        self._specs = specs
        return specs

    def _discover_cpuinfo(self, base: str) -> list[ChannelSpec]:
        path = under(self.root, "/proc/cpuinfo")
        first = parse_cpuinfo_mhz(read_text(path) or "")
        if not first:
            self._reason = f"cpufreq: {base} has no policy* and {path} has no 'cpu MHz'"
            return []
        varies = len(set(first.values())) > 1
        if not varies and self._recheck_s > 0:
            time.sleep(self._recheck_s)
            varies = parse_cpuinfo_mhz(read_text(path) or "") != first
        if not varies:
            mhz = next(iter(first.values()))
            self._reason = (
                f"cpufreq: {base} has no policy*; {path} 'cpu MHz' is a constant {mhz:.0f} on every core "
                "(nominal, not measured), so no frequency is charted"
            )
            return []
        self._cpuinfo = KernelFile(path)
        return [
            ChannelSpec(f"cpu.freq.cpuinfo.{i}", "MHz", "cpu_freq", f"cpu{i} (/proc/cpuinfo estimate)")
            for i in sorted(first)
        ]

    def channels(self) -> list[ChannelSpec]:
        return list(self._discover())

    def absent_reason(self) -> str | None:
        self._discover()
        return self._reason

    def read(self) -> dict[str, float]:
        self._discover()
        out: dict[str, float] = {}
        for key, fh in self._files.items():
            khz = fh.number()
            if khz is not None and khz > 0:
                out[key] = khz / 1000.0
        if self._cpuinfo is not None:
            for i, mhz in parse_cpuinfo_mhz(self._cpuinfo.read() or "").items():
                out[f"cpu.freq.cpuinfo.{i}"] = mhz
        return out
