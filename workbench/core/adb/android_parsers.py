"""One import point for every Android text parser (each lives in a small module with one job).

All parsers take captured text, never raise on garbage, and return typed dataclasses that carry a
`problems` list (one line each, naming the file or command) next to whatever could be read.
"""
from __future__ import annotations

from workbench.core.adb.android_dumpsys import (
    BATTERY_STATUS,
    THERMAL_STATUS_NAMES,
    DumpsysBattery,
    HalTemperature,
    ThermalService,
    parse_dumpsys_battery,
    parse_temperature,
    parse_thermalservice,
)
from workbench.core.adb.android_perftest import PerfTestSummary, parse_perf_test
from workbench.core.adb.android_power import (
    BatteryPower,
    OdpmReading,
    PowerSupplies,
    PowerSupply,
    RailEnergy,
    current_unit_for,
    infer_discharge_sign,
    normalize_battery,
    parse_odpm,
    parse_power_supply_dump,
    parse_uevent,
    rail_power_w,
    voltage_volts,
)
from workbench.core.adb.android_proc import (
    CpuJiffies,
    ProcStat,
    ProcStatus,
    SmapsRollup,
    cpu_load,
    parse_proc_stat,
    parse_proc_status,
    parse_smaps_rollup,
)
from workbench.core.adb.android_props import AndroidIdentity, GetProp, android_identity, parse_getprop
from workbench.core.adb.android_sysfs import (
    Cpufreq,
    CpufreqPolicy,
    ThermalZone,
    ThermalZones,
    parse_cpu_list,
    parse_cpufreq_dump,
    parse_thermal_dump,
    thermal_celsius,
)
from workbench.core.adb.android_text import FileValue, error_reason, parse_path_dump

__all__ = [
    "AndroidIdentity", "BATTERY_STATUS", "BatteryPower", "CpuJiffies", "Cpufreq", "CpufreqPolicy",
    "DumpsysBattery", "FileValue", "GetProp", "HalTemperature", "OdpmReading", "PerfTestSummary",
    "PowerSupplies", "PowerSupply", "ProcStat", "ProcStatus", "RailEnergy", "SmapsRollup",
    "THERMAL_STATUS_NAMES", "ThermalService", "ThermalZone", "ThermalZones", "android_identity",
    "cpu_load", "current_unit_for", "error_reason", "infer_discharge_sign", "normalize_battery",
    "parse_cpu_list", "parse_cpufreq_dump", "parse_dumpsys_battery", "parse_getprop", "parse_odpm",
    "parse_path_dump", "parse_perf_test", "parse_power_supply_dump", "parse_proc_stat",
    "parse_proc_status", "parse_smaps_rollup", "parse_temperature", "parse_thermal_dump",
    "parse_thermalservice", "parse_uevent", "rail_power_w", "thermal_celsius", "voltage_volts",
]
