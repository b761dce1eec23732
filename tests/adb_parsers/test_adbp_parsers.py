"""Android text parsers on captured-style text: values, vendor quirks, and the problems they report."""
from __future__ import annotations

import pytest

from tests.adb_parsers import adbp_captures as cap
from workbench.core.adb import android_parsers as ap


def test_getprop_pixel_identity_and_multiline_value() -> None:
    props = ap.parse_getprop(cap.GETPROP_PIXEL)
    assert props.problems == []
    assert props.values["persist.sys.boot.reason.history"].count("\n") == 2
    assert props.values["ro.product.cpu.abilist32"] == ""
    ident = ap.android_identity(props)
    assert (ident.model, ident.manufacturer, ident.soc) == ("Pixel 7", "Google", "Google GS201")
    assert ident.abis == ["arm64-v8a"]
    assert (ident.release, ident.sdk) == ("14", 34)


def test_getprop_soc_fallbacks() -> None:
    samsung = ap.android_identity(ap.parse_getprop(cap.GETPROP_SAMSUNG))
    assert samsung.soc == "QTI SM8550"
    assert samsung.abis == ["arm64-v8a", "armeabi-v7a", "armeabi"]
    old = ap.android_identity(ap.parse_getprop(cap.GETPROP_OLD_MEDIATEK))
    assert old.soc == "mt6765" and old.sdk == 28 and old.release == "9"


def test_getprop_garbage_and_unclosed_value() -> None:
    props = ap.parse_getprop("[ro.product.model]: [Pixel\nno closing bracket\n")
    assert props.values["ro.product.model"].startswith("Pixel")
    assert any("not closed" in p for p in props.problems)
    ident = ap.android_identity(ap.parse_getprop("hello\n[ro.build.version.sdk]: [abc]\n"))
    assert ident.sdk is None and ident.model is None
    assert any("sdk is not a number" in p for p in ident.problems)


def test_proc_stat_load_handles_hotplug() -> None:
    a, b = ap.parse_proc_stat(cap.PROC_STAT_A), ap.parse_proc_stat(cap.PROC_STAT_B)
    assert a.problems == [] and set(a.cpus) == {"cpu", "cpu0", "cpu1", "cpu2", "cpu4"}
    load = ap.cpu_load(a.cpus, b.cpus)
    assert load["cpu0"] == pytest.approx(75.0)
    assert load["cpu1"] == pytest.approx(0.0)
    assert load["cpu4"] == pytest.approx(50.0)
    assert "cpu2" not in load and "cpu3" not in load  # unplugged / freshly plugged: no delta
    assert load["cpu"] == pytest.approx(250 / 450 * 100)


def test_proc_stat_counter_reset_is_skipped() -> None:
    a = ap.parse_proc_stat("cpu0 100 0 100 1000\n").cpus
    b = ap.parse_proc_stat("cpu0 5 0 5 50\n").cpus
    assert ap.cpu_load(a, b) == {}
    assert ap.parse_proc_stat("cat: /proc/stat: Permission denied").problems == ["/proc/stat: Permission denied"]


def test_cpufreq_dump_with_denied_and_missing_files() -> None:
    cf = ap.parse_cpufreq_dump(cap.CPUFREQ_PIXEL)
    assert [p.name for p in cf.policies] == ["policy0", "policy4", "policy6"]
    p0, p4, p6 = cf.policies
    assert p0.cpus == [0, 1, 2, 3] and p0.cur_khz == 1098000 and p0.governor == "sched_pixel"
    assert p0.available_khz[0] == 300000 and p0.available_khz[-1] == 1803000
    assert (p0.hw_min_khz, p0.hw_max_khz) == (300000, 1803000)
    assert set(p0.unreadable) == {"cpuinfo_cur_freq", "stats"}
    assert p4.cpus == [4, 5] and p4.cur_khz == 2348000 and p4.min_khz == 400000
    assert p6.cpus == [6, 7] and p6.cur_khz == 2850000  # scaling_cur_freq missing: cpuinfo_cur_freq used
    assert p6.governor is None and "scaling_governor" in p6.unreadable
    assert any("Permission denied" in p for p in cf.problems)
    assert any("No such file or directory" in p for p in cf.problems)


def test_thermal_zones_scales_and_invalid_values() -> None:
    tz = ap.parse_thermal_dump(cap.THERMAL_PIXEL)
    by_type = {z.type: z for z in tz.zones}
    assert by_type["BIG"].temp_c == pytest.approx(45.123)
    assert by_type["battery"].temp_c == pytest.approx(29.8)  # decidegrees
    assert by_type["pm8350b_tz"].temp_c == pytest.approx(-2.5)
    assert by_type["usb_pwr_therm2"].error == "Permission denied" and not by_type["usb_pwr_therm2"].valid
    assert by_type["cpuss-0-usr"].error == "Invalid argument"
    assert by_type["sdm-therm"].mode == "disabled" and not by_type["sdm-therm"].valid
    assert by_type["soc"].temp_c is None  # -273 C: unconnected sensor
    assert [z.index for z in tz.zones] == list(range(8))


def test_power_pixel_negative_means_discharging() -> None:
    ps = ap.parse_power_supply_dump(cap.POWER_PIXEL_DISCHARGING)
    assert ps.battery == "battery" and ps.plugged == []
    assert "online" in ps.supplies["dc"].unreadable
    bp = ps.battery_power()
    assert bp is not None and bp.current_unit == "uA" and bp.discharge_sign == -1
    assert bp.watts == pytest.approx(0.612 * 4.012)
    assert not bp.plugged


def test_power_samsung_positive_ma_and_mv() -> None:
    ps = ap.parse_power_supply_dump(cap.POWER_SAMSUNG_DISCHARGING)
    assert ps.plugged == []  # an online OTG port powers an accessory, it is no charger
    bp = ps.battery_power()
    assert bp is not None and bp.current_unit == "mA" and bp.discharge_sign == 1
    assert bp.watts == pytest.approx(0.523 * 3.987)


def test_power_samsung_plugged_is_flagged_and_keeps_learned_sign() -> None:
    ps = ap.parse_power_supply_dump(cap.POWER_SAMSUNG_CHARGING)
    assert ps.plugged == ["usb"]
    bp = ps.battery_power(discharge_sign=1)  # learned from an earlier Discharging reading
    assert bp is not None and bp.plugged
    assert bp.watts == pytest.approx(-1.210 * 4.105)  # net charging: negative
    assert any("plugged in" in p for p in bp.problems)


def test_power_linux_board_without_battery() -> None:
    ps = ap.parse_power_supply_dump(cap.POWER_LINUX_BOARD)
    assert ps.battery is None and ps.battery_power() is None
    assert any("no battery" in p for p in ps.problems)


def test_battery_normalization_units() -> None:
    assert ap.current_unit_for(-612000) == "uA" and ap.current_unit_for(523) == "mA"
    assert ap.voltage_volts(4012000) == pytest.approx(4.012)
    assert ap.voltage_volts(3987) == pytest.approx(3.987)
    assert ap.voltage_volts(4) == 4.0
    bp = ap.normalize_battery(None, 4000000)
    assert bp.watts is None and "battery current unreadable" in bp.problems
    assert ap.normalize_battery(500, 1).voltage_v is None  # 1 V is no battery voltage
    assert ap.infer_discharge_sign(-500, "Charging") is None  # only Discharging is trusted


def test_proc_memory() -> None:
    st = ap.parse_proc_status(cap.PROC_STATUS_RUNNER)
    assert (st.name, st.pid, st.vm_rss_kb, st.vm_hwm_kb) == ("onnxruntime_pe", 12345, 171024, 188412)
    assert st.problems == []
    sm = ap.parse_smaps_rollup(cap.SMAPS_ROLLUP)
    assert (sm.rss_kb, sm.pss_kb, sm.uss_kb) == (171024, 150112, 29600 + 120400)
    denied = ap.parse_smaps_rollup(cap.SMAPS_DENIED, "/proc/1021/smaps_rollup")
    assert denied.rss_kb is None and denied.problems == ["/proc/1021/smaps_rollup: Permission denied"]
    gone = ap.parse_proc_status("cat: /proc/999/status: No such file or directory\n")
    assert gone.vm_rss_kb is None and "No such file or directory" in gone.problems[0]


def test_dumpsys_thermalservice() -> None:
    ts = ap.parse_thermalservice(cap.THERMALSERVICE)
    assert ts.status == 2 and ts.status_name == "moderate" and ts.status_override is False
    assert [t.name for t in ts.temperatures] == ["BIG", "battery", "VIRTUAL-SKIN", "TPU"]
    assert ts.temperatures[2].value_c == pytest.approx(38.4) and ts.temperatures[2].type_name == "skin"
    assert ts.temperatures[3].type_name == "tpu"
    assert len(ts.cached) == 2
    old = ap.parse_thermalservice("Can't find service: thermalservice\n")
    assert old.status is None and old.problems


def test_dumpsys_battery() -> None:
    b = ap.parse_dumpsys_battery(cap.DUMPSYS_BATTERY)
    assert (b.level, b.status, b.plugged) == (87, "Charging", ["usb"])
    assert b.temperature_c == pytest.approx(28.5) and b.voltage_v == pytest.approx(4.281)
    assert b.charge_counter_uah == 3845000 and b.current_now_raw is None


def test_odpm_rails_power() -> None:
    a, b = ap.parse_odpm(cap.ODPM_0), ap.parse_odpm(cap.ODPM_1)
    assert a.t_ms == 10406498 and a.problems == []
    assert a.rails["S10M_VDD_TPU"].channel == 0
    w = ap.rail_power_w(a, b)
    assert w["S10M_VDD_TPU"] == pytest.approx(0.5)
    assert w["VSYS_PWR_MODEM"] == pytest.approx(0.25)
    assert w["S2M_VDD_CPUCL2"] == pytest.approx(3.0)
    assert ap.rail_power_w(b, a) == {}  # time going backwards: no value
    bad = ap.parse_odpm("t=abc\nCH0 garbage\n")
    assert bad.rails == {} and len(bad.problems) == 3


def test_perf_test_summaries() -> None:
    s = ap.parse_perf_test(cap.PERF_TEST_ORT_1_17)
    assert s.session_creation_ms == pytest.approx(18.3481)
    assert s.first_inference_ms == pytest.approx(2.0)
    assert s.requests == 10000 and s.average_ms == pytest.approx(0.940745)
    assert s.p50_ms == pytest.approx(0.9458) and s.p99_ms == pytest.approx(1.2057)
    assert s.percentiles_ms["p999"] == pytest.approx(1.36)
    assert s.peak_working_set_bytes == 50905088 and s.cpu_usage_pct == 74
    assert s.problems == []
    a = ap.parse_perf_test(cap.PERF_TEST_ANDROID)
    assert a.cpu_usage_pct == 382 and a.requests == 100 and a.max_ms == pytest.approx(91.2857)
    failed = ap.parse_perf_test("onnxruntime_perf_test: model.onnx: No such file\n")
    assert failed.average_ms is None and failed.problems
