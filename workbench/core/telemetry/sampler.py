"""ProbeSampler: reads a set of probes on one daemon thread at a steady rate (local TelemetrySource).

Ticks are scheduled on absolute deadlines `t0 + k / rate`, so waking late never shifts the later
ticks (no drift). When a tick is missed entirely (machine stalled, GIL held), the missed ticks are
skipped and counted instead of being fired back to back: a burst of samples with nearly equal
timestamps would distort rates and charts. Each Sample's `t` is `clock()` taken at the start of the
tick; with `time.monotonic` that is CLOCK_MONOTONIC, the clock the runner child stamps iterations with.
The clock and the wait between ticks are injectable, so the scheduling is tested with a fake clock
(deterministic, no timing asserts) and `run()` drives the same loop on the caller's thread.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Callable, Sequence

from workbench.core.devices.base import TelemetrySource
from workbench.core.telemetry.probe import Probe
from workbench.core.types import ChannelSpec, Sample

log = logging.getLogger(__name__)

MAX_RATE_HZ = 1000.0


def next_tick(k: int, now: float, t0: float, period: float) -> int:
    """Index of the next tick to run, given that tick `k` is the next one due and it is `now`.

    A deadline passed by less than half a period still fires (late, at once); deadlines passed by
    more are skipped, so at most one tick runs without waiting: no bursts, and no drift because
    deadlines stay at `t0 + k * period`.
    """
    return max(k, math.floor((now - t0) / period + 0.5))


@dataclass
class SamplerStats:
    """What the sampler did, for reports and bench/telemetry_cost.py."""

    ticks: int = 0
    skipped: int = 0  # deadlines passed over because the thread woke too late
    thread_cpu_s: float = 0.0  # CPU time of the sampling thread itself
    first_t: float | None = None
    last_t: float | None = None


class ProbeSampler(TelemetrySource):
    """Samples `probes` at `rate_hz` and calls `on_sample` from its own thread.

    A probe that raises is disabled (reason in `disabled` and the log); the others carry on.
    """

    def __init__(
        self, probes: Sequence[Probe], rate_hz: float = 10.0, clock: Callable[[], float] = time.monotonic,
        wait: Callable[[float], bool] | None = None,
    ) -> None:
        """`wait(seconds)` sleeps until the next tick and returns True when sampling should stop; the
        default waits on the stop event, so `stop()` wakes it at once."""
        if not (rate_hz > 0 and math.isfinite(rate_hz)) or rate_hz > MAX_RATE_HZ:
            raise ValueError(f"telemetry rate must be in (0, {MAX_RATE_HZ:g}] Hz, got {rate_hz}")
        self.rate_hz = float(rate_hz)
        self.period = 1.0 / self.rate_hz
        self.clock = clock
        self.probes = list(probes)
        self.disabled: dict[str, str] = {}
        self.stats = SamplerStats()
        self._active: list[Probe] | None = None
        self._specs: list[ChannelSpec] = []
        self._stop = threading.Event()
        self.wait = wait or self._stop.wait
        self._thread: threading.Thread | None = None

    def _discover(self) -> list[Probe]:
        if self._active is None:
            active: list[Probe] = []
            for probe in self.probes:
                try:
                    specs = probe.channels()
                except Exception as exc:  # noqa: BLE001 - a broken probe must not block the others
                    self._disable(probe, f"channels() raised {type(exc).__name__}: {exc}")
                    continue
                if specs:
                    active.append(probe)
                    self._specs.extend(specs)
            self._active = active
        return self._active

    def _disable(self, probe: Probe, reason: str) -> None:
        name = probe.id or type(probe).__name__
        self.disabled[name] = reason  # reported by problems()
        log.warning("telemetry probe %s disabled: %s", name, reason)

    def channels(self) -> list[ChannelSpec]:
        self._discover()
        return list(self._specs)

    def watch_pid(self, pid: int | None) -> None:
        for probe in self.probes:
            probe.watch_pid(pid)

    def start(self, on_sample: Callable[[Sample], None]) -> None:
        if self._thread is not None:
            raise RuntimeError("ProbeSampler.start() called twice")
        self._discover()
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, args=(on_sample,), name="probe-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def problems(self) -> list[str]:
        return [f"probe {name} disabled: {reason}" for name, reason in self.disabled.items()]

    def _tick(self, on_sample: Callable[[Sample], None]) -> None:
        t = self.clock()
        values: dict[str, float] = {}
        active = self._active or []
        for probe in list(active):
            try:
                values.update(probe.read())
            except Exception as exc:  # noqa: BLE001 - disable the probe, keep sampling the rest
                active.remove(probe)
                self._disable(probe, f"read() raised {type(exc).__name__}: {exc}")
        on_sample(Sample(t=t, values=values))
        st = self.stats
        st.ticks += 1
        if st.first_t is None:
            st.first_t = t
        st.last_t = t

    def run(self, on_sample: Callable[[Sample], None]) -> None:
        """The sampling loop on the calling thread, until `stop()` or `wait` says to stop."""
        self._discover()
        cpu0 = time.thread_time()
        t0 = self.clock()
        k = 0
        consumer_failed = False
        try:
            while not self._stop.is_set():
                try:
                    self._tick(on_sample)
                except Exception:  # noqa: BLE001 - a failing consumer is logged once, sampling goes on
                    if not consumer_failed:
                        log.exception("telemetry consumer failed (further failures not logged)")
                    consumer_failed = True
                self.stats.thread_cpu_s = time.thread_time() - cpu0
                k += 1
                now = self.clock()
                due = next_tick(k, now, t0, self.period)
                self.stats.skipped += due - k
                k = due
                if self.wait(max(0.0, t0 + k * self.period - now)):
                    break
        finally:
            self.stats.thread_cpu_s = time.thread_time() - cpu0
