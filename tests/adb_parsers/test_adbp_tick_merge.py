"""E (ODPM) and T (thermal status) lines ride on the next S tick instead of becoming samples of their own.

The lines are the sampler's real format (see sampler_script); the captured thermalservice dump is
joined with `|` the way the script's ts_read does it.
"""
from __future__ import annotations

import pytest

from tests.adb_parsers import adbp_captures as cap
from workbench.core.adb.telemetry_lines import SamplerLineParser

TS = "|".join(line.strip() for line in cap.THERMALSERVICE.splitlines()
              if line.strip().startswith(("Thermal Status:", "Current temperatures", "Temperature{mValue=4",
                                          "Temperature{mValue=29", "Temperature{mValue=38", "Temperature{mValue=36")))
HEADER = [
    "H wb-sampler 1", "H cfg period_ms=100 slow=10 therm=1 sleep=frac", "H stat", "H cpus 0-1",
    "H tz 0 45123 BIG", "H mem 4", "H odpm 0 S10M_VDD_TPU", f"H ts |{TS}", "H end",
]


def _s(t: float, k: int, temp: int) -> str:
    return f"S {t:.2f} c a:{100 + 6 * k},0,0,{1000 + 4 * k} 0:{50 + 3 * k},0,0,{500 + 2 * k} t {temp} m 100"


def _e(t: float, ms: int, uws: int) -> str:
    return f"E {t:.2f} 0 |t={ms}|CH0(T={ms})[S10M_VDD_TPU], {uws}"


def _parser() -> SamplerLineParser:
    p = SamplerLineParser()
    for line in HEADER:
        assert p.feed(line) is None
    assert p.header_complete and p.problems == []
    return p


def test_energy_and_status_lines_merge_into_the_next_tick() -> None:
    p = _parser()
    out = [p.feed(_s(10.00, 0, 45000)), p.feed(_e(10.00, 1000, 5_000_000))]
    out += [p.feed(_s(10.10, 1, 45100)), p.feed(_e(10.10, 1100, 5_050_000)), p.feed(f"T 10.00 |{TS}")]
    out += [p.feed(_s(10.20, 2, 45200)), p.feed(_s(10.30, 3, 45300))]
    assert out[1] is None and out[3] is None and out[4] is None  # E/T never make a sample of their own
    ticks = [s for s in out if s is not None]
    assert [s.t for s in ticks] == [10.0, 10.1, 10.2, 10.3]
    assert all("thermal.BIG" in s.values and "mem.runner.rss" in s.values for s in ticks)
    assert ticks[1].values["cpu.load.all"] == pytest.approx(60.0)
    assert "power.rail.S10M_VDD_TPU" not in ticks[1].values  # the first meter reading gives no power
    merged = ticks[2].values
    assert merged["power.rail.S10M_VDD_TPU"] == pytest.approx(0.5)  # 50000 µWs over 100 ms
    assert merged["thermal.status"] == 2.0 and merged["thermal.hal.VIRTUAL-SKIN"] == pytest.approx(38.4)
    assert merged["thermal.BIG"] == pytest.approx(45.2) and merged["cpu.load.0"] == pytest.approx(60.0)
    assert not any(k.startswith(("power.rail", "thermal.status", "thermal.hal")) for k in ticks[3].values)
    assert p.problems == []


def test_newer_pending_reading_wins_and_a_bad_tick_keeps_them_pending() -> None:
    p = _parser()
    p.feed(_s(1.0, 0, 45000))
    p.feed(f"T 1.00 |{TS}")
    p.feed(f"T 1.05 |{TS.replace('Thermal Status: 2', 'Thermal Status: 4')}")
    assert p.feed("S notatime c a:1,0,0,1") is None
    tick = p.feed(_s(1.1, 1, 45000))
    assert tick is not None and tick.values["thermal.status"] == 4.0
    assert len(p.problems) == 1 and "bad timestamp" in p.problems[0]
