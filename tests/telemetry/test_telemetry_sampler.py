"""ProbeSampler: tick scheduling and skipping on a fake clock (deterministic), then the real thread
on the real machine (samples arrive, timestamps, stop/join) with no assert on how many per second."""
from __future__ import annotations

import os
import threading
import time

import pytest

from workbench.core.telemetry.local_probes import local_probes
from workbench.core.telemetry.probe import Probe
from workbench.core.telemetry.sampler import ProbeSampler, next_tick
from workbench.core.types import ChannelSpec, Sample


class FakeClock:
    """Time that only moves when the sampler waits or a probe stalls: scheduling becomes exact."""

    def __init__(self, now: float = 100.0, stop_after_waits: int = 10) -> None:
        self.now = now
        self.waits: list[float] = []
        self.stop_after_waits = stop_after_waits

    def __call__(self) -> float:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        self.now += seconds
        return len(self.waits) >= self.stop_after_waits


class Counter(Probe):
    """A real probe of the one thing every machine has: how many times it was read. `stall` maps a
    read number to seconds that read takes on the fake clock."""

    id = "counter"

    def __init__(self, clock: FakeClock | None = None, stall: dict[int, float] | None = None) -> None:
        self.n = 0
        self.clock, self.stall = clock, stall or {}

    def channels(self) -> list[ChannelSpec]:
        return [ChannelSpec("test.reads", "", "test")]

    def read(self) -> dict[str, float]:
        self.n += 1
        if self.clock is not None:
            self.clock.now += self.stall.get(self.n, 0.0)
        return {"test.reads": float(self.n)}


class BrokenAfter(Probe):
    """Raises from its third read on, like a probe whose device node vanished mid-run."""

    id = "broken"

    def __init__(self) -> None:
        self.n = 0

    def channels(self) -> list[ChannelSpec]:
        return [ChannelSpec("test.broken", "", "test")]

    def read(self) -> dict[str, float]:
        self.n += 1
        if self.n >= 3:
            raise RuntimeError("sensor went away")
        return {"test.broken": 1.0}


def test_next_tick_skips_missed_deadlines_without_bursting() -> None:
    p = 0.1
    assert next_tick(5, 0.41, 0.0, p) == 5  # on time: wait for deadline 5
    assert next_tick(5, 0.52, 0.0, p) == 5  # 0.2 period late: fire tick 5 now
    assert next_tick(5, 0.57, 0.0, p) == 6  # 0.7 period late: skip 5, wait for 6
    assert next_tick(5, 1.23, 0.0, p) == 12  # long stall: skip to the nearest deadline, no burst


def _run(sampler: ProbeSampler) -> list[Sample]:
    got: list[Sample] = []
    sampler.run(got.append)
    return got


def test_ticks_on_fixed_deadlines() -> None:
    clock = FakeClock(stop_after_waits=5)
    sampler = ProbeSampler([Counter(clock, stall={2: 0.03})], 10.0, clock=clock, wait=clock.wait)
    samples = _run(sampler)
    assert [round(s.t - 100.0, 6) for s in samples] == [0.0, 0.1, 0.2, 0.3, 0.4]
    assert [s.values["test.reads"] for s in samples] == [1.0, 2.0, 3.0, 4.0, 5.0]
    # a slow read shortens the next wait instead of shifting every later tick (no drift)
    assert clock.waits == pytest.approx([0.1, 0.07, 0.1, 0.1, 0.1])
    assert sampler.stats.ticks == 5 and sampler.stats.skipped == 0
    assert (sampler.stats.first_t, sampler.stats.last_t) == (samples[0].t, samples[-1].t)


def test_stall_skips_ticks_instead_of_bursting() -> None:
    clock = FakeClock(stop_after_waits=4)
    # read 2 (tick at 0.1) takes 0.32 s at 10 Hz: deadlines 0.2 and 0.3 are skipped, 0.4 is 0.02 late
    # (under half a period) so it fires at once; no burst of catch-up ticks, no shift of the grid
    sampler = ProbeSampler([Counter(clock, stall={2: 0.32})], 10.0, clock=clock, wait=clock.wait)
    samples = _run(sampler)
    assert [round(s.t - 100.0, 6) for s in samples] == [0.0, 0.1, 0.42, 0.5]
    assert sampler.stats.skipped == 2
    assert clock.waits[1] == 0.0
    # 0.37 s instead: 0.4 is 0.07 late (over half a period) and is skipped too; the tick waits for 0.5
    clock = FakeClock(stop_after_waits=3)
    sampler = ProbeSampler([Counter(clock, stall={2: 0.37})], 10.0, clock=clock, wait=clock.wait)
    assert [round(s.t - 100.0, 6) for s in _run(sampler)] == [0.0, 0.1, 0.5]
    assert sampler.stats.skipped == 3


def test_raising_probe_is_disabled_and_others_continue(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock(stop_after_waits=6)
    counter, broken = Counter(), BrokenAfter()
    sampler = ProbeSampler([broken, counter], 100, clock=clock, wait=clock.wait)
    samples = _run(sampler)
    assert "sensor went away" in sampler.disabled["broken"]
    assert "telemetry probe broken disabled" in caplog.text and "sensor went away" in caplog.text
    assert broken.n == 3  # never read again after raising
    assert [("test.broken" in s.values) for s in samples] == [True, True, False, False, False, False]
    assert [s.values["test.reads"] for s in samples] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


def test_failing_consumer_does_not_stop_sampling() -> None:
    clock = FakeClock(stop_after_waits=4)
    calls: list[float] = []

    def bad_consumer(sample: Sample) -> None:
        calls.append(sample.t)
        raise ValueError("view crashed")

    ProbeSampler([Counter()], 10, clock=clock, wait=clock.wait).run(bad_consumer)
    assert len(calls) == 4


def test_real_thread_on_real_probes() -> None:
    sampler = ProbeSampler(local_probes(), 50.0)
    sampler.watch_pid(os.getpid())
    keys = {c.key for c in sampler.channels()}
    assert "cpu.load.all" in keys and "mem.runner.rss" in keys
    got: list[Sample] = []
    two = threading.Event()

    def on_sample(s: Sample) -> None:
        got.append(s)
        if len(got) >= 2:
            two.set()

    sampler.start(on_sample)
    try:
        assert two.wait(30), "the sampler thread delivered fewer than 2 samples"
    finally:
        sampler.stop()
    before = time.monotonic()
    ts = [s.t for s in got]
    assert all(b > a for a, b in zip(ts, ts[1:])) and ts[-1] <= before  # the monotonic clock, in order
    assert got[-1].values["mem.runner.rss"] > 10
    assert "cpu.load.all" in got[-1].values
    assert sampler.disabled == {}
    assert sampler.stats.ticks == len(got) and sampler.stats.thread_cpu_s > 0
    assert not any(t.name == "probe-sampler" for t in threading.enumerate())  # stop() joined
    n = len(got)
    time.sleep(0.05)
    assert len(got) == n  # nothing after stop() returned


def test_probes_without_channels_are_not_read(tmp_path) -> None:
    probes = local_probes(str(tmp_path))  # empty tree: every probe absent
    sampler = ProbeSampler(probes, 20)
    assert sampler.channels() == []
    clock = FakeClock(stop_after_waits=3)
    sampler.clock, sampler.wait = clock, clock.wait
    samples = _run(sampler)
    assert len(samples) == 3 and all(s.values == {} for s in samples)


def test_rate_is_validated() -> None:
    with pytest.raises(ValueError, match="telemetry rate"):
        ProbeSampler([], 0)
    with pytest.raises(ValueError, match="telemetry rate"):
        ProbeSampler([], float("nan"))
