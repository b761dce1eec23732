"""Captured-style sysfs/procfs trees for the telemetry tests.

Values and layouts are taken from real machines (a ThinkPad-class laptop with Intel RAPL and a BAT0
reporting current_now in µA; an arm64 phone with two cpufreq clusters and vendor thermal zones).
Unreadable files are symlinks to real kernel files that fail on read even for root, so the errors are
the kernel's own: /sys/bus/cpu/uevent is write-only (EACCES), /proc/self/clear_refs has no read
method (EINVAL), exactly how a protected RAPL counter or a sleeping sensor answers.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

EACCES_FILE = "/sys/bus/cpu/uevent"
EINVAL_FILE = "/proc/self/clear_refs"

PROC_STAT_8 = """cpu  {u} 120 9800 {i} 1500 0 310 0 0 0
cpu0 {u0} 20 1300 {i0} 200 0 40 0 0 0
cpu1 900 15 1200 70000 180 0 39 0 0 0
cpu2 800 15 1250 71000 190 0 38 0 0 0
cpu3 810 15 1210 71200 170 0 37 0 0 0
cpu4 700 10 1200 71500 150 0 40 0 0 0
cpu5 650 15 1210 71600 160 0 39 0 0 0
cpu6 640 15 1215 71700 220 0 38 0 0 0
cpu7 600 15 1215 71900 230 0 39 0 0 0
intr 23847823 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
ctxt 43127761
btime 1732272000
processes 81234
procs_running 2
procs_blocked 0
softirq 9142331 2 2394812 13 393812 0 0 172 3182374 0 3170946
"""

MEMINFO = """MemTotal:        7812440 kB
MemFree:          312884 kB
MemAvailable:    3210112 kB
Buffers:            4096 kB
Cached:          2900400 kB
SwapCached:        12000 kB
SwapTotal:       4194300 kB
SwapFree:        4000000 kB
HugePages_Total:       0
Hugepagesize:       2048 kB
"""

ARM_CPUINFO = "".join(
    f"processor\t: {i}\nBogoMIPS\t: 38.40\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32\n"
    f"CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x1\nCPU part\t: {'0xd05' if i < 4 else '0xd0d'}\n"
    "CPU revision\t: 0\n\n"
    for i in range(8)
) + "Hardware\t: Qualcomm Technologies, Inc SM8150\n"


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def rewrite(path: Path, text: str) -> None:
    """Rewrite in place (same inode), as the kernel's view of a file changes under an open descriptor."""
    with open(path, "r+") as fh:
        fh.seek(0)
        fh.truncate()
        fh.write(text)


def link(root: Path, rel: str, target: str) -> None:
    path = root / rel.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, path)


def proc_stat(u: int = 7000, i: int = 560000, u0: int = 1500, i0: int = 68000) -> str:
    return PROC_STAT_8.format(u=u, i=i, u0=u0, i0=i0)


@pytest.fixture
def phone_root(tmp_path: Path) -> Path:
    """arm64 phone: 2 cpufreq policies (0-3 little, 4-7 big), vendor thermal zones, a battery in µA."""
    r = tmp_path / "phone"
    write(r, "/proc/stat", proc_stat())
    write(r, "/proc/meminfo", MEMINFO)
    write(r, "/proc/cpuinfo", ARM_CPUINFO)
    write(r, "/proc/sys/kernel/hostname", "localhost\n")
    write(r, "/proc/sys/kernel/ostype", "Linux\n")
    write(r, "/proc/sys/kernel/osrelease", "4.14.190-perf+\n")
    write(r, "/sys/devices/system/cpu/online", "0-7\n")
    for cpu in range(8):
        write(r, f"/sys/devices/system/cpu/cpu{cpu}/topology/core_id", f"{cpu % 4}\n")
        write(r, f"/sys/devices/system/cpu/cpu{cpu}/topology/physical_package_id", f"{cpu // 4}\n")
    policies = {
        0: ("0 1 2 3", 300000, 1785600, 1209600, "300000 576000 768000 1017600 1209600 1416000 1612800 1785600"),
        4: ("4 5 6 7", 710400, 2419200, 2419200, "710400 1056000 1401600 1804800 2131200 2419200"),
    }
    for n, (cpus, lo, hi, cur, avail) in policies.items():
        base = f"/sys/devices/system/cpu/cpufreq/policy{n}"
        write(r, f"{base}/related_cpus", cpus + "\n")
        write(r, f"{base}/affected_cpus", cpus + "\n")
        write(r, f"{base}/cpuinfo_min_freq", f"{lo}\n")
        write(r, f"{base}/cpuinfo_max_freq", f"{hi}\n")
        write(r, f"{base}/scaling_cur_freq", f"{cur}\n")
        write(r, f"{base}/scaling_governor", "schedutil\n")
        write(r, f"{base}/scaling_driver", "qcom-cpufreq-hw\n")
        write(r, f"{base}/scaling_available_governors", "performance schedutil\n")
        write(r, f"{base}/scaling_available_frequencies", avail + " \n")
    zones = [
        ("cpu-0-0-usr", "45200\n"),  # millidegrees (the ABI)
        ("battery", "312\n"),  # decidegrees: 31.2 C, as many PMIC battery zones report
        ("xo-therm", None),  # EACCES: vendor zone readable by the system user only
        ("pm8150b-ibat-lvl0", None),  # EINVAL: sensor not enabled, read fails
        ("cpu-0-0-usr", "46100\n"),  # same type twice happens (per-cluster zones)
        ("skin-therm", "33\n"),  # whole degrees
    ]
    for idx, (ztype, temp) in enumerate(zones):
        zone = f"/sys/class/thermal/thermal_zone{idx}"
        write(r, f"{zone}/type", ztype + "\n")
        if temp is not None:
            write(r, f"{zone}/temp", temp)
        elif ztype == "xo-therm":
            link(r, f"{zone}/temp", EACCES_FILE)
        else:
            link(r, f"{zone}/temp", EINVAL_FILE)
    write(r, "/sys/class/thermal/cooling_device0/type", "thermal-cpufreq-0\n")
    bat = "/sys/class/power_supply/battery"
    write(r, f"{bat}/type", "Battery\n")
    write(r, f"{bat}/status", "Discharging\n")
    write(r, f"{bat}/current_now", "-412000\n")  # Android: negative µA while discharging
    write(r, f"{bat}/voltage_now", "3871000\n")
    write(r, "/sys/class/power_supply/usb/type", "USB\n")
    write(r, "/sys/class/power_supply/usb/online", "0\n")
    return r


@pytest.fixture
def laptop_root(tmp_path: Path) -> Path:
    """x86 laptop: RAPL package-0 and its core sub-domain, BAT0 with current_now (µA), AC adapter, hwmon."""
    r = tmp_path / "laptop"
    write(r, "/proc/stat", proc_stat())
    write(r, "/proc/meminfo", MEMINFO)
    cpuinfo = "".join(
        f"processor\t: {i}\nvendor_id\t: GenuineIntel\nmodel name\t: 11th Gen Intel(R) Core(TM) i7-1165G7 @ 2.80GHz\n"
        f"cpu MHz\t\t: {[1197.466, 2800.000, 4089.902, 1400.001][i]}\nphysical id\t: 0\ncore id\t\t: {i // 2}\n\n"
        for i in range(4)
    )
    write(r, "/proc/cpuinfo", cpuinfo)
    write(r, "/sys/class/powercap/intel-rapl/enabled", "1\n")  # the control type dir, not a zone
    for zone, name, energy in (("intel-rapl:0", "package-0", 73520458111), ("intel-rapl:0:0", "core", 20111874402)):
        base = f"/sys/class/powercap/{zone}"
        write(r, f"{base}/name", name + "\n")
        write(r, f"{base}/energy_uj", f"{energy}\n")
        write(r, f"{base}/max_energy_range_uj", "262143328850\n")
    bat = "/sys/class/power_supply/BAT0"
    write(r, f"{bat}/type", "Battery\n")
    write(r, f"{bat}/status", "Discharging\n")
    write(r, f"{bat}/current_now", "1534000\n")  # laptop: positive µA while discharging
    write(r, f"{bat}/voltage_now", "11442000\n")
    write(r, "/sys/class/power_supply/AC/type", "Mains\n")
    write(r, "/sys/class/power_supply/AC/online", "0\n")
    write(r, "/sys/class/hwmon/hwmon3/name", "coretemp\n")
    write(r, "/sys/class/hwmon/hwmon3/temp1_label", "Package id 0\n")
    write(r, "/sys/class/hwmon/hwmon3/temp1_input", "52000\n")
    write(r, "/sys/class/hwmon/hwmon3/temp2_input", "49000\n")
    return r


class Tree:
    """Helpers handed to tests as the `tree` fixture (tests run with --import-mode=importlib)."""

    write = staticmethod(write)
    rewrite = staticmethod(rewrite)
    link = staticmethod(link)
    proc_stat = staticmethod(proc_stat)
    EACCES_FILE = EACCES_FILE
    EINVAL_FILE = EINVAL_FILE


@pytest.fixture
def tree() -> type[Tree]:
    return Tree
