"""Power probe: RAPL energy counters (W from deltas) and batteries (W from power or current x voltage).

Both sources lie in known ways, handled here rather than in every chart:
- RAPL `energy_uj` wraps at `max_energy_range_uj`, and since Linux 5.10 (CVE-2020-8694, "Platypus")
  it is readable by root only; such domains are reported as absent with that reason, not as zero.
- Batteries disagree on units and sign (laptops report an unsigned current, most phones a negative
  one while discharging, some vendors mA): `telemetry.battery.BatteryMeter`, the same rule the adb
  sampler uses, turns them into W, discharge positive and charging negative. While charging, full,
  or on AC/USB power the battery does not measure the device's draw, so a per-battery `external`
  flag channel says so (1.0) for the tuner and the charts.

Which channels add up (the same rule on a phone, see adb/telemetry_lines):
- Group `power`, keys `power.<family>.*`, are top-level meters. Within one family they are disjoint,
  so summing them is right: `power.rapl.*` = the CPU packages plus their DRAM (Intel's DRAM domain is
  a sysfs child of its package but not inside the package's energy), `power.rail.*` = the metered
  rails of a phone. The one exception is `power.rapl.psys` (the platform domain), which contains the
  packages: use it instead of them, not with them. Across families meters overlap and are compared,
  not added: a battery (`power.battery*`) pays for everything.
- Group `power_detail`, keys `power_detail.*`, are parts of a top-level meter: RAPL core (PP0) and
  uncore/graphics (PP1) are inside their package. Never sum them with `power.*`.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Callable

from workbench.core.telemetry.battery import BatteryMeter
from workbench.core.telemetry.probe import Probe
from workbench.core.telemetry.sysfs import KernelFile, read_error, read_number, read_text, slug, sorted_glob, under, unique
from workbench.core.types import ChannelSpec

POWERCAP_DIR = "/sys/class/powercap"
SUPPLY_DIR = "/sys/class/power_supply"
EXTERNAL_TYPES = {"Mains", "USB", "USB_C", "USB_PD", "USB_PD_DRP", "USB_DCP", "USB_CDP", "USB_ACA", "Wireless"}


@dataclass
class RaplDomain:
    """One powercap zone; `parent` names the package a sub-zone (core, uncore, dram) hangs under."""

    key: str
    zone: str
    name: str
    energy: KernelFile
    max_range_uj: float | None
    parent: str | None = None
    _last: tuple[float, float] | None = field(default=None, repr=False)

    def watts(self, now: float) -> float | None:
        uj = self.energy.number()
        if uj is None:
            return None
        last, self._last = self._last, (uj, now)
        if last is None or now <= last[1]:
            return None
        delta = uj - last[0]
        if delta < 0:  # counter wrapped
            if not self.max_range_uj:
                return None
            delta += self.max_range_uj
        return delta / 1e6 / (now - last[1])


@dataclass
class Battery:
    key: str
    name: str
    path: str
    power_now: KernelFile | None
    current_now: KernelFile | None
    voltage_now: KernelFile | None
    status: KernelFile
    # mainline drivers follow the ABI (µA): no mA guess, so a 5 mA trickle while Full is not 5 A
    meter: BatteryMeter = field(default_factory=lambda: BatteryMeter(current_unit="uA"))


def _rapl_channel(zname: str, name: str, parent: str | None) -> tuple[str, str, str]:
    """Key, group and label of a RAPL zone, following the additivity rule in the module docstring."""
    if parent is None:
        note = ", platform: includes the packages" if name == "psys" else ""
        return f"power.rapl.{slug(name, zname)}", "power", f"RAPL {name} ({zname}{note})"
    pkg = slug(parent, "package")
    if name == "dram":
        return f"power.rapl.dram.{pkg}", "power", f"RAPL dram ({zname}, memory next to {parent}, not inside it)"
    return f"power_detail.rapl.{pkg}.{slug(name, zname)}", "power_detail", f"RAPL {name} ({zname}, part of {parent})"


class PowerProbe(Probe):
    """`power.rapl.<package>`, `power_detail.rapl.<package>.<part>`, `power.battery.<name>` (W) and
    `power.battery.<name>.external` (flag); see the module docstring for what adds up."""

    id = "power"
    title = "Power"

    def __init__(self, root: str = "/", clock: Callable[[], float] = time.monotonic) -> None:
        self.root = root
        self.clock = clock
        self._discovered = False
        self.rapl: list[RaplDomain] = []
        self.batteries: list[Battery] = []
        self.external: dict[str, KernelFile] = {}  # supply name -> its `online` file
        self.absences: list[str] = []
        self._specs: list[ChannelSpec] = []

    def _discover(self) -> None:
        if self._discovered:
            return
        self._discovered = True
        taken: set[str] = set()
        self._discover_rapl(taken)
        self._discover_supplies(taken)

    def _discover_rapl(self, taken: set[str]) -> None:
        base = under(self.root, POWERCAP_DIR)
        zones = sorted(p for p in sorted_glob(os.path.join(base, "intel-rapl:*")) if os.path.isdir(p))
        if not zones:
            self.absences.append(f"powercap: {base} has no intel-rapl:* (no RAPL energy counters)")
            return
        denied: list[str] = []
        names = {os.path.basename(z): (read_text(os.path.join(z, "name")) or "").strip() for z in zones}
        for zone in zones:
            energy = os.path.join(zone, "energy_uj")
            if not os.path.exists(energy):
                continue
            err = read_error(energy)
            zname = os.path.basename(zone)
            if isinstance(err, PermissionError):
                denied.append(zname)
                continue
            if err is not None:
                self.absences.append(f"powercap: {energy} unreadable ({err.strerror})")
                continue
            name = names[zname] or zname
            parent_zone = zname.rsplit(":", 1)[0] if zname.count(":") > 1 else None
            parent = (names.get(parent_zone) or parent_zone) if parent_zone else None
            key, group, label = _rapl_channel(zname, name, parent)
            key = unique(key, taken)
            self.rapl.append(
                RaplDomain(key, zname, name, KernelFile(energy), read_number(os.path.join(zone, "max_energy_range_uj")), parent)
            )
            self._specs.append(ChannelSpec(key, "W", group, label))
        if denied:
            self.absences.append(
                f"powercap: {base}/{{{','.join(denied)}}}/energy_uj is readable by root only "
                "(Linux >= 5.10, CVE-2020-8694); run as root or grant read access to see RAPL power"
            )

    def _discover_supplies(self, taken: set[str]) -> None:
        base = under(self.root, SUPPLY_DIR)
        found_battery = False
        for supply in sorted_glob(os.path.join(base, "*")):
            name = os.path.basename(supply)
            kind = (read_text(os.path.join(supply, "type")) or "").strip()
            if kind in EXTERNAL_TYPES and os.path.exists(os.path.join(supply, "online")):
                self.external[name] = KernelFile(os.path.join(supply, "online"))
                continue
            if kind != "Battery":
                continue
            found_battery = True

            def opt(fname: str) -> KernelFile | None:
                path = os.path.join(supply, fname)
                return KernelFile(path) if os.path.exists(path) else None

            power_now, current_now, voltage_now = opt("power_now"), opt("current_now"), opt("voltage_now")
            if power_now is None and (current_now is None or voltage_now is None):
                self.absences.append(f"battery: {supply} has neither power_now nor current_now + voltage_now")
                continue
            key = unique(f"power.battery.{slug(name, 'battery')}", taken)
            self.batteries.append(
                Battery(key, name, supply, power_now, current_now, voltage_now, KernelFile(os.path.join(supply, "status")))
            )
            self._specs.append(ChannelSpec(key, "W", "power", f"battery {name} (discharge +)"))
            self._specs.append(
                ChannelSpec(f"{key}.external", "flag", "power_state", f"battery {name} charging / on external power")
            )
        if not found_battery:
            self.absences.append(f"battery: {base} has no supply of type Battery")

    def channels(self) -> list[ChannelSpec]:
        self._discover()
        return list(self._specs)

    def absent_reason(self) -> str | None:
        self._discover()
        return None if self._specs else "; ".join(self.absences)

    def read(self) -> dict[str, float]:
        self._discover()
        out: dict[str, float] = {}
        now = self.clock()
        for dom in self.rapl:
            w = dom.watts(now)
            if w is not None:
                out[dom.key] = w
        if self.batteries:
            on_ac = any((f.number() or 0) > 0 for f in self.external.values())
            for bat in self.batteries:
                bp = bat.meter.read(
                    bat.current_now.number() if bat.current_now else None,
                    bat.voltage_now.number() if bat.voltage_now else None,
                    (bat.status.read() or "").strip(),
                    plugged=on_ac,
                    power_raw=bat.power_now.number() if bat.power_now else None,
                )
                if bp.watts is not None:
                    out[bat.key] = bp.watts
                out[f"{bat.key}.external"] = 1.0 if bp.plugged else 0.0
        return out
