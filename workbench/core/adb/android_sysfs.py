"""cpufreq policies and thermal zones from `path: value` dumps of sysfs.

The host asks the device once for `for f in <files>; do echo "$f: $(cat $f 2>&1)"; done` and reads
what came back; files the shell user may not read ("Permission denied") or that this kernel lacks are
reported as problems and simply absent from the result.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from workbench.core.adb.android_text import FileValue, files_in_dirs, is_uint, parse_path_dump, to_int
from workbench.core.telemetry.thermal_scale import thermal_celsius  # one rule for local and adb

_POLICY_DIR = re.compile(r"/(policy\d+)$|/(cpu\d+)/cpufreq$")
_ZONE_DIR = re.compile(r"/thermal_zone(\d+)$")


@dataclass
class CpufreqPolicy:
    """One frequency domain. Frequencies are kHz as the kernel gives them; None where unreadable."""

    name: str  # policy0, or cpu0 on kernels without policy dirs
    cpus: list[int] = field(default_factory=list)
    cur_khz: int | None = None
    min_khz: int | None = None
    max_khz: int | None = None
    hw_min_khz: int | None = None
    hw_max_khz: int | None = None
    available_khz: list[int] = field(default_factory=list)
    governor: str | None = None
    unreadable: list[str] = field(default_factory=list)  # file names the shell may not read


@dataclass
class Cpufreq:
    policies: list[CpufreqPolicy] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def parse_cpu_list(text: str) -> list[int]:
    """'0 1 2 3' or '0-3,6' -> [0, 1, 2, 3(, 6)]; junk tokens are skipped."""
    out: list[int] = []
    for tok in text.replace(",", " ").split():
        lo, dash, hi = tok.partition("-")
        if is_uint(lo) and not dash:
            out.append(int(lo))
        elif is_uint(lo) and is_uint(hi) and int(hi) >= int(lo) and int(hi) - int(lo) < 4096:
            out.extend(range(int(lo), int(hi) + 1))
    return sorted(set(out))


def parse_cpufreq_dump(text: str) -> Cpufreq:
    """Group a dump of /sys/devices/system/cpu/cpufreq/policy*/* (or cpu*/cpufreq/*) by policy."""
    files, problems = parse_path_dump(text)
    out = Cpufreq(problems=problems)
    by_dir: dict[str, CpufreqPolicy] = {}
    for m, directory, fname, fv in files_in_dirs(files, _POLICY_DIR):
        pol = by_dir.setdefault(directory, CpufreqPolicy(name=m.group(1) or m.group(2)))
        _apply_cpufreq_file(pol, fname, fv)
    out.policies = sorted(by_dir.values(), key=lambda p: (p.cpus[:1] or [1 << 30], p.name))
    for pol in out.policies:
        if pol.cur_khz is None:
            out.problems.append(f"{pol.name}: current frequency unreadable")
    return out


def _apply_cpufreq_file(pol: CpufreqPolicy, fname: str, fv: FileValue) -> None:
    if not fv.ok or fv.text is None:
        pol.unreadable.append(fname)
        return
    text = fv.text
    if fname in ("related_cpus", "affected_cpus"):
        if fname == "related_cpus" or not pol.cpus:
            pol.cpus = parse_cpu_list(text)
    elif fname == "scaling_cur_freq":
        pol.cur_khz = to_int(text)
    elif fname == "cpuinfo_cur_freq" and pol.cur_khz is None:
        pol.cur_khz = to_int(text)
    elif fname == "scaling_min_freq":
        pol.min_khz = to_int(text)
    elif fname == "scaling_max_freq":
        pol.max_khz = to_int(text)
    elif fname == "cpuinfo_min_freq":
        pol.hw_min_khz = to_int(text)
    elif fname == "cpuinfo_max_freq":
        pol.hw_max_khz = to_int(text)
    elif fname == "scaling_available_frequencies":
        pol.available_khz = sorted({int(t) for t in text.split() if is_uint(t)})
    elif fname == "scaling_governor":
        pol.governor = text.split()[0] if text.split() else None


@dataclass
class ThermalZone:
    index: int
    type: str | None
    temp_c: float | None
    raw: int | None = None
    mode: str | None = None  # enabled / disabled where the kernel exposes it
    error: str | None = None  # errno text when temp could not be read

    @property
    def valid(self) -> bool:
        return self.temp_c is not None and self.mode != "disabled"


@dataclass
class ThermalZones:
    zones: list[ThermalZone] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def parse_thermal_dump(text: str) -> ThermalZones:
    """A dump of /sys/class/thermal/thermal_zone*/{type,temp[,mode]} -> zones in index order."""
    files, problems = parse_path_dump(text)
    out = ThermalZones(problems=problems)
    zones: dict[int, ThermalZone] = {}
    for m, _directory, fname, fv in files_in_dirs(files, _ZONE_DIR):
        idx = int(m.group(1))
        zone = zones.setdefault(idx, ThermalZone(index=idx, type=None, temp_c=None))
        if fname == "type":
            zone.type = fv.text.strip() if fv.ok and fv.text else None
        elif fname == "temp":
            if not fv.ok:
                zone.error = fv.error
                continue
            zone.raw = to_int(fv.text)
            zone.temp_c = thermal_celsius(zone.raw) if zone.raw is not None else None
            if zone.raw is None:
                out.problems.append(f"thermal_zone{idx}/temp is not a number: {fv.text!r:.40}")
        elif fname == "mode" and fv.ok and fv.text:
            zone.mode = fv.text.strip()
    out.zones = [zones[i] for i in sorted(zones)]
    return out
