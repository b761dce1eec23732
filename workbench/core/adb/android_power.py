"""Battery power from power_supply dumps, and per-rail power from ODPM energy meters.

Turning raw current/voltage into battery watts (µA vs mA, sign conventions, plugged-in flag) is
`workbench.core.telemetry.battery`, shared with the local power probe; it is re-exported here for the
adb parsers' one import point.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from workbench.core.adb.android_text import clip, is_uint, lines, parse_path_dump, to_int
from workbench.core.telemetry.battery import (  # noqa: F401 - re-exported for android_parsers
    UA_THRESHOLD,
    BatteryPower,
    current_unit_for,
    infer_discharge_sign,
    normalize_battery,
    voltage_volts,
)
_CHARGER_TYPES = ("usb", "mains", "wireless", "usb_pd", "usb_c", "usb_dcp", "usb_cdp", "usb_aca", "usb_hvdcp", "usb_pd_drp")
_CHARGER_NAMES = ("usb", "ac", "wireless", "dc", "mains", "pc_port")


@dataclass
class PowerSupply:
    """One /sys/class/power_supply/<name>; props keyed lower-case without the POWER_SUPPLY_ prefix."""

    name: str
    props: dict[str, str] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)

    @property
    def type(self) -> str:
        return self.props.get("type", "").strip().lower()

    @property
    def online(self) -> bool:
        return self.props.get("online", "").strip() == "1"

    def is_charger(self) -> bool:
        """USB/AC/wireless inputs; OTG (the phone powering an accessory) is not a charger."""
        if "otg" in self.name.lower():
            return False
        return self.type in _CHARGER_TYPES or self.name.lower() in _CHARGER_NAMES


@dataclass
class PowerSupplies:
    supplies: dict[str, PowerSupply] = field(default_factory=dict)
    battery: str | None = None  # name of the supply used as the battery
    plugged: list[str] = field(default_factory=list)  # names of online chargers
    problems: list[str] = field(default_factory=list)

    def battery_supply(self) -> PowerSupply | None:
        return self.supplies.get(self.battery) if self.battery else None

    def battery_power(self, discharge_sign: int | None = None, current_unit: str | None = None) -> BatteryPower | None:
        """Normalized power of the battery supply, or None when the device has no battery (boards)."""
        bat = self.battery_supply()
        if bat is None:
            return None
        status = bat.props.get("status")
        sign = discharge_sign or infer_discharge_sign(to_int(bat.props.get("current_now")), status) or -1
        return normalize_battery(
            to_int(bat.props.get("current_now")),
            to_int(bat.props.get("voltage_now")),
            status=status,
            plugged=bool(self.plugged),
            discharge_sign=sign,
            current_unit=current_unit,
        )


def parse_uevent(text: str) -> dict[str, str]:
    """`POWER_SUPPLY_X=v` lines -> {"x": "v"} (other KEY=value lines keep their name, lower-cased)."""
    out: dict[str, str] = {}
    for line in lines(text):
        key, sep, value = line.strip().partition("=")
        if sep and key:
            k = key[len("POWER_SUPPLY_"):] if key.startswith("POWER_SUPPLY_") else key
            out[k.lower()] = value.strip()
    return out


_SUPPLY_PATH = re.compile(r"/power_supply/([^/]+)/([^/]+)$")


def parse_power_supply_dump(text: str) -> PowerSupplies:
    """A dump of /sys/class/power_supply/*/uevent and/or single files (current_now, online, ...)."""
    files, problems = parse_path_dump(text)
    out = PowerSupplies(problems=problems)
    for path, fv in files.items():
        m = _SUPPLY_PATH.search(path)
        if not m:
            continue
        name, fname = m.group(1), m.group(2)
        sup = out.supplies.setdefault(name, PowerSupply(name=name))
        if not fv.ok or fv.text is None:
            sup.unreadable.append(fname)
        elif fname == "uevent":
            for k, v in parse_uevent(fv.text).items():
                sup.props.setdefault(k, v)
        else:
            sup.props[fname] = fv.text.strip()  # a single file is fresher than the uevent copy
    bats = [s for s in out.supplies.values() if s.type == "battery" or s.name == "battery"]
    bats.sort(key=lambda s: (s.name != "battery", "current_now" not in s.props, s.name))
    out.battery = bats[0].name if bats else None
    out.plugged = sorted(s.name for s in out.supplies.values() if s.is_charger() and s.online)
    if out.battery is None:
        out.problems.append("power_supply: no battery (a board on mains power, or sysfs not readable)")
    return out


@dataclass(frozen=True)
class RailEnergy:
    """Accumulated energy of one ODPM rail. Pixel's meters count micro-watt-seconds (µWs)."""

    rail: str
    channel: int
    t_ms: int
    energy_uws: int


@dataclass
class OdpmReading:
    t_ms: int | None = None
    rails: dict[str, RailEnergy] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


_ODPM_LINE = re.compile(r"^CH(\d+)\(T=(\d+)\)\[([^\]]+)\],\s*(\d+)\s*$")


def parse_odpm(text: str) -> OdpmReading:
    """/sys/bus/iio/devices/iio:deviceN/energy_value: `t=<ms>` then `CHn(T=<ms>)[RAIL], <µWs>` lines."""
    out = OdpmReading()
    for lineno, raw in enumerate(lines(text), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("t="):
            t = line[2:].strip()
            if is_uint(t):
                out.t_ms = int(t)
            else:
                out.problems.append(f"energy_value line {lineno}: bad timestamp: {clip(line)}")
            continue
        m = _ODPM_LINE.match(line)
        if m:
            rail = m.group(3).strip()
            out.rails[rail] = RailEnergy(rail, int(m.group(1)), int(m.group(2)), int(m.group(4)))
        else:
            out.problems.append(f"energy_value line {lineno}: not 'CHn(T=..)[rail], energy': {clip(line)}")
    if not out.rails:
        out.problems.append("energy_value: no rails")
    return out


def rail_power_w(prev: OdpmReading, cur: OdpmReading) -> dict[str, float]:
    """Mean W per rail between two readings: d(µWs) / d(ms) / 1000. Rails that reset are left out."""
    out: dict[str, float] = {}
    for rail, b in cur.rails.items():
        a = prev.rails.get(rail)
        if a is None or b.t_ms <= a.t_ms or b.energy_uws < a.energy_uws:
            continue
        out[rail] = (b.energy_uws - a.energy_uws) / (b.t_ms - a.t_ms) / 1000.0
    return out
