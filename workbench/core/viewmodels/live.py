"""The data behind the Live tab: what the charts show, kept free of Qt so it is tested without a display.

Events arrive on worker threads at any rate; charts redraw on the GUI thread at a fixed frame rate.
`handle()` (any thread) only queues under a lock; `drain()` (GUI thread, once per frame) moves the
queued rows into the rings. So the rings have a single writer and a single reader (the GUI thread) and
pyqtgraph never reads an array another thread is writing.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from workbench.core.events import ChannelsKnown, Event, Iteration, RunStarted, SampleEvent
from workbench.core.types import ChannelSpec, IterationEvent
from workbench.core.viewmodels.ring import RingBuffer
from workbench.core.viewmodels.rolling import RollingPercentiles

#: Chart order and titles; unknown groups still get a chart, titled from their name, after these.
GROUP_TITLES: dict[str, str] = {
    "latency": "Latency per iteration",
    "cpu_load": "CPU load per core",
    "cpu_freq": "CPU frequency per policy",
    "thermal": "Temperatures",
    "power": "Power",
    "memory_runner": "Runner memory",
    "memory_system": "System memory",
}
LATENCY_KEYS = {
    "warmup": "lat.warmup",
    "measure": "lat.measure",
    "profiled": "lat.profiled",
}
P50_KEY, P90_KEY = "lat.p50", "lat.p90"


SLOW_CHANNEL_SHARE = 0.6  # a channel on fewer ticks than this is slow by design and held between readings


def hold_forward(values: np.ndarray) -> np.ndarray:
    """For a slow channel (see `LiveRunModel._hold`), replace each NaN after the first reading with the
    newest reading before it; regular channels are returned unchanged, gaps included."""
    values = np.asarray(values, float)
    if len(values) == 0 or np.count_nonzero(~np.isnan(values)) >= SLOW_CHANNEL_SHARE * len(values):
        return values
    idx = np.where(np.isnan(values), 0, np.arange(len(values)))
    np.maximum.accumulate(idx, out=idx)
    held = values[idx]
    first = np.argmax(~np.isnan(values)) if np.any(~np.isnan(values)) else len(values)
    held[:first] = np.nan
    return held


def phase_of(phase: str) -> str:
    """Chart phase of a runner phase: runners also report e.g. `profile-warmup`, which is warmup."""
    if "warmup" in phase:
        return "warmup"
    if phase.startswith("profil"):
        return "profiled"
    return "measure"


def chart_group(spec: ChannelSpec) -> str:
    """The chart a channel is drawn on. Memory is split into runner and system charts: on one axis a
    24 GB 'system available' line flattens a 100 MB runner RSS into the x-axis."""
    if spec.group == "memory":
        return "memory_runner" if ".runner" in spec.key or "runner" in spec.label.lower() else "memory_system"
    return spec.group


def group_title(group: str) -> str:
    return GROUP_TITLES.get(group, group.replace("_", " ").capitalize())


@dataclass
class DrainResult:
    samples: int = 0
    iterations: int = 0
    channels_changed: bool = False
    reset: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.samples or self.iterations or self.channels_changed or self.reset)


@dataclass
class _Pending:
    reset_t0: float | None = None
    channels: list[ChannelSpec] | None = None
    samples: list[tuple[float, dict[str, float]]] = field(default_factory=list)
    iterations: list[IterationEvent] = field(default_factory=list)


class LiveRunModel:
    """Rings for one run's telemetry and latencies, with rolling p50/p90 over measured iterations.

    Times are seconds since the run's start (`RunStarted.t0`), on the device clock, so telemetry
    and iterations share one axis.
    """

    def __init__(self, capacity: int = 36_000, latency_capacity: int = 50_000, rolling: int = 50) -> None:
        self.capacity = capacity
        self.rolling = rolling
        self.telemetry = RingBuffer(capacity)
        # One ring per phase so every array handed to pyqtgraph is NaN-free (scatter needs that).
        self.latency: dict[str, RingBuffer] = {
            "warmup": RingBuffer(latency_capacity, [LATENCY_KEYS["warmup"]]),
            "measure": RingBuffer(latency_capacity, [LATENCY_KEYS["measure"], P50_KEY, P90_KEY]),
            "profiled": RingBuffer(latency_capacity, [LATENCY_KEYS["profiled"]]),
        }
        self._specs: dict[str, ChannelSpec] = {}
        self._held: dict[str, float] = {}
        self._seen: dict[str, int] = {}
        self._ticks = 0
        self._recent = RollingPercentiles(rolling)
        self._lock = threading.Lock()
        self._pending = _Pending()
        self._t0_worker = 0.0  # t0 as the producer thread knows it (set by RunStarted)
        self.run_id: int | None = None

    # -- any thread ----------------------------------------------------------------------------
    def handle(self, event: Event) -> None:
        """Queue a run event for the next `drain()`; safe to call from the producer's thread."""
        with self._lock:
            if isinstance(event, RunStarted):
                self._t0_worker = event.t0
                self._pending = _Pending(reset_t0=event.t0)
                self.run_id = event.run_id
            elif isinstance(event, ChannelsKnown):
                self._pending.channels = list(event.channels)
            elif isinstance(event, SampleEvent):
                s = event.sample
                self._pending.samples.append((s.t - self._t0_worker, dict(s.values)))
            elif isinstance(event, Iteration):
                it = event.iteration
                self._pending.iterations.append(
                    IterationEvent(it.index, it.phase, it.t_start - self._t0_worker, it.latency_ms)
                )

    # -- GUI thread ----------------------------------------------------------------------------
    def drain(self) -> DrainResult:
        """Move queued rows into the rings; call once per frame from the thread that draws."""
        with self._lock:
            pending, self._pending = self._pending, _Pending()
        result = DrainResult()
        if pending.reset_t0 is not None:
            self.reset()
            result.reset = True
        if pending.channels is not None:
            self.set_channels(pending.channels)
            result.channels_changed = True
        for t, values in pending.samples:
            self.telemetry.append(t, self._hold(values))
        for it in pending.iterations:
            self._add_iteration(it)
        result.samples = len(pending.samples)
        result.iterations = len(pending.iterations)
        return result

    def _hold(self, values: dict[str, float]) -> dict[str, float]:
        """Sample-and-hold for slow channels only. Some channels are not on every tick by design (thermal HAL,
        ODPM rails: one tick in K); a lone reading between gaps would draw nothing, so they show their newest
        value. A regular channel that misses a tick (unreadable once) keeps its gap: that is information."""
        self._ticks += 1
        for key, value in values.items():
            self._held[key] = value
            self._seen[key] = self._seen.get(key, 0) + 1
        out = dict(values)
        for key, value in self._held.items():
            if key not in out and self._seen[key] < SLOW_CHANNEL_SHARE * self._ticks:
                out[key] = value
        return out

    def reset(self) -> None:
        self._held = {}
        self._seen: dict[str, int] = {}
        self._ticks = 0
        self.telemetry = RingBuffer(self.capacity)
        for ring in self.latency.values():
            ring.clear()
        self._specs = {}
        self._recent.clear()

    def set_channels(self, channels: list[ChannelSpec]) -> None:
        self._specs = {c.key: c for c in channels}
        for c in channels:
            self.telemetry.add_channel(c.key)

    def _add_iteration(self, it: IterationEvent) -> None:
        phase = phase_of(it.phase)
        row = {LATENCY_KEYS[phase]: it.latency_ms}
        if phase == "measure":
            self._recent.add(it.latency_ms)
            row[P50_KEY] = self._recent.percentile(50)
            row[P90_KEY] = self._recent.percentile(90)
        self.latency[phase].append(it.t_start, row)

    def load(
        self,
        channels: list[ChannelSpec],
        t: np.ndarray,
        values: dict[str, np.ndarray],
        iterations: list[IterationEvent],
        t0: float = 0.0,
    ) -> None:
        """Fill the rings from a stored run (History -> reopen), times made relative to `t0`."""
        self.reset()
        self.set_channels(channels)
        self.telemetry.extend(np.asarray(t, float) - t0, {k: hold_forward(v) for k, v in values.items()})
        for it in iterations:
            self._add_iteration(IterationEvent(it.index, it.phase, it.t_start - t0, it.latency_ms))

    # -- what to draw --------------------------------------------------------------------------
    def spec(self, key: str) -> ChannelSpec:
        return self._specs[key]

    def groups(self) -> list[tuple[str, list[ChannelSpec]]]:
        """Charts to show, in display order: latency first, then only groups that have channels."""
        return self.groups_for(list(self._specs.values()))

    @staticmethod
    def groups_for(channels: list[ChannelSpec]) -> list[tuple[str, list[ChannelSpec]]]:
        """The charts a run with these channels will show (lets the view lay them out before it starts)."""
        by_group: dict[str, list[ChannelSpec]] = {}
        for spec in channels:
            by_group.setdefault(chart_group(spec), []).append(spec)
        order = list(GROUP_TITLES)
        names = sorted(by_group, key=lambda g: (order.index(g) if g in order else len(order), g))
        lat_specs = [
            ChannelSpec(LATENCY_KEYS[p], "ms", "latency", p) for p in ("warmup", "measure", "profiled")
        ] + [ChannelSpec(P50_KEY, "ms", "latency", "p50"), ChannelSpec(P90_KEY, "ms", "latency", "p90")]
        return [("latency", lat_specs)] + [(g, by_group[g]) for g in names if g != "latency"]

    def last_time(self) -> float | None:
        rings = [self.telemetry, *self.latency.values()]
        ts = [x for x in (r.last_time() for r in rings) if x is not None]
        return max(ts) if ts else None

    def ring_for(self, key: str) -> RingBuffer:
        """The ring holding `key`: telemetry, or the latency ring of the phase the key belongs to."""
        for ring in self.latency.values():
            if key in ring.channels:
                return ring
        return self.telemetry

    def y_range(self, specs: list[ChannelSpec], t_min: float) -> tuple[float, float] | None:
        """Data min/max of a chart's channels since `t_min`, padded 5% so lines do not touch edges."""
        lo, hi = np.inf, -np.inf
        for spec in specs:
            if spec.key not in self.ring_for(spec.key).channels:
                continue
            r = self.ring_for(spec.key).range_since(spec.key, t_min)
            if r is not None:
                lo, hi = min(lo, r[0]), max(hi, r[1])
        if not np.isfinite(lo):
            return None
        if specs and all(s.unit == "%" for s in specs):  # loads: always the full 0-100 scale
            return 0.0, max(105.0, hi * 1.05)  # headroom: a core at 100% must not sit on the frame
        pad = (hi - lo) * 0.05 or max(abs(hi) * 0.05, 1.0)
        return lo - pad, hi + pad

    def readout(self, specs: list[ChannelSpec], t: float) -> list[tuple[str, float, str]]:
        """(label, value, unit) of each channel at the sample nearest `t`, for the crosshair."""
        out = []
        for spec in specs:
            ring = self.ring_for(spec.key)
            if spec.key not in ring.channels:
                continue
            v = ring.value_at(spec.key, t)
            if v is not None:
                out.append((spec.label or spec.key, v, spec.unit))
        return out
