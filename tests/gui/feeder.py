"""A small real event source for GUI tests: psutil readings and timed numpy work, as core events.

Test-only. It produces the same event objects `run_benchmark` emits, from a worker thread, so the
charts and the bridge are exercised exactly as in a run, at whatever (accelerated) rate a test wants.
"""
from __future__ import annotations

import threading
import time

import numpy as np
import psutil

from workbench.core.events import ChannelsKnown, Emit, Iteration, RunStarted, SampleEvent
from workbench.core.types import ChannelSpec, IterationEvent, Sample


def channels(n_cores: int = 8) -> list[ChannelSpec]:
    """16 series: n cores of load, 2 freq policies, 2 temps, power, 3 memory (thermal etc. are synthetic
    keys filled from psutil values, because this VM has no thermal zones)."""
    specs = [ChannelSpec(f"cpu.load.{i}", "%", "cpu_load", f"cpu{i}") for i in range(n_cores)]
    specs += [ChannelSpec(f"cpu.freq.{p}", "MHz", "cpu_freq", f"policy{p}") for p in (0, 4)]
    specs += [ChannelSpec(f"thermal.{z}", "C", "thermal", z) for z in ("soc", "battery")]
    specs += [ChannelSpec("power.total", "W", "power", "total")]
    specs += [ChannelSpec(k, "MB", "memory", k.split(".", 1)[1]) for k in ("mem.runner_rss", "mem.system_used",
                                                                             "mem.system_avail")]
    return specs


def sample_values(t: float, n_cores: int = 8) -> dict[str, float]:
    """One tick built from real psutil readings (spread over fake cores/zones for series count)."""
    load = psutil.cpu_percent(percpu=True) or [0.0]
    vm = psutil.virtual_memory()
    rss = psutil.Process().memory_info().rss / 2**20
    v = {f"cpu.load.{i}": float(load[i % len(load)]) + (i * 3 % 7) for i in range(n_cores)}
    v["cpu.freq.0"] = 1800.0 + 200 * np.sin(t)
    v["cpu.freq.4"] = 2400.0 + 300 * np.cos(t)
    v["thermal.soc"] = 40.0 + v["cpu.load.0"] / 10
    v["thermal.battery"] = 31.0 + v["cpu.load.1"] / 40
    v["power.total"] = 1.0 + sum(load) / 100
    v["mem.runner_rss"] = rss
    v["mem.system_used"] = vm.used / 2**20
    v["mem.system_avail"] = vm.available / 2**20
    return v


def feed(emit: Emit, *, samples: int, t_step: float = 0.1, iterations_per_sample: int = 1,
         run_id: int = 1, sleep: float = 0.0, stop: threading.Event | None = None) -> None:
    """Emit RunStarted, ChannelsKnown, then `samples` ticks spaced `t_step` (device) seconds apart,
    each followed by timed matmul iterations. `sleep` is wall time between ticks (0 = flat out)."""
    t0 = 1000.0
    emit(RunStarted(run_id, "local", "feeder.onnx", t0))
    emit(ChannelsKnown(run_id, channels()))
    a = np.random.default_rng(0).standard_normal((48, 48))
    index = 0
    for k in range(samples):
        if stop is not None and stop.is_set():
            return
        t = t0 + k * t_step
        if k % 20 == 0:  # psutil reads are real but not free: refresh them every 20 ticks
            values = sample_values(t)
        emit(SampleEvent(run_id, Sample(t, dict(values))))
        for j in range(iterations_per_sample):
            start = time.perf_counter()
            a = np.tanh(a @ a.T / 48)
            lat = (time.perf_counter() - start) * 1000
            phase = "warmup" if index < 3 else "measure"
            emit(Iteration(run_id, IterationEvent(index, phase, t + j * t_step / iterations_per_sample, lat)))
            index += 1
        if sleep:
            time.sleep(sleep)


def start_feeder(emit: Emit, **kw: object) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    th = threading.Thread(target=feed, args=(emit,), kwargs={**kw, "stop": stop}, daemon=True)
    th.start()
    return th, stop
