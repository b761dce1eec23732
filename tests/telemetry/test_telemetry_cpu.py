"""CPU load from /proc/stat deltas and CPU frequency from cpufreq policies (or an honest absence)."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from workbench.core.telemetry.cpu_freq import CpuFreqProbe, parse_cpuinfo_mhz
from workbench.core.telemetry.cpu_load import CpuLoadProbe
from workbench.core.telemetry.procstat import CpuTimes, busy_percent, parse_cpu_lines, parse_proc_stat


def test_parse_proc_stat_counts_iowait_as_idle_and_skips_guest() -> None:
    snap = parse_proc_stat("cpu  100 10 50 1000 40 5 5 2 30 7\ncpu0 1 2 3 4\nintr 5 6\ncpufreq x\n")
    # guest (30) and guest_nice (7) are inside user/nice already; iowait joins idle.
    assert snap["cpu"] == CpuTimes(100, 10, 50, 1000, 40, 5, 5, 2)
    assert (snap["cpu"].busy, snap["cpu"].idle_all) == (100 + 10 + 50 + 5 + 5 + 2, 1000 + 40)
    assert snap["cpu0"] == CpuTimes(1, 2, 3, 4)  # old kernels print only 4 fields
    assert set(snap) == {"cpu", "cpu0"}


def test_parse_cpu_lines_names_short_lines() -> None:
    snap, problems = parse_cpu_lines("cpu0 1 2 3 4\ncpu1 7 8\ncpu2 1 2 ² 4\n")
    assert set(snap) == {"cpu0"}
    assert problems == ["/proc/stat line 2: fewer than 4 counters: cpu1 7 8",
                        "/proc/stat line 3: fewer than 4 counters: cpu2 1 2 ² 4"]


def test_busy_percent_from_deltas_and_counter_reset() -> None:
    a, b = CpuTimes(1000, 0, 0, 9000), CpuTimes(1030, 0, 0, 9070)
    assert busy_percent(a, b) == pytest.approx(30.0)
    assert busy_percent(a, a) is None  # no time passed
    assert busy_percent(b, a) is None  # counters went backwards (hotplug reset)
    # iowait going backwards (NO_HZ kernels) is no figure, not a clamped 100 %
    assert busy_percent(CpuTimes(100, 0, 0, 900, 50), CpuTimes(110, 0, 0, 905, 40)) is None


def test_cpu_load_probe_on_captured_file(phone_root: Path, tree) -> None:
    probe = CpuLoadProbe(str(phone_root))
    keys = [c.key for c in probe.channels()]
    assert keys == [f"cpu.load.{i}" for i in range(8)] + ["cpu.load.all"]
    assert all(c.unit == "%" and c.group == "cpu_load" for c in probe.channels())
    assert probe.read() == {}  # first tick has nothing to difference against
    stat = phone_root / "proc/stat"
    # cpu0: +75 busy (user), +25 idle -> 75 %; all: +300 busy +700 idle -> 30 %; other cores unchanged
    tree.rewrite(stat, tree.proc_stat(u=7300, i=560700, u0=1575, i0=68025))
    values = probe.read()
    assert values["cpu.load.0"] == pytest.approx(75.0)
    assert values["cpu.load.all"] == pytest.approx(30.0)
    assert "cpu.load.1" not in values  # no jiffies elapsed on cpu1 in the capture: no figure, not 0


def test_cpu_load_probe_absent_without_proc_stat(tmp_path: Path) -> None:
    probe = CpuLoadProbe(str(tmp_path))
    assert probe.channels() == []
    assert str(tmp_path / "proc/stat") in (probe.absent_reason() or "")
    assert probe.read() == {}


def test_cpu_load_probe_real_machine() -> None:
    """While a thread of ours spins, the kernel must count some of the interval as busy."""
    probe = CpuLoadProbe()
    assert len(probe.channels()) == os.cpu_count() + 1
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            pass

    busy = threading.Thread(target=spin, daemon=True)
    probe.read()
    busy.start()
    try:
        stop.wait(0.3)  # ~30 jiffies of at least one fully busy core
        values = probe.read()
    finally:
        stop.set()
        busy.join()
    assert "cpu.load.all" in values
    assert 0.0 < values["cpu.load.all"] <= 100.0
    assert max(v for k, v in values.items() if k != "cpu.load.all") > 0.0


def test_cpu_freq_two_policies(phone_root: Path, tree) -> None:
    probe = CpuFreqProbe(str(phone_root))
    specs = probe.channels()
    assert [s.key for s in specs] == ["cpu.freq.0", "cpu.freq.4"]
    assert specs[1].label == "policy4 (cpus 4 5 6 7)" and specs[1].unit == "MHz"
    assert probe.absent_reason() is None
    assert probe.read() == {"cpu.freq.0": pytest.approx(1209.6), "cpu.freq.4": pytest.approx(2419.2)}
    tree.rewrite(phone_root / "sys/devices/system/cpu/cpufreq/policy4/scaling_cur_freq", "1056000\n")
    assert probe.read()["cpu.freq.4"] == pytest.approx(1056.0)


def test_cpu_freq_per_cpu_fallback_without_policy_dirs(tmp_path: Path, tree) -> None:
    for cpu, khz in ((0, 1800000), (1, 2200000)):
        tree.write(tmp_path, f"/sys/devices/system/cpu/cpu{cpu}/cpufreq/scaling_cur_freq", f"{khz}\n")
    probe = CpuFreqProbe(str(tmp_path))
    assert [s.key for s in probe.channels()] == ["cpu.freq.0", "cpu.freq.1"]
    assert probe.read() == {"cpu.freq.0": 1800.0, "cpu.freq.1": 2200.0}


def test_cpu_freq_absent_with_constant_cpuinfo_says_why(tmp_path: Path, tree) -> None:
    tree.write(tmp_path, "/proc/cpuinfo", "processor\t: 0\ncpu MHz\t\t: 2596.132\n\nprocessor\t: 1\ncpu MHz\t\t: 2596.132\n")
    (tmp_path / "sys/devices/system/cpu/cpufreq").mkdir(parents=True)
    probe = CpuFreqProbe(str(tmp_path), cpuinfo_recheck_s=0.001)
    assert probe.channels() == []
    reason = probe.absent_reason() or ""
    assert "cpufreq" in reason and "has no policy*" in reason and "constant 2596" in reason
    assert probe.read() == {}


def test_cpu_freq_cpuinfo_channels_when_measured(laptop_root: Path) -> None:
    probe = CpuFreqProbe(str(laptop_root))  # no cpufreq dirs, but cores disagree: measured values
    specs = probe.channels()
    assert [s.key for s in specs] == [f"cpu.freq.cpuinfo.{i}" for i in range(4)]
    assert "cpuinfo" in specs[0].label
    assert probe.read()["cpu.freq.cpuinfo.2"] == pytest.approx(4089.902)


def test_cpu_freq_on_this_machine_is_real_or_explained() -> None:
    probe = CpuFreqProbe()
    if probe.channels():
        assert all(v > 0 for v in probe.read().values())
    else:
        assert "/sys/devices/system/cpu/cpufreq" in (probe.absent_reason() or "")


def test_parse_cpuinfo_mhz_ignores_junk() -> None:
    text = "processor : 0\ncpu MHz : 1200.5\nprocessor : x\ncpu MHz : nan\nprocessor : 3\ncpu MHz : fast\n"
    assert parse_cpuinfo_mhz(text) == {0: 1200.5}
