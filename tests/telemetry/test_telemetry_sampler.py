"""ProbeSampler on the real machine: rate, timestamps, disabling a broken probe, stop/join."""
from __future__ import annotations

import os
import threading
import time

import pytest

from workbench.core.telemetry.local_probes import local_probes
from workbench.core.telemetry.probe import Probe
from workbench.core.telemetry.sampler import ProbeSampler, next_tick
from workbench.core.types import ChannelSpec, Sample


class Counter(Probe):
    """A real probe of the one thing every machine has: how many times it was read."""

    id = "counter"

    def __init__(self, stall_on: int | None = None, stall_s: float = 0.0) -> None:
        self.n = 0
        self.stall_on, self.stall_s = stall_on, stall_s

    def channels(self) -> list[ChannelSpec]:
        return [ChannelSpec("test.reads", "", "test")]

    def read(self) -> dict[str, float]:
        self.n += 1
        if self.n == self.stall_on:
            time.sleep(self.stall_s)
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


def collect(sampler: ProbeSampler, seconds: float) -> list[Sample]:
    got: list[Sample] = []
    sampler.start(got.append)
    time.sleep(seconds)
    sampler.stop()
    return got


def test_next_tick_skips_missed_deadlines_without_bursting() -> None:
    p = 0.1
    assert next_tick(5, 0.41, 0.0, p) == 5  # on time: wait for deadline 5
    assert next_tick(5, 0.52, 0.0, p) == 5  # 0.2 period late: fire tick 5 now
    assert next_tick(5, 0.57, 0.0, p) == 6  # 0.7 period late: skip 5, wait for 6
    assert next_tick(5, 1.23, 0.0, p) == 12  # long stall: skip to the nearest deadline, no burst


@pytest.mark.parametrize("rate", [10.0, 50.0, 100.0])
def test_real_probes_at_rate(rate: float) -> None:
    sampler = ProbeSampler(local_probes(), rate)
    sampler.watch_pid(os.getpid())
    keys = {c.key for c in sampler.channels()}
    assert "cpu.load.all" in keys and "mem.runner.rss" in keys
    samples = collect(sampler, 0.5)
    expected = 0.5 * rate
    assert len(samples) >= 0.4 * expected  # loose: 2 shared cores, never a timing assert
    ts = [s.t for s in samples]
    assert all(b > a for a, b in zip(ts, ts[1:]))
    assert samples[-1].values["mem.runner.rss"] > 10
    assert "cpu.load.all" in samples[-1].values
    assert sampler.disabled == {}
    assert sampler.stats.ticks == len(samples)
    assert sampler.stats.thread_cpu_s > 0


def test_sample_time_is_the_monotonic_clock() -> None:
    before = time.monotonic()
    samples = collect(ProbeSampler([Counter()], 50), 0.1)
    assert samples and before <= samples[0].t <= samples[-1].t <= time.monotonic()


def test_raising_probe_is_disabled_and_others_continue(caplog: pytest.LogCaptureFixture) -> None:
    counter, broken = Counter(), BrokenAfter()
    sampler = ProbeSampler([broken, counter], 100)
    samples = collect(sampler, 0.3)
    assert "sensor went away" in sampler.disabled["broken"]
    assert "telemetry probe broken disabled" in caplog.text
    assert broken.n == 3  # never read again after raising
    assert sum("test.broken" in s.values for s in samples) == 2
    assert samples[-1].values["test.reads"] == counter.n  # the healthy probe kept going


def test_stall_skips_ticks_instead_of_bursting() -> None:
    rate = 50.0
    sampler = ProbeSampler([Counter(stall_on=3, stall_s=5 / rate)], rate)
    samples = collect(sampler, 0.4)
    assert sampler.stats.skipped >= 2
    after = [s.t for s in samples[2:6]]
    # a burst would put the ticks after the stall at (nearly) the same instant
    assert all(b - a > 0.05 / rate for a, b in zip(after, after[1:]))


def test_stop_joins_and_callback_errors_do_not_kill_the_thread() -> None:
    calls: list[float] = []

    def bad_consumer(sample: Sample) -> None:
        calls.append(sample.t)
        raise ValueError("view crashed")

    sampler = ProbeSampler([Counter()], 100)
    sampler.start(bad_consumer)
    time.sleep(0.2)
    sampler.stop()
    assert len(calls) >= 3
    assert not any(t.name == "probe-sampler" for t in threading.enumerate())
    n = len(calls)
    time.sleep(0.05)
    assert len(calls) == n  # nothing after stop() returned


def test_probes_without_channels_are_not_read(tmp_path) -> None:
    probes = local_probes(str(tmp_path))  # empty tree: every probe absent
    sampler = ProbeSampler(probes, 20)
    assert sampler.channels() == []
    samples = collect(sampler, 0.15)
    assert samples and all(s.values == {} for s in samples)


def test_rate_is_validated() -> None:
    with pytest.raises(ValueError, match="telemetry rate"):
        ProbeSampler([], 0)
    with pytest.raises(ValueError, match="telemetry rate"):
        ProbeSampler([], float("nan"))
