"""Thermal zones (scales, unreadable zones, duplicates, hwmon) and power (RAPL deltas, batteries)."""
from __future__ import annotations

from pathlib import Path

import pytest

from workbench.core.adb.telemetry_lines import SamplerLineParser
from workbench.core.telemetry.battery import BatteryMeter, normalize_battery
from workbench.core.telemetry.power import PowerProbe
from workbench.core.telemetry.thermal import ThermalProbe
from workbench.core.telemetry.thermal_scale import thermal_scale


class StepClock:
    """A clock the test advances by hand, so W = delta energy / delta t is exact."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_temperature_scale_rules() -> None:
    assert thermal_scale(45200) == 1000.0
    assert thermal_scale(-5000) == 1000.0
    assert thermal_scale(312) == 10.0
    assert thermal_scale(33) == 1.0
    assert thermal_scale(0) is None


def test_phone_thermal_zones(phone_root: Path, tree) -> None:
    probe = ThermalProbe(str(phone_root))
    keys = [s.key for s in probe.channels()]
    assert keys == [
        "thermal.cpu-0-0-usr",
        "thermal.battery",
        "thermal.xo-therm",
        "thermal.pm8150b-ibat-lvl0",
        "thermal.cpu-0-0-usr_2",  # same type twice keeps both
        "thermal.skin-therm",
    ]
    assert all(s.unit == "C" and s.group == "thermal" for s in probe.channels())
    values = probe.read()
    # EACCES and EINVAL zones are skipped this tick, not fatal and not zero
    assert values == {
        "thermal.cpu-0-0-usr": pytest.approx(45.2),
        "thermal.battery": pytest.approx(31.2),
        "thermal.cpu-0-0-usr_2": pytest.approx(46.1),
        "thermal.skin-therm": pytest.approx(33.0),
    }
    # the scale is fixed per zone: a millidegree zone reading 950 is 0.95 C, not 95.0 C
    tree.rewrite(phone_root / "sys/class/thermal/thermal_zone0/temp", "950\n")
    assert probe.read()["thermal.cpu-0-0-usr"] == pytest.approx(0.95)


def test_thermal_zone_that_starts_at_zero_decides_scale_later(tmp_path: Path, tree) -> None:
    tree.write(tmp_path, "/sys/class/thermal/thermal_zone0/type", "pa-therm0\n")
    temp = tree.write(tmp_path, "/sys/class/thermal/thermal_zone0/temp", "0\n")
    probe = ThermalProbe(str(tmp_path))
    assert probe.read() == {}  # 0 decides nothing and is no reading: never a fake 0 C idle baseline
    tree.rewrite(temp, "415\n")
    assert probe.read() == {"thermal.pa-therm0": pytest.approx(41.5)}
    tree.rewrite(temp, "0\n")
    assert probe.read() == {}  # a zone switched off mid-run
    tree.rewrite(temp, "-2730\n")
    assert probe.read() == {}  # -273 C: an unconnected sensor, not a temperature
    tree.rewrite(temp, "398\n")
    assert probe.read() == {"thermal.pa-therm0": pytest.approx(39.8)}  # the scale stayed decidegrees


def test_laptop_hwmon_and_no_thermal_zones(laptop_root: Path) -> None:
    probe = ThermalProbe(str(laptop_root))
    assert [s.key for s in probe.channels()] == ["thermal.coretemp.Package_id_0", "thermal.coretemp.temp2"]
    assert probe.read() == {"thermal.coretemp.Package_id_0": 52.0, "thermal.coretemp.temp2": 49.0}


def test_thermal_absent_names_paths(tmp_path: Path) -> None:
    probe = ThermalProbe(str(tmp_path))
    assert probe.channels() == [] and probe.read() == {}
    reason = probe.absent_reason() or ""
    assert str(tmp_path / "sys/class/thermal") in reason and "thermal_zone*" in reason


def test_rapl_watts_from_deltas_and_wrap(laptop_root: Path, tree) -> None:
    clock = StepClock()
    probe = PowerProbe(str(laptop_root), clock=clock)
    specs = {s.key: s for s in probe.channels()}
    assert list(specs) == [
        "power.rapl.package-0",
        "power_detail.rapl.package-0.core",
        "power.battery.BAT0",
        "power.battery.BAT0.external",
    ]
    assert "part of package-0" in specs["power_detail.rapl.package-0.core"].label
    assert specs["power_detail.rapl.package-0.core"].group == "power_detail"  # never summed with power.*
    first = probe.read()
    assert "power.rapl.package-0" not in first  # needs two readings
    pkg = laptop_root / "sys/class/powercap/intel-rapl:0/energy_uj"
    core = laptop_root / "sys/class/powercap/intel-rapl:0:0/energy_uj"
    clock.now += 0.5
    tree.rewrite(pkg, f"{73520458111 + 6_250_000}\n")  # 6.25 J in 0.5 s
    tree.rewrite(core, f"{20111874402 + 1_500_000}\n")
    values = probe.read()
    assert values["power.rapl.package-0"] == pytest.approx(12.5)
    assert values["power_detail.rapl.package-0.core"] == pytest.approx(3.0)
    # wrap: counter restarts past max_energy_range_uj (262143328850)
    tree.rewrite(pkg, "262140000000\n")
    clock.now += 1.0
    probe.read()
    tree.rewrite(pkg, "1671150\n")  # 3328850 to the top + 1671150 after the wrap = 5 J
    clock.now += 0.25
    assert probe.read()["power.rapl.package-0"] == pytest.approx(20.0)


def test_rapl_parts_are_detail_and_top_level_power_adds_up(tmp_path: Path, tree) -> None:
    """core/uncore sit inside their package (detail); DRAM sits next to it and psys contains it."""
    zones = [("intel-rapl:0", "package-0", 12_000_000), ("intel-rapl:0:0", "core", 7_000_000),
             ("intel-rapl:0:1", "uncore", 2_000_000), ("intel-rapl:0:2", "dram", 1_500_000),
             ("intel-rapl:1", "psys", 20_000_000)]
    files = {}
    for zone, name, _ in zones:
        tree.write(tmp_path, f"/sys/class/powercap/{zone}/name", name + "\n")
        files[zone] = tree.write(tmp_path, f"/sys/class/powercap/{zone}/energy_uj", "1000\n")
    clock = StepClock()
    probe = PowerProbe(str(tmp_path), clock=clock)
    specs = {s.key: s for s in probe.channels()}
    assert {k: s.group for k, s in specs.items()} == {
        "power.rapl.package-0": "power", "power_detail.rapl.package-0.core": "power_detail",
        "power_detail.rapl.package-0.uncore": "power_detail", "power.rapl.dram.package-0": "power",
        "power.rapl.psys": "power",
    }
    assert "includes the packages" in specs["power.rapl.psys"].label
    probe.read()
    clock.now += 1.0
    for zone, _, uj in zones:
        tree.rewrite(files[zone], f"{1000 + uj}\n")
    values = probe.read()
    # every package-family channel of group power adds up to package + DRAM; detail never adds
    family = sum(v for k, v in values.items() if specs[k].group == "power" and k != "power.rapl.psys")
    assert family == pytest.approx(12.0 + 1.5)
    assert sum(v for k, v in values.items() if specs[k].group == "power_detail") == pytest.approx(9.0)


def test_laptop_battery_discharge_positive_and_charging_flagged(laptop_root: Path, tree) -> None:
    probe = PowerProbe(str(laptop_root))
    probe.channels()
    values = probe.read()
    assert values["power.battery.BAT0"] == pytest.approx(1.534 * 11.442)
    assert values["power.battery.BAT0.external"] == 0.0
    bat = laptop_root / "sys/class/power_supply/BAT0"
    tree.rewrite(bat / "status", "Charging\n")
    values = probe.read()
    assert values["power.battery.BAT0"] == pytest.approx(-1.534 * 11.442)
    assert values["power.battery.BAT0.external"] == 1.0
    tree.rewrite(bat / "status", "Full\n")
    tree.rewrite(laptop_root / "sys/class/power_supply/AC/online", "1\n")
    assert probe.read()["power.battery.BAT0.external"] == 1.0


def test_phone_battery_negative_current_is_discharge(phone_root: Path) -> None:
    probe = PowerProbe(str(phone_root))
    assert [s.key for s in probe.channels()] == ["power.battery.battery", "power.battery.battery.external"]
    assert any("powercap" in a and "intel-rapl" in a for a in probe.absences)
    values = probe.read()
    assert values["power.battery.battery"] == pytest.approx(0.412 * 3.871)
    assert values["power.battery.battery.external"] == 0.0


def test_battery_prefers_power_now_and_signs_it_from_current_or_status() -> None:
    assert normalize_battery(1_000_000, 12_000_000, "Discharging", discharge_sign=1, power_raw=8_200_000).watts == pytest.approx(8.2)
    assert normalize_battery(None, None, "Charging", power_raw=8_200_000).watts == pytest.approx(-8.2)
    assert normalize_battery(None, None, "Discharging", power_raw=8_200_000).watts == pytest.approx(8.2)
    assert normalize_battery(500_000, 4_000_000, "Charging").watts == pytest.approx(-2.0)
    # ABI sign (negative = discharging) holds under any status: a busy phone out-drawing a weak charger
    assert normalize_battery(-500_000, 4_000_000, "Charging").watts == pytest.approx(2.0)
    assert normalize_battery(500_000, None, "Discharging").watts is None


def test_unsigned_laptop_meter_learns_sign_and_reads_charging_from_status() -> None:
    meter = BatteryMeter(current_unit="uA")
    assert meter.read(1_534_000, 11_442_000, "Discharging").watts == pytest.approx(1.534 * 11.442)
    assert meter.discharge_sign == 1
    charging = meter.read(1_534_000, 11_442_000, "Charging", plugged=True)
    assert charging.watts == pytest.approx(-1.534 * 11.442) and charging.plugged
    assert meter.read(5_000, 11_442_000, "Full", plugged=True).watts == pytest.approx(0.005 * 11.442)  # µA pinned
    assert normalize_battery(0, 11_442_000, "Not charging").plugged  # charge limit reached: external power


def test_local_probe_and_adb_sampler_agree_on_a_battery(phone_root: Path) -> None:
    """Same raw current/voltage/status -> the same W on both paths (one implementation)."""
    local = PowerProbe(str(phone_root)).read()["power.battery.battery"]
    parser = SamplerLineParser()
    for line in ("H wb-sampler 1", "H bat battery", "H plug usb", "H end"):
        parser.feed(line)
    tick = parser.feed("S 1.00 b -412000 3871000 D 0")
    assert tick is not None and tick.values["power.battery"] == pytest.approx(local)
    assert tick.values["power.battery.external"] == 0.0


def test_rapl_root_only_is_reported_not_zero(tmp_path: Path, tree) -> None:
    zone = "/sys/class/powercap/intel-rapl:0"
    tree.write(tmp_path, f"{zone}/name", "package-0\n")
    tree.write(tmp_path, f"{zone}/max_energy_range_uj", "262143328850\n")
    tree.link(tmp_path, f"{zone}/energy_uj", tree.EACCES_FILE)  # kernel EACCES, as for non-root since 5.10
    probe = PowerProbe(str(tmp_path))
    assert probe.channels() == []
    reason = probe.absent_reason() or ""
    assert "root only" in reason and "5.10" in reason and "intel-rapl:0" in reason
    assert "battery:" in reason
    assert probe.read() == {}


def test_battery_without_usable_files_is_explained(tmp_path: Path, tree) -> None:
    tree.write(tmp_path, "/sys/class/power_supply/BAT1/type", "Battery\n")
    tree.write(tmp_path, "/sys/class/power_supply/BAT1/status", "Unknown\n")
    tree.write(tmp_path, "/sys/class/power_supply/BAT1/voltage_now", "12000000\n")
    probe = PowerProbe(str(tmp_path))
    assert probe.channels() == []
    assert "BAT1 has neither power_now nor current_now + voltage_now" in (probe.absent_reason() or "")


def test_unreadable_battery_current_skips_the_tick(laptop_root: Path) -> None:
    current = laptop_root / "sys/class/power_supply/BAT0/current_now"
    current.unlink()
    current.symlink_to("/proc/self/clear_refs")  # EINVAL on read, like a gauge that is asleep
    probe = PowerProbe(str(laptop_root))
    probe.channels()
    values = probe.read()
    assert "power.battery.BAT0" not in values and values["power.battery.BAT0.external"] == 0.0
