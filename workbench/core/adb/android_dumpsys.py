"""`dumpsys thermalservice` and `dumpsys battery` -> typed readings.

The thermal status level (0 none .. 6 shutdown) is what Android's own throttling reacts to, so the
tuner's thermal thresholds are expressed in it; HAL temperatures are the only readable temperatures
on phones whose sysfs thermal zones SELinux denies to the shell user.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from workbench.core.adb.android_text import clip, lines, to_float, to_int

THERMAL_STATUS_NAMES = ("none", "light", "moderate", "severe", "critical", "emergency", "shutdown")
# android.os.Temperature TYPE_* constants (frameworks/base/core/java/android/os/Temperature.java).
TEMPERATURE_TYPES = {
    -1: "unknown", 0: "cpu", 1: "gpu", 2: "battery", 3: "skin", 4: "usb_port", 5: "power_amplifier",
    6: "bcl_voltage", 7: "bcl_current", 8: "bcl_percentage", 9: "npu", 10: "tpu", 11: "display",
    12: "modem", 13: "soc", 14: "wifi", 15: "camera", 16: "flashlight", 17: "speaker", 18: "ambient",
    19: "pogo",
}
_TEMPERATURE = re.compile(r"Temperature\{(.*)\}")
_KV = re.compile(r"(\w+)=([^,}]*)")


@dataclass(frozen=True)
class HalTemperature:
    name: str
    value_c: float
    type: int
    status: int

    @property
    def type_name(self) -> str:
        return TEMPERATURE_TYPES.get(self.type, f"type{self.type}")


@dataclass
class ThermalService:
    status: int | None = None  # 0..6, see THERMAL_STATUS_NAMES
    status_override: bool | None = None
    temperatures: list[HalTemperature] = field(default_factory=list)  # "Current temperatures from HAL"
    cached: list[HalTemperature] = field(default_factory=list)  # "Cached temperatures" (last callbacks)
    problems: list[str] = field(default_factory=list)

    @property
    def status_name(self) -> str | None:
        if self.status is None:
            return None
        return THERMAL_STATUS_NAMES[self.status] if 0 <= self.status < len(THERMAL_STATUS_NAMES) else str(self.status)


def parse_temperature(text: str) -> HalTemperature | None:
    """`Temperature{mValue=31.2, mType=3, mName=VIRTUAL-SKIN, mStatus=0}` -> HalTemperature."""
    m = _TEMPERATURE.search(text)
    if not m:
        return None
    kv = {k: v.strip() for k, v in _KV.findall(m.group(1))}
    value, name = to_float(kv.get("mValue")), kv.get("mName")
    if value is None or not name:
        return None
    t_type, t_status = to_int(kv.get("mType")), to_int(kv.get("mStatus"))
    return HalTemperature(name, value, -1 if t_type is None else t_type, 0 if t_status is None else t_status)


def parse_thermalservice(text: str) -> ThermalService:
    """Android 10+ `dumpsys thermalservice`; older releases print no status line and yield a problem."""
    out = ThermalService()
    section = ""
    for line in lines(text):
        s = line.strip()
        if not s:
            continue
        if s.startswith("IsStatusOverride:"):
            out.status_override = s.split(":", 1)[1].strip().lower() == "true"
        elif s.startswith("Thermal Status:"):
            out.status = to_int(s.split(":", 1)[1])
            if out.status is None:
                out.problems.append(f"thermalservice: bad status line: {clip(s)}")
        elif s.endswith(":") and not s.startswith(("Temperature{", "CoolingDevice{")):
            section = s[:-1].lower()
        elif s.startswith("Temperature{"):
            t = parse_temperature(s)
            if t is None:
                out.problems.append(f"thermalservice: unreadable temperature: {clip(s)}")
            elif section.startswith("current temperatures"):
                out.temperatures.append(t)
            elif section.startswith("cached temperatures"):
                out.cached.append(t)
    if out.status is None:
        out.problems.append("thermalservice: no 'Thermal Status:' line (Android < 10, or not a thermalservice dump)")
    return out


BATTERY_STATUS = {1: "Unknown", 2: "Charging", 3: "Discharging", 4: "Not charging", 5: "Full"}


@dataclass
class DumpsysBattery:
    level: int | None = None
    scale: int | None = None
    status: str | None = None  # as power_supply words it: Charging, Discharging, Not charging, Full
    plugged: list[str] = field(default_factory=list)  # ac, usb, wireless, dock
    temperature_c: float | None = None
    voltage_v: float | None = None
    current_now_raw: int | None = None  # Android 14+ prints it; unit follows the kernel (see android_power)
    charge_counter_uah: int | None = None
    problems: list[str] = field(default_factory=list)


def parse_dumpsys_battery(text: str) -> DumpsysBattery:
    """`dumpsys battery` (Current Battery Service state). Temperature is in tenths of a degree C."""
    out = DumpsysBattery()
    kv: dict[str, str] = {}
    for line in lines(text):
        key, sep, value = line.strip().partition(":")
        if sep:
            kv[key.strip().lower()] = value.strip()
    if not kv:
        out.problems.append("dumpsys battery: no 'key: value' lines")
        return out
    out.level = to_int(kv.get("level"))
    out.scale = to_int(kv.get("scale"))
    code = to_int(kv.get("status"))
    out.status = BATTERY_STATUS.get(code) if code is not None else None
    for src in ("ac", "usb", "wireless", "dock"):
        if kv.get(f"{src} powered", "").lower() == "true":
            out.plugged.append(src)
    t = to_int(kv.get("temperature"))
    out.temperature_c = t / 10.0 if t is not None else None
    v = to_int(kv.get("voltage"))
    out.voltage_v = (v / 1000.0 if v > 100 else float(v)) if v is not None else None
    out.current_now_raw = to_int(kv.get("current now"))
    out.charge_counter_uah = to_int(kv.get("charge counter"))
    if out.level is None:
        out.problems.append("dumpsys battery: no level (no battery, or not a battery dump)")
    return out
