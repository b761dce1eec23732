"""The live model queues events from any thread and hands the GUI only what changed."""
from __future__ import annotations

import threading

import numpy as np

from workbench.core.events import ChannelsKnown, Iteration, RunStarted, SampleEvent
from workbench.core.types import ChannelSpec, IterationEvent, Sample
from workbench.core.viewmodels.live import P50_KEY, P90_KEY, LiveRunModel

CHANNELS = [
    ChannelSpec("cpu.load.0", "%", "cpu_load", "cpu0"),
    ChannelSpec("cpu.load.1", "%", "cpu_load", "cpu1"),
    ChannelSpec("mem.runner.rss", "MB", "memory", "runner rss"),
]


def _start(model: LiveRunModel, t0: float = 100.0) -> None:
    model.handle(RunStarted(7, "local", "m.onnx", t0))
    model.handle(ChannelsKnown(7, CHANNELS))


def test_nothing_reaches_rings_until_drain_and_times_are_relative() -> None:
    m = LiveRunModel(capacity=100)
    _start(m)
    m.handle(SampleEvent(7, Sample(100.5, {"cpu.load.0": 10.0, "cpu.load.1": 20.0})))
    assert len(m.telemetry) == 0
    r = m.drain()
    assert r.reset and r.channels_changed and r.samples == 1
    assert m.telemetry.times().tolist() == [0.5]
    assert not m.drain().changed


def test_absent_groups_are_not_charted() -> None:
    m = LiveRunModel()
    _start(m)
    m.drain()
    assert [g for g, _ in m.groups()] == ["latency", "cpu_load", "memory_runner"]


def test_rolling_percentiles_only_over_measured_iterations() -> None:
    m = LiveRunModel(rolling=4)
    _start(m, t0=0.0)
    m.handle(Iteration(7, IterationEvent(0, "warmup", 0.0, 500.0)))
    m.handle(Iteration(7, IterationEvent(0, "profile-warmup", 0.0, 400.0)))  # ort runner's phase name
    m.handle(Iteration(7, IterationEvent(1, "profiled", 0.0, 9.0)))
    for k, lat in enumerate([10.0, 20.0, 30.0, 40.0, 50.0]):
        m.handle(Iteration(7, IterationEvent(k, "measure", 1.0 + k, lat)))
    m.drain()
    p50 = m.latency["measure"].column(P50_KEY)
    assert len(m.latency["warmup"]) == 2 and len(m.latency["profiled"]) == 1 and len(p50) == 5  # warmup is not in the percentiles
    assert p50[-1] == np.percentile([20, 30, 40, 50], 50)
    assert m.latency["measure"].column(P90_KEY)[-1] == np.percentile([20, 30, 40, 50], 90)
    lo, hi = m.y_range(m.groups()[0][1], 0.0)
    assert lo < 10.0 and hi > 500.0  # warmup outlier is within the range


def test_handle_from_many_threads_loses_nothing() -> None:
    m = LiveRunModel(capacity=10_000)
    _start(m, t0=0.0)
    m.drain()

    def feed(offset: int) -> None:
        for k in range(500):
            m.handle(SampleEvent(7, Sample(offset + k * 1e-3, {"cpu.load.0": 1.0})))

    threads = [threading.Thread(target=feed, args=(i,)) for i in range(4)]
    for th in threads:
        th.start()
    drained = 0
    while any(th.is_alive() for th in threads):
        drained += m.drain().samples
    for th in threads:
        th.join()
    drained += m.drain().samples
    assert drained == 2000 and len(m.telemetry) == 2000


def test_new_run_resets_and_readout() -> None:
    m = LiveRunModel()
    _start(m, t0=0.0)
    m.handle(SampleEvent(7, Sample(1.0, {"cpu.load.0": 5.0, "mem.runner.rss": 120.0})))
    m.drain()
    out = m.readout(CHANNELS, 1.1)
    assert ("cpu0", 5.0, "%") in out and ("runner rss", 120.0, "MB") in out
    assert all(label != "cpu1" for label, _, _ in out)  # NaN this tick -> not shown
    m.handle(RunStarted(8, "local", "m.onnx", 50.0))
    r = m.drain()
    assert r.reset and len(m.telemetry) == 0 and m.groups() == m.groups()[:1]


def test_slow_channels_hold_their_newest_reading_live_and_when_reopened() -> None:
    """A thermal-HAL temperature arrives on one tick in three: it must draw as a line, not lone points."""
    specs = CHANNELS + [ChannelSpec("thermal.hal.skin", "C", "thermal", "skin")]
    m = LiveRunModel(capacity=100)
    m.handle(RunStarted(7, "local", "m.onnx", 0.0))
    m.handle(ChannelsKnown(7, specs))
    for i in range(7):
        values = {"cpu.load.0": float(i)}
        if i % 3 == 1:
            values["thermal.hal.skin"] = 30.0 + i
        m.handle(SampleEvent(7, Sample(float(i), values)))
    m.drain()
    live = m.telemetry.column("thermal.hal.skin").tolist()
    assert np.isnan(live[0]) and live[1:] == [31.0, 31.0, 31.0, 34.0, 34.0, 34.0]

    stored = np.array([np.nan, 31.0, np.nan, np.nan, 34.0, np.nan, np.nan])
    m.load(specs, np.arange(7.0), {"thermal.hal.skin": stored, "cpu.load.0": np.arange(7.0)}, [])
    reopened = m.telemetry.column("thermal.hal.skin").tolist()
    assert np.isnan(reopened[0]) and reopened[1:] == live[1:]
