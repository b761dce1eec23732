"""The `local` device report: what this machine is and which telemetry it can give.

Everything is read from files under `root` (not from `platform`/psutil), so a report can be made
from a captured tree in tests, and each thing the machine does not expose is listed in `absent`
with the path that was checked instead of being shown as zero.
"""
from __future__ import annotations

import os
import platform
from typing import Any

from workbench.core.devices.base import DeviceInfo
from workbench.core.telemetry.cpu_freq import CPUFREQ_DIR, parse_cpuinfo_mhz
from workbench.core.telemetry.local_probes import local_probes
from workbench.core.telemetry.memory import MB, parse_meminfo
from workbench.core.telemetry.power import PowerProbe
from workbench.core.telemetry.sysfs import read_number, read_text, sorted_glob, under
from workbench.core.telemetry.thermal import THERMAL_DIR, ThermalProbe


def _text(root: str, path: str) -> str | None:
    value = read_text(under(root, path))
    return value.strip() if value is not None and value.strip() else None


def parse_cpu_list(text: str) -> list[int]:
    """Kernel cpu lists ("0-3,6" in `online`, "4 5 6 7" in `related_cpus`) -> [0, 1, ...]; junk ignored."""
    cpus: list[int] = []
    for part in text.replace(",", " ").split():
        lo, sep, hi = part.strip().partition("-")
        try:
            if sep:
                a, b = int(lo), int(hi)
                if 0 <= a <= b and b - a < 65536:
                    cpus.extend(range(a, b + 1))
            elif lo:
                cpus.append(int(lo))
        except ValueError:
            continue
    return cpus


def parse_cpuinfo(text: str) -> list[dict[str, str]]:
    """/proc/cpuinfo as one dict per block (x86: per processor; arm64 adds a trailing "Hardware" block)."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
                current = {}
            continue
        key, sep, value = line.partition(":")
        if sep:
            current[key.strip()] = value.strip()
    if current:
        blocks.append(current)
    return blocks


def _os_release(root: str) -> str | None:
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        text = read_text(under(root, path))
        if text:
            fields = {}
            for line in text.splitlines():
                k, sep, v = line.partition("=")
                if sep:
                    fields[k.strip()] = v.strip().strip('"')
            return fields.get("PRETTY_NAME") or fields.get("NAME")
    return None


def _device_section(root: str, absent: list[str]) -> dict[str, Any]:
    cpuinfo_path = under(root, "/proc/cpuinfo")
    blocks = parse_cpuinfo(read_text(cpuinfo_path) or "")
    merged: dict[str, str] = {}
    for b in reversed(blocks):
        merged.update(b)
    cpu_model = merged.get("model name") or merged.get("Hardware") or merged.get("Processor")
    if cpu_model is None:
        absent.append(f"cpu model: {cpuinfo_path} has no 'model name', 'Hardware' or 'Processor'")
    procs = [b for b in blocks if "processor" in b]
    online = parse_cpu_list(_text(root, "/sys/devices/system/cpu/online") or "")
    logical = len(online) or len(procs) or None
    cores: set[tuple[str, str]] = set()
    for cpu in sorted_glob(under(root, "/sys/devices/system/cpu/cpu[0-9]*")):
        core = read_text(os.path.join(cpu, "topology", "core_id"))
        pkg = read_text(os.path.join(cpu, "topology", "physical_package_id"))
        if core is not None:
            cores.add(((pkg or "0").strip(), core.strip()))
    if not cores:
        cores = {(b.get("physical id", "0"), b["core id"]) for b in procs if "core id" in b}
    arch = _text(root, "/proc/sys/kernel/arch") or (platform.machine() if os.path.abspath(root) == "/" else None)
    return {
        "hostname": _text(root, "/proc/sys/kernel/hostname"),
        "os": _text(root, "/proc/sys/kernel/ostype"),
        "os_release": _os_release(root),
        "kernel": _text(root, "/proc/sys/kernel/osrelease"),
        "arch": arch,
        "cpu_model": cpu_model,
        "cores": {"physical": len(cores) or None, "logical": logical},
    }


def _cpu_section(root: str, absent: list[str]) -> dict[str, Any]:
    base = under(root, CPUFREQ_DIR)
    policies: dict[str, Any] = {}
    for pol in sorted_glob(os.path.join(base, "policy*")):

        def val(name: str, pol: str = pol) -> str | None:
            text = read_text(os.path.join(pol, name))
            return text.strip() if text is not None else None

        def mhz(name: str, pol: str = pol) -> float | None:
            khz = read_number(os.path.join(pol, name))
            return khz / 1000.0 if khz is not None else None

        avail = (val("scaling_available_frequencies") or "").split()
        policies[os.path.basename(pol)] = {
            "cpus": parse_cpu_list(val("related_cpus") or val("affected_cpus") or ""),
            "driver": val("scaling_driver"),
            "governor": val("scaling_governor"),
            "available_governors": (val("scaling_available_governors") or "").split(),
            "min_mhz": mhz("cpuinfo_min_freq"),
            "max_mhz": mhz("cpuinfo_max_freq"),
            "cur_mhz": mhz("scaling_cur_freq"),
            "available_mhz": [int(f) / 1000.0 for f in avail if f.isdigit()],
        }
    per_core: dict[str, Any] = {}
    for cpu in sorted_glob(under(root, "/sys/devices/system/cpu/cpu[0-9]*")):
        fdir = os.path.join(cpu, "cpufreq")
        mx, cur = read_number(os.path.join(fdir, "cpuinfo_max_freq")), read_number(os.path.join(fdir, "scaling_cur_freq"))
        if mx is not None or cur is not None:
            per_core[os.path.basename(cpu)] = {
                "max_mhz": mx / 1000.0 if mx is not None else None,
                "cur_mhz": cur / 1000.0 if cur is not None else None,
            }
    section: dict[str, Any] = {"policies": policies, "per_core": per_core}
    if not policies:
        absent.append(f"cpufreq: {base} has no policy*")
        nominal = parse_cpuinfo_mhz(read_text(under(root, "/proc/cpuinfo")) or "")
        if nominal:
            # Reported, labelled, never charted: without cpufreq this is usually the nominal clock.
            section["cpuinfo_mhz"] = {f"cpu{i}": v for i, v in sorted(nominal.items())}
    return section


def _memory_section(root: str, absent: list[str]) -> dict[str, Any]:
    path = under(root, "/proc/meminfo")
    info = parse_meminfo(read_text(path) or "")
    if "MemTotal" not in info:
        absent.append(f"memory: {path} has no MemTotal")
        return {}
    out = {"total_mb": info["MemTotal"] / MB}
    if "MemAvailable" in info:
        out["available_mb"] = info["MemAvailable"] / MB
    if "SwapTotal" in info:
        out["swap_total_mb"] = info["SwapTotal"] / MB
    return out


def _thermal_section(root: str, absent: list[str]) -> dict[str, Any]:
    probe = ThermalProbe(root)
    specs = probe.channels()
    reason = probe.absent_reason()
    if reason:
        absent.append(reason)
    now = probe.read()
    return {
        "zones": [{"channel": s.key, "label": s.label, "celsius": now.get(s.key)} for s in specs],
        "path": under(root, THERMAL_DIR),
    }


def _power_section(root: str, absent: list[str]) -> dict[str, Any]:
    probe = PowerProbe(root)
    probe.channels()
    absent.extend(probe.absences)
    return {
        "rapl": [{"zone": d.zone, "name": d.name, "parent": d.parent, "channel": d.key} for d in probe.rapl],
        "batteries": [
            {
                "name": b.name,
                "channel": b.key,
                "status": (b.status.read() or "").strip() or None,
                "source": "power_now" if b.power_now else "current_now x voltage_now",
            }
            for b in probe.batteries
        ],
        "external_supplies": sorted(probe.external),
    }


def _probes_section(root: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for probe in local_probes(root):
        specs = probe.channels()
        out[probe.id] = {
            "available": bool(specs),
            "channels": [s.key for s in specs],
            "why_not": None if specs else probe.absent_reason(),
        }
    return out


def local_device_info(root: str = "/") -> DeviceInfo:
    """Report for the `local` device; sections device, cpu, memory, thermal, power, probes."""
    absent: list[str] = []
    sections = {
        "device": _device_section(root, absent),
        "cpu": _cpu_section(root, absent),
        "memory": _memory_section(root, absent),
        "thermal": _thermal_section(root, absent),
        "power": _power_section(root, absent),
        "probes": _probes_section(root),
    }
    return DeviceInfo(serial="local", kind="local", sections=sections, absent=absent)
