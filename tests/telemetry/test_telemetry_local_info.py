"""The local device report from captured trees and from this machine."""
from __future__ import annotations

import os
from pathlib import Path

from workbench.core.devices.local_info import local_device_info, parse_cpu_list


def test_phone_tree_report(phone_root: Path) -> None:
    info = local_device_info(str(phone_root))
    assert info.serial == "local" and info.kind == "local"
    dev = info.sections["device"]
    assert dev["cpu_model"] == "Qualcomm Technologies, Inc SM8150"
    assert dev["cores"] == {"physical": 8, "logical": 8}  # 2 packages x 4 core ids
    assert dev["kernel"] == "4.14.190-perf+" and dev["os"] == "Linux"
    pol = info.sections["cpu"]["policies"]
    assert list(pol) == ["policy0", "policy4"]
    assert pol["policy4"]["cpus"] == [4, 5, 6, 7]
    assert pol["policy4"]["governor"] == "schedutil"
    assert pol["policy4"]["max_mhz"] == 2419.2
    assert pol["policy0"]["available_mhz"][:2] == [300.0, 576.0]
    assert info.sections["memory"]["total_mb"] == 7812440 / 1024
    zones = {z["channel"]: z["celsius"] for z in info.sections["thermal"]["zones"]}
    assert zones["thermal.battery"] == 31.2 and zones["thermal.xo-therm"] is None
    assert info.sections["power"]["batteries"][0]["source"] == "current_now x voltage_now"
    assert info.sections["power"]["external_supplies"] == ["usb"]
    assert any(a.startswith("powercap:") for a in info.absent)
    assert not any(a.startswith(("cpufreq:", "thermal zones:", "battery:")) for a in info.absent)
    probes = info.sections["probes"]
    assert all(probes[p]["available"] for p in ("cpu_load", "cpu_freq", "thermal", "power", "memory"))
    assert info.fingerprint()["cpu_model"] == "Qualcomm Technologies, Inc SM8150"


def test_laptop_tree_report(laptop_root: Path) -> None:
    info = local_device_info(str(laptop_root))
    assert info.sections["device"]["cpu_model"].startswith("11th Gen Intel")
    assert info.sections["device"]["cores"]["physical"] == 2
    rapl = info.sections["power"]["rapl"]
    assert [(d["name"], d["parent"]) for d in rapl] == [("package-0", None), ("core", "package-0")]
    assert info.sections["cpu"]["cpuinfo_mhz"]["cpu2"] == 4089.902
    assert any(a.startswith("cpufreq:") and "has no policy*" in a for a in info.absent)


def test_this_machine_names_what_is_absent() -> None:
    info = local_device_info()
    dev = info.sections["device"]
    assert dev["cores"]["logical"] == os.cpu_count()
    assert dev["kernel"] == os.uname().release and dev["arch"] == os.uname().machine
    assert info.sections["memory"]["total_mb"] > 0
    checks = {
        "cpufreq: /sys/devices/system/cpu/cpufreq has no policy*": not info.sections["cpu"]["policies"],
        "thermal zones:": not info.sections["thermal"]["zones"],
        "powercap:": not info.sections["power"]["rapl"],
        "battery:": not info.sections["power"]["batteries"],
    }
    for prefix, missing in checks.items():
        assert any(a.startswith(prefix) for a in info.absent) == missing, prefix
    for name, probe in info.sections["probes"].items():
        assert probe["available"] or probe["why_not"], name


def test_empty_tree_reports_only_absences(tmp_path: Path) -> None:
    info = local_device_info(str(tmp_path))
    assert info.sections["device"]["cpu_model"] is None
    assert info.sections["memory"] == {}
    assert len(info.absent) >= 6
    assert all(str(tmp_path) in a for a in info.absent)


def test_parse_cpu_list() -> None:
    assert parse_cpu_list("0-3,6\n") == [0, 1, 2, 3, 6] and parse_cpu_list("4 5 6 7\n") == [4, 5, 6, 7]
    assert parse_cpu_list("") == [] and parse_cpu_list("x,2,5-4") == [2]
