"""Run the generated sampler for real under dash, busybox sh and mksh (Android's shell) against a fake
device tree, feed its output to SamplerLineParser and check channels and values.

The fake tree changes while the script runs (a writer thread advances /proc/stat and the ODPM meter
atomically), so load and rail power come from real deltas the script observed.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from tests.adb_parsers import adbp_captures as cap
from workbench.core.adb.sampler_script import SamplerConfig, build_sampler_script
from workbench.core.adb.telemetry_lines import SamplerLineParser
from workbench.core.errors import WorkbenchError

FAKE_PID = 4242
SHELLS = {
    "dash": ["dash"],
    "busybox": ["busybox", "sh"],
    "mksh": ["mksh"],
}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)  # the script sees the old or the new file, never half of one


def _unreadable(path: Path) -> None:
    """A path whose read fails even for root: a directory (EISDIR)."""
    path.mkdir(parents=True, exist_ok=True)


def _stat_text(k: int) -> str:
    # per step: cpu0 +4 busy +4 idle (50 %), cpu1 +8 idle (0 %), cpu3 +6 busy +2 idle (75 %); cpu2 offline
    c0 = (1000 + 3 * k, 0, 500 + k, 5000 + 4 * k)
    c1 = (800, 0, 300, 7000 + 8 * k)
    c3 = (2000 + 6 * k, 0, 700, 4000 + 2 * k)
    agg = tuple(sum(x) for x in zip(c0, c1, c3))
    rows = [("cpu ", agg), ("cpu0", c0), ("cpu1", c1), ("cpu3", c3)]
    body = "".join(f"{n} {u} {ni} {s} {i} 0 0 0 0 0 0\n" for n, (u, ni, s, i) in rows)
    return body + "intr 12345 0 0 0\nctxt 999\nbtime 1700000000\n"


def _odpm_text(k: int) -> str:
    # 100 ms per step; TPU 0.5 W, modem 0.25 W, big cores 3 W (energies in µWs)
    t = 10406498 + 100 * k
    rails = [("S10M_VDD_TPU", 3330287817, 50000), ("VSYS_PWR_MODEM", 11224464399, 25000), ("S2M_VDD_CPUCL2", 40112233445, 300000)]
    lines = [f"t={t}"] + [f"CH{i}(T={t})[{name}], {e0 + per_step * k}" for i, (name, e0, per_step) in enumerate(rails)]
    return "\n".join(lines) + "\n"


def make_phone_tree(root: Path) -> Path:
    """A Pixel-like tree with a denied, a missing and a disabled file per family; returns the pid file."""
    _write(root / "proc/stat", _stat_text(0))
    _write(root / "sys/devices/system/cpu/possible", "0-3\n")
    pol = root / "sys/devices/system/cpu/cpufreq"
    _write(pol / "policy0/related_cpus", "0 1\n")
    _write(pol / "policy0/scaling_cur_freq", "1098000\n")
    _write(pol / "policy2/related_cpus", "2 3\n")
    _unreadable(pol / "policy2/scaling_cur_freq")
    _write(pol / "policy2/cpuinfo_cur_freq", "2348000\n")
    (pol / "policy9").mkdir()
    (pol / "policy9/scaling_cur_freq").symlink_to(root / "nowhere")  # vanished: skipped
    th = root / "sys/class/thermal"
    for idx, ztype, temp in [(0, "BIG", "45123"), (1, "battery", "298"), (2, "sdm-therm", "31000"), (4, "sdm-off", "0"), (5, "BIG", "40000")]:
        _write(th / f"thermal_zone{idx}/type", ztype + "\n")
        _write(th / f"thermal_zone{idx}/temp", temp + "\n")
    _write(th / "thermal_zone2/mode", "disabled\n")
    _write(th / "thermal_zone3/type", "usb_pwr_therm2\n")
    _unreadable(th / "thermal_zone3/temp")
    ps = root / "sys/class/power_supply"
    for name, kind in [("battery", "Battery"), ("usb", "USB"), ("otg", "OTG"), ("dc", "Mains")]:
        _write(ps / name / "type", kind + "\n")
    _write(ps / "battery/current_now", "-612000\n")
    _write(ps / "battery/voltage_now", "4012000\n")
    _write(ps / "battery/status", "Discharging\n")
    _write(ps / "usb/online", "0\n")
    _write(ps / "otg/online", "1\n")
    (ps / "dc/online").symlink_to(root / "nowhere")
    _write(root / "sys/bus/iio/devices/iio:device0/energy_value", _odpm_text(0))
    _write(root / "sys/bus/iio/devices/iio:device1/name", "not a meter\n")
    _write(root / f"proc/{FAKE_PID}/statm", "61234 2560 1200 10 0 3000 0\n")
    _write(root / f"proc/{FAKE_PID}/smaps_rollup", cap.SMAPS_ROLLUP)
    _write(root / "proc/self/smaps_rollup", cap.SMAPS_ROLLUP)  # the kernel has smaps_rollup (4.14+)
    pid_file = root / "data/local/tmp/workbench/run/runner.pid"
    _write(pid_file, f"{FAKE_PID}\n")
    return pid_file


def fake_dumpsys(tmp: Path) -> Path:
    """Android's dumpsys, as far as the sampler uses it: prints a captured thermalservice dump."""
    capture = tmp / "thermalservice.txt"
    capture.write_text(cap.THERMALSERVICE)
    exe = tmp / "dumpsys"
    exe.write_text(f'#!/bin/sh\n[ "$1" = thermalservice ] && cat {capture}\n')
    exe.chmod(0o755)
    return exe


def run_sampler(shell: list[str], cfg: SamplerConfig, writer=None) -> str:  # noqa: ANN001
    stop = threading.Event()
    thread = threading.Thread(target=writer, args=(stop,), daemon=True) if writer else None
    proc = subprocess.Popen([*shell, "-c", build_sampler_script(cfg)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if thread:
        thread.start()
    try:
        out, err = proc.communicate(timeout=30)
    finally:
        stop.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if thread:
            thread.join()
    assert proc.returncode == 0, err
    assert err == "", err  # every expected failure is silenced inside the script
    return out


@pytest.mark.parametrize("shell", list(SHELLS))
def test_sampler_on_fake_phone(shell: str, tmp_path: Path) -> None:
    if shutil.which(SHELLS[shell][0]) is None:
        pytest.skip(f"{SHELLS[shell][0]} is not installed (apt install {SHELLS[shell][0]})")
    root = tmp_path / "dev"
    pid_file = make_phone_tree(root)

    def writer(stop: threading.Event) -> None:
        k = 0
        while not stop.wait(0.03):
            k += 1
            _write(root / "proc/stat", _stat_text(k))
            _write(root / "sys/bus/iio/devices/iio:device0/energy_value", _odpm_text(k))

    cfg = SamplerConfig(hz=20, slow_every=5, root=str(root), pid_file=str(pid_file), dumpsys=str(fake_dumpsys(tmp_path)), max_ticks=20)
    out = run_sampler(SHELLS[shell], cfg, writer)

    parser = SamplerLineParser()
    samples = parser.feed_text(out)
    assert parser.problems == [], parser.problems
    keys = {c.key for c in parser.channels}
    assert keys == {
        "cpu.load.0", "cpu.load.1", "cpu.load.2", "cpu.load.3", "cpu.load.all",
        "cpu.freq.0", "cpu.freq.2",
        "thermal.BIG", "thermal.battery", "thermal.BIG_2",
        "power.battery", "power.battery.external", "mem.runner.rss", "mem.runner.pss", "mem.runner.uss",
        "power.rail.S10M_VDD_TPU", "power.rail.VSYS_PWR_MODEM", "power.rail.S2M_VDD_CPUCL2",
        "thermal.status", "thermal.hal.BIG", "thermal.hal.battery", "thermal.hal.VIRTUAL-SKIN", "thermal.hal.TPU",
    }
    assert parser.header.config["sleep"] == "frac"
    ticks = [s for s in samples if "cpu.freq.0" in s.values]
    assert len(ticks) == len(samples) == 20  # E and T lines are merged into ticks, never samples of their own
    assert all("thermal.BIG" in s.values for s in samples)  # so the latest sample always has temperatures
    assert all(b.t >= a.t for a, b in zip(ticks, ticks[1:]))
    first = ticks[0].values
    assert first["cpu.freq.0"] == 1098.0 and first["cpu.freq.2"] == 2348.0
    assert first["thermal.BIG"] == pytest.approx(45.123) and first["thermal.BIG_2"] == pytest.approx(40.0)
    assert first["thermal.battery"] == pytest.approx(29.8)
    assert first["power.battery"] == pytest.approx(0.612 * 4.012) and first["power.battery.external"] == 0.0
    assert first["mem.runner.rss"] == pytest.approx(2560 * parser.header.page_kb / 1024)
    # smaps_rollup every 10 ticks at 20 Hz (the default, about 0.5 s), on the tick it was read at
    assert [i for i, s in enumerate(samples) if "mem.runner.pss" in s.values] == [0, 10]
    assert first["mem.runner.pss"] == pytest.approx(150112 / 1024)
    assert first["mem.runner.uss"] == pytest.approx((29600 + 120400) / 1024)
    loads = [s.values for s in ticks if "cpu.load.0" in s.values]
    assert loads, "the writer advanced /proc/stat, so some ticks must carry load"
    for v in loads:
        assert v["cpu.load.0"] == pytest.approx(50.0)
        assert v["cpu.load.1"] == pytest.approx(0.0)
        assert v["cpu.load.3"] == pytest.approx(75.0)
        assert v["cpu.load.all"] == pytest.approx(100 * 10 / 24)
        assert "cpu.load.2" not in v  # offline core: no value, not 0 %
    status = [s.values for s in samples if "thermal.status" in s.values]
    assert status and all(v["thermal.status"] == 2.0 for v in status)
    assert status[0]["thermal.hal.VIRTUAL-SKIN"] == pytest.approx(38.4)
    rails = [s.values for s in samples if "power.rail.S10M_VDD_TPU" in s.values]
    assert rails, "two ODPM readings 5 ticks apart must give rail power"
    assert rails[0]["power.rail.S10M_VDD_TPU"] == pytest.approx(0.5)
    assert rails[0]["power.rail.VSYS_PWR_MODEM"] == pytest.approx(0.25)
    assert rails[0]["power.rail.S2M_VDD_CPUCL2"] == pytest.approx(3.0)


def test_sampler_on_board_without_sysfs(tmp_path: Path) -> None:
    """No /proc/stat, no cpufreq, no thermal, no battery, no dumpsys, no runner yet: only memory."""
    root = tmp_path / "empty"
    root.mkdir()
    cfg = SamplerConfig(hz=50, root=str(root), pid_file=str(tmp_path / "none.pid"), dumpsys="", max_ticks=5)
    parser = SamplerLineParser()
    samples = parser.feed_text(run_sampler(["dash"], cfg))
    assert [c.key for c in parser.channels] == ["mem.runner.rss"]
    assert len(samples) == 5 and all(s.values == {} for s in samples)


def test_sampler_charging_flag_and_samsung_units(tmp_path: Path) -> None:
    """Samsung-like: positive mA while discharging; a plugged USB charger sets the external flag."""
    root = tmp_path / "dev"
    ps = root / "sys/class/power_supply"
    _write(ps / "battery/type", "Battery\n")
    _write(ps / "battery/current_now", "523\n")
    _write(ps / "battery/voltage_now", "3987\n")
    _write(ps / "battery/status", "Discharging\n")
    _write(ps / "usb/type", "USB\n")
    _write(ps / "usb/online", "0\n")
    cfg = SamplerConfig(hz=20, root=str(root), pid_file=str(tmp_path / "none.pid"), dumpsys="", max_ticks=3)
    parser = SamplerLineParser()
    unplugged = parser.feed_text(run_sampler(["dash"], cfg))
    assert parser.discharge_sign == 1 and parser.current_unit is None  # learned: + means discharging
    assert unplugged[0].values["power.battery"] == pytest.approx(0.523 * 3.987)
    _write(ps / "usb/online", "1\n")
    _write(ps / "battery/status", "Charging\n")
    _write(ps / "battery/current_now", "-1210\n")
    again = SamplerLineParser(discharge_sign=parser.discharge_sign)
    plugged = again.feed_text(run_sampler(["dash"], cfg))
    assert plugged[0].values["power.battery.external"] == 1.0
    assert plugged[0].values["power.battery"] == pytest.approx(-1.210 * 3.987)


def test_sampler_rejects_unsafe_config() -> None:
    with pytest.raises(WorkbenchError, match="root"):
        build_sampler_script(SamplerConfig(root="/tmp/with space"))
    with pytest.raises(WorkbenchError, match="rate"):
        build_sampler_script(SamplerConfig(hz=0))
