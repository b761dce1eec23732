"""Thermal probe: every thermal zone and hwmon temperature sensor, in degrees C.

Raw values go through `thermal_scale` (shared with the adb sampler): the scale is decided once per
zone from its first non-zero reading, a 0 or an impossible value is no reading (skipped this tick).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from workbench.core.telemetry.probe import Probe
from workbench.core.telemetry.thermal_scale import ZoneScale
from workbench.core.telemetry.sysfs import KernelFile, read_text, slug, sorted_glob, under, unique
from workbench.core.types import ChannelSpec

THERMAL_DIR = "/sys/class/thermal"
HWMON_DIR = "/sys/class/hwmon"


@dataclass
class _Sensor:
    key: str
    file: KernelFile
    scale: ZoneScale = field(default_factory=ZoneScale)  # undecided until the first non-zero reading

    def celsius(self) -> float | None:
        raw = self.file.number()
        return None if raw is None else self.scale.celsius(raw)


class ThermalProbe(Probe):
    """`thermal.<zone type>` per thermal zone and `thermal.<hwmon name>.<label>` per hwmon sensor."""

    id = "thermal"
    title = "Thermal"

    def __init__(self, root: str = "/") -> None:
        self.root = root
        self._sensors: list[_Sensor] | None = None
        self._specs: list[ChannelSpec] = []

    def _discover(self) -> list[_Sensor]:
        if self._sensors is not None:
            return self._sensors
        taken: set[str] = set()
        sensors: list[_Sensor] = []
        for zone in sorted_glob(os.path.join(under(self.root, THERMAL_DIR), "thermal_zone*")):
            temp = os.path.join(zone, "temp")
            if not os.path.exists(temp):
                continue
            zname = os.path.basename(zone)
            ztype = (read_text(os.path.join(zone, "type")) or "").strip()
            key = unique(f"thermal.{slug(ztype, zname)}", taken)
            sensors.append(_Sensor(key, KernelFile(temp)))
            self._specs.append(ChannelSpec(key, "C", "thermal", f"{ztype or zname} ({zname})"))
        for hw in sorted_glob(os.path.join(under(self.root, HWMON_DIR), "hwmon*")):
            hname = slug((read_text(os.path.join(hw, "name")) or "").strip(), os.path.basename(hw))
            for inp in sorted_glob(os.path.join(hw, "temp*_input")):
                idx = os.path.basename(inp)[: -len("_input")]
                label = (read_text(os.path.join(hw, f"{idx}_label")) or "").strip()
                key = unique(f"thermal.{hname}.{slug(label, idx)}", taken)
                # hwmon's ABI is strictly millidegrees, no vendor variants to guess at.
                sensors.append(_Sensor(key, KernelFile(inp), scale=ZoneScale(1000.0)))
                self._specs.append(ChannelSpec(key, "C", "thermal", f"{hname} {label or idx}"))
        self._sensors = sensors
        return sensors

    def channels(self) -> list[ChannelSpec]:
        self._discover()
        return list(self._specs)

    def absent_reason(self) -> str | None:
        if self._discover():
            return None
        return (
            f"thermal zones: {under(self.root, THERMAL_DIR)} has no thermal_zone* and "
            f"{under(self.root, HWMON_DIR)} has no hwmon*/temp*_input"
        )

    def read(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for sensor in self._discover():
            value = sensor.celsius()  # unreadable (EACCES/EINVAL/ENODATA) -> None, skipped this tick
            if value is not None:
                out[sensor.key] = value
        return out
