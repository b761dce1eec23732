"""`AdbDevice.info()`: one shell round trip collects everything, the android_* parsers read it.

Why one script: every round trip through adbd costs 5-30 ms on USB and more over Wi-Fi, and a report
needs some 60 sysfs files. The script prints sections headed `@@wb <name>` and only uses sh builtins,
`cat`, `getprop`, `uname` and `dumpsys`; files the shell user may not read show up as errno text,
which the parsers turn into `absent` lines instead of failures.
"""
from __future__ import annotations

from typing import Any

from workbench.core.adb.android_parsers import (
    android_identity,
    parse_cpu_list,
    parse_cpufreq_dump,
    parse_dumpsys_battery,
    parse_getprop,
    parse_power_supply_dump,
    parse_thermal_dump,
    parse_thermalservice,
)
from workbench.core.adb.android_power import current_unit_for
from workbench.core.adb.android_text import to_int
from workbench.core.adb.link import AdbLink
from workbench.core.devices.base import DeviceInfo

_CPUFREQ_FILES = ("related_cpus affected_cpus scaling_cur_freq cpuinfo_cur_freq scaling_min_freq scaling_max_freq "
                  "cpuinfo_min_freq cpuinfo_max_freq scaling_available_frequencies scaling_governor")
_SUPPLY_FILES = "type online status capacity current_now voltage_now"
TOOLS = ("sha256sum", "toybox", "taskset", "python3", "dumpsys", "getprop")

INFO_SCRIPT = rf"""
d() {{ for f in "$@"; do [ -e "$f" ] && echo "$f: $(cat "$f" 2>&1)"; done; }}
echo "@@wb getprop"; getprop 2>/dev/null
echo "@@wb uname"; uname -a 2>&1
echo "@@wb cpuinfo"; cat /proc/cpuinfo 2>&1
echo "@@wb possible"; cat /sys/devices/system/cpu/possible 2>&1
echo "@@wb stat"; [ -r /proc/stat ] && echo readable
echo "@@wb cpufreq"
for p in /sys/devices/system/cpu/cpufreq/policy*; do [ -d "$p" ] || continue
  for n in {_CPUFREQ_FILES}; do d "$p/$n"; done; done
echo "@@wb meminfo"; cat /proc/meminfo 2>&1
echo "@@wb thermal"
for z in /sys/class/thermal/thermal_zone*; do [ -d "$z" ] && d "$z/type" "$z/temp" "$z/mode"; done
echo "@@wb power"
for s in /sys/class/power_supply/*; do [ -d "$s" ] || continue
  for n in {_SUPPLY_FILES}; do d "$s/$n"; done; done
echo "@@wb odpm"
for e in /sys/bus/iio/devices/iio:device*/energy_value; do [ -r "$e" ] && echo "$e"; done
echo "@@wb tools"
for t in {" ".join(TOOLS)}; do command -v "$t" >/dev/null 2>&1 && echo "$t"; done
echo "@@wb thermalservice"; dumpsys thermalservice 2>/dev/null
echo "@@wb battery"; dumpsys battery 2>/dev/null
echo "@@wb end"
"""


def split_sections(text: str) -> dict[str, str]:
    """`@@wb name` headed output -> {name: body}."""
    out: dict[str, list[str]] = {}
    cur: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("@@wb "):
            cur = out.setdefault(line[5:].strip(), [])
        elif cur is not None:
            cur.append(line)
    return {k: "\n".join(v) for k, v in out.items()}


def _cpuinfo(text: str) -> tuple[int, str | None]:
    procs, hardware, model = 0, None, None
    for line in text.splitlines():
        key, sep, val = line.partition(":")
        key = key.strip().lower()
        if not sep:
            continue
        if key == "processor" and val.strip().isdigit():
            procs += 1
        elif key == "hardware":
            hardware = val.strip()
        elif key in ("model name", "cpu model") and model is None:
            model = val.strip()
    return procs, hardware or model


def _meminfo(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    names = {"MemTotal": "total_mb", "MemAvailable": "available_mb", "SwapTotal": "swap_total_mb"}
    for line in text.splitlines():
        key, sep, val = line.partition(":")
        if sep and key in names:
            kb = to_int(val.split()[0] if val.split() else "")
            if kb is not None:
                out[names[key]] = kb / 1024.0
    return out


def build_info(serial: str, text: str) -> DeviceInfo:
    """Parse the INFO_SCRIPT output of one device into report sections (`absent` names what is missing)."""
    sec = split_sections(text)
    absent: list[str] = []
    props = parse_getprop(sec.get("getprop", ""))
    ident = android_identity(props)
    cores, cpu_model = _cpuinfo(sec.get("cpuinfo", ""))
    possible = parse_cpu_list(sec.get("possible", ""))
    uname = sec.get("uname", "").strip()
    is_android = bool(props.values)
    device: dict[str, Any] = {
        "model": ident.model, "manufacturer": ident.manufacturer, "soc": ident.soc,
        "abi": ident.abis[0] if ident.abis else None, "abis": ident.abis,
        "os": "Android" if is_android else (uname.split()[0] if uname else None),
        "os_release": ident.release, "android_sdk": ident.sdk, "kernel": uname or None, "cpu_model": cpu_model,
        "cores": {"logical": len(possible) or cores or None},
        "fingerprint": props.get("ro.build.fingerprint"),
    }
    if not is_android:
        absent.append("getprop: not an Android device (or getprop printed nothing)")
    else:
        absent += [f"getprop: {p}" for p in ident.problems]

    freq = parse_cpufreq_dump(sec.get("cpufreq", ""))
    cpu = {"policies": {p.name: {
        "cpus": p.cpus, "governor": p.governor,
        "min_mhz": p.hw_min_khz / 1000 if p.hw_min_khz else None,
        "max_mhz": p.hw_max_khz / 1000 if p.hw_max_khz else None,
        "scaling_min_mhz": p.min_khz / 1000 if p.min_khz else None,
        "scaling_max_mhz": p.max_khz / 1000 if p.max_khz else None,
        "cur_mhz": p.cur_khz / 1000 if p.cur_khz else None,
        "available_mhz": [f / 1000 for f in p.available_khz], "unreadable": p.unreadable,
    } for p in freq.policies}}
    if not freq.policies:
        absent.append("cpufreq: /sys/devices/system/cpu/cpufreq has no readable policy*")

    memory = _meminfo(sec.get("meminfo", ""))
    if "total_mb" not in memory:
        absent.append("memory: /proc/meminfo has no MemTotal")

    zones = parse_thermal_dump(sec.get("thermal", ""))
    readable_zones = [z for z in zones.zones if z.temp_c is not None and z.mode != "disabled"]
    thermal: dict[str, Any] = {"zones": [{"index": z.index, "type": z.type, "celsius": z.temp_c, "mode": z.mode,
                                          "error": z.error} for z in zones.zones]}
    if not zones.zones:
        absent.append("thermal zones: /sys/class/thermal has none")
    elif not readable_zones:
        absent.append("thermal zones: none readable by the shell user")
    ts = parse_thermalservice(sec.get("thermalservice", ""))
    if ts.status is not None:
        thermal["status"] = ts.status
        thermal["hal"] = [{"name": t.name, "celsius": t.value_c} for t in ts.temperatures]

    supplies = parse_power_supply_dump(sec.get("power", ""))
    bat_dump = parse_dumpsys_battery(sec.get("battery", ""))
    battery: dict[str, Any] = {}
    bat = supplies.battery_supply()
    if bat is not None:
        cur_raw, volt_raw = to_int(bat.props.get("current_now")), to_int(bat.props.get("voltage_now"))
        battery = {
            "supply": bat.name, "level": to_int(bat.props.get("capacity")), "status": bat.props.get("status"),
            "plugged": supplies.plugged, "current_raw": cur_raw,
            "current_unit": current_unit_for(cur_raw) if cur_raw is not None else None,
            "voltage_raw": volt_raw, "voltage_unit": "uV" if volt_raw is not None else None,
        }
    elif bat_dump.level is not None:
        battery = {"supply": "dumpsys battery", "level": bat_dump.level, "status": bat_dump.status,
                   "plugged": bat_dump.plugged, "voltage_v": bat_dump.voltage_v}
    if not battery:
        absent.append("battery: no power_supply battery and no dumpsys battery (a board on mains power?)")
    elif bat is None:
        absent.append("battery power: /sys/class/power_supply current_now not readable (level only)")

    tools = set(sec.get("tools", "").split())
    odpm = [line for line in sec.get("odpm", "").splitlines() if line.strip()]
    stat_ok = sec.get("stat", "").strip() == "readable"
    probes = {
        "cpu_load": {"available": stat_ok, "why_not": None if stat_ok else "/proc/stat not readable"},
        "cpu_freq": {"available": any(p.cur_khz for p in freq.policies),
                     "why_not": None if any(p.cur_khz for p in freq.policies) else "no readable scaling_cur_freq"},
        "thermal": {"available": bool(readable_zones), "zones": [z.type for z in readable_zones],
                    "why_not": None if readable_zones else "no thermal zone readable"},
        "thermal_status": {"available": ts.status is not None,
                           "why_not": None if ts.status is not None else "dumpsys thermalservice unavailable"},
        "battery_power": {"available": bat is not None and "current_now" in bat.props,
                          "why_not": None if bat is not None and "current_now" in bat.props
                          else "battery current_now not readable"},
        "power_rails": {"available": bool(odpm), "why_not": None if odpm else "no readable ODPM energy_value"},
        "runner_memory": {"available": True, "why_not": None},
    }
    for name, p in probes.items():
        if not p["available"]:
            absent.append(f"probe {name}: {p['why_not']}")
    sections = {"device": device, "cpu": cpu, "memory": memory, "thermal": thermal, "battery": battery,
                "probes": probes, "tools": {t: (t in tools) for t in TOOLS}}
    return DeviceInfo(serial=serial, kind="adb", sections=sections, absent=absent)


def collect_info(link: AdbLink, timeout: float = 30.0) -> DeviceInfo:
    """Run INFO_SCRIPT once on the device and parse it."""
    res = link.shell(INFO_SCRIPT, timeout=timeout)
    return build_info(link.serial, res.stdout)
