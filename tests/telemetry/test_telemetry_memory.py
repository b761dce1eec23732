"""System memory from /proc/meminfo and the watched runner's RSS/PSS/USS from /proc/<pid>."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.core.telemetry.memory import MB, MemoryProbe, parse_meminfo, system_memory

CHILD = "import sys; block = bytearray(96 * 1024 * 1024); block[::4096] = b'x' * len(block[::4096]); " \
        "sys.stdout.write('ready\\n'); sys.stdout.flush(); sys.stdin.read()"


def test_system_memory_used_is_total_minus_available(phone_root: Path) -> None:
    probe = MemoryProbe(str(phone_root))
    values = probe.read()
    assert values["mem.system.available"] == pytest.approx(3210112 / 1024)
    assert values["mem.system.used"] == pytest.approx((7812440 - 3210112) / 1024)
    assert not any(k.startswith("mem.runner") for k in values)  # nothing watched


def test_meminfo_without_memavailable_uses_free_plus_cache() -> None:
    info = parse_meminfo("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 250 kB\n")
    assert system_memory(info)["mem.system.available"] == pytest.approx(400 * 1024 / MB)


def test_watch_real_child_reports_rss_pss_uss() -> None:
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        probe = MemoryProbe()
        keys = {s.key for s in probe.channels()}
        assert {"mem.runner.rss", "mem.system.used"} <= keys
        probe.watch_pid(child.pid)
        values = probe.read()
        assert values["mem.runner.rss"] > 90  # the 96 MB block is touched, so resident
        if "mem.runner.pss" in keys:
            assert values["mem.runner.uss"] > 90
            assert values["mem.runner.uss"] <= values["mem.runner.pss"] <= values["mem.runner.rss"] + 1
        probe.watch_pid(None)
        assert "mem.runner.rss" not in probe.read()
    finally:
        child.kill()
        child.wait()
    probe.watch_pid(child.pid)  # the process is gone: no runner values, no exception
    assert not any(k.startswith("mem.runner") for k in probe.read())


def test_denied_smaps_rollup_degrades_to_rss(phone_root: Path, tree) -> None:
    tree.write(phone_root, "/proc/4242/statm", "1545612 25600 9000 1 0 120000 0\n")
    tree.link(phone_root, "/proc/4242/smaps_rollup", tree.EACCES_FILE)  # other user's process
    tree.write(phone_root, "/proc/1/smaps_rollup", "Rss: 1 kB\n")
    probe = MemoryProbe(str(phone_root))
    assert "mem.runner.pss" in {s.key for s in probe.channels()}
    probe.watch_pid(4242)
    values = probe.read()
    assert values["mem.runner.rss"] == pytest.approx(25600 * os.sysconf("SC_PAGE_SIZE") / MB)
    assert "mem.runner.pss" not in values and probe.rollup_denied


def test_captured_smaps_rollup(phone_root: Path, tree) -> None:
    tree.write(phone_root, "/proc/77/statm", "100000 51200 300 1 0 400 0\n")
    tree.write(
        phone_root,
        "/proc/77/smaps_rollup",
        "00400000-7ffd1000 ---p 00000000 00:00 0    [rollup]\nRss:  204800 kB\nPss:  150000 kB\n"
        "Shared_Clean: 60000 kB\nPrivate_Clean: 20000 kB\nPrivate_Dirty: 110000 kB\nSwap: 0 kB\n",
    )
    probe = MemoryProbe(str(phone_root))
    probe.watch_pid(77)
    values = probe.read()
    assert values["mem.runner.pss"] == pytest.approx(150000 / 1024)
    assert values["mem.runner.uss"] == pytest.approx(130000 / 1024)


def test_pss_is_read_at_most_every_interval(phone_root: Path, tree) -> None:
    tree.write(phone_root, "/proc/77/statm", "100000 51200 300 1 0 400 0\n")
    tree.write(phone_root, "/proc/77/smaps_rollup", "Rss: 204800 kB\nPss: 150000 kB\nPrivate_Dirty: 100 kB\n")
    now = [50.0]
    probe = MemoryProbe(str(phone_root), pss_interval_s=0.2, clock=lambda: now[0])
    probe.watch_pid(77)
    assert "mem.runner.pss" in probe.read()
    now[0] += 0.1
    values = probe.read()
    assert "mem.runner.rss" in values and "mem.runner.pss" not in values  # missing, not a stale repeat
    now[0] += 0.1
    assert "mem.runner.pss" in probe.read()


def test_exited_runner_is_no_reading_not_zero_mb() -> None:
    """Between exit and reaping, /proc/PID/statm of a zombie reads all zeros: that must not chart as 0 MB."""
    import subprocess
    import sys
    import time

    from workbench.core.telemetry.memory import MemoryProbe

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    probe = MemoryProbe()
    probe.watch_pid(child.pid)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # wait until it is a zombie (exited, not reaped: we do not wait())
        with open(f"/proc/{child.pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                break
        time.sleep(0.01)
    assert "mem.runner.rss" not in probe.read()
    child.wait()
