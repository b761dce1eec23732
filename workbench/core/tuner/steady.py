"""Sustained mode: judge finalists on steady-state latency, not on the cool first seconds.

A phone that meets the budget cold may miss it after a minute of heating. A run counts as steady
once the temperature slope over a sliding window falls under a threshold; latency is then judged on
the iterations after that point. Without thermal channels (VMs, some boards) the run ends at its time
cap and the second half of it is judged instead, and the result says so.
"""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

import numpy as np

from workbench.core.types import IterationEvent, Sample


@dataclass
class SteadyState:
    reached: bool
    t_steady: float | None  # device clock
    temperature: float | None
    slope_per_min: float | None
    p50_ms: float | None
    p90_ms: float | None
    iterations: int
    reason: str


def thermal_key(series: dict[str, np.ndarray]) -> str | None:
    """The hottest thermal channel (the one that throttles first); status levels are not temperatures."""
    keys = [k for k, v in series.items() if k.startswith("thermal.") and "status" not in k and np.isfinite(v).any()]
    return max(keys, key=lambda k: float(np.nanmax(series[k]))) if keys else None


def steady_state(t: np.ndarray, series: dict[str, np.ndarray], iterations: list[IterationEvent], *,
                 slope_per_min: float = 0.3, window_s: float = 20.0) -> SteadyState:
    its = [it for it in iterations if it.phase == "measure"]
    if not its:
        return SteadyState(False, None, None, None, None, None, 0, "no measured iterations")
    key = thermal_key(series)
    t_steady = temp = slope = None
    reason = "no thermal channel: judged on the second half of the run"
    if key is not None:
        v = series[key]
        ok = np.isfinite(v)
        tt, vv = np.asarray(t, float)[ok], v[ok]
        reason = f"{key} never settled under {slope_per_min} per min within the run"
        j0 = 0
        for j in range(len(tt)):
            while tt[j] - tt[j0] > window_s:
                j0 += 1
            if tt[j] - tt[0] >= window_s and j - j0 >= 3:
                s = float(np.polyfit(tt[j0:j + 1], vv[j0:j + 1], 1)[0]) * 60
                if abs(s) < slope_per_min:
                    t_steady, temp, slope = float(tt[j]), float(vv[j]), s
                    reason = f"{key} settled at {temp:.1f} ({s:+.2f}/min)"
                    break
    if t_steady is not None:
        judged = [it.latency_ms for it in its if it.t_start >= t_steady]
    else:
        judged = [it.latency_ms for it in its[len(its) // 2:]]
    if not judged:
        return SteadyState(t_steady is not None, t_steady, temp, slope, None, None, 0, reason + "; no iterations after it")
    arr = np.asarray(judged)
    return SteadyState(t_steady is not None, t_steady, temp, slope, float(np.percentile(arr, 50)),
                       float(np.percentile(arr, 90)), len(judged), reason)


class SteadyWatch:
    """Online twin of `steady_state` for a live run: fed samples as they arrive, it says once the hottest
    thermal channel's slope over the trailing window is under the threshold (same test, so the stored
    run judged afterwards settles at the same point). Never settles without thermal channels."""

    def __init__(self, slope_per_min: float = 0.3, window_s: float = 20.0) -> None:
        self.slope_per_min, self.window_s = slope_per_min, window_s
        self._t: dict[str, list[float]] = {}
        self._v: dict[str, list[float]] = {}
        self._peak: dict[str, float] = {}
        self._t0: float | None = None
        self.t_steady: float | None = None
        self.channel: str | None = None

    def add(self, sample: Sample) -> bool:
        if self.t_steady is not None:
            return True
        for k, v in sample.values.items():
            if k.startswith("thermal.") and "status" not in k and v is not None and np.isfinite(v):
                self._t.setdefault(k, []).append(sample.t)
                self._v.setdefault(k, []).append(float(v))
                self._peak[k] = max(self._peak.get(k, -np.inf), float(v))
        if not self._peak:
            return False
        key = max(self._peak, key=self._peak.__getitem__)
        tt, vv = self._t[key], self._v[key]
        start = bisect_left(tt, tt[-1] - self.window_s)
        if tt[-1] - tt[0] >= self.window_s and len(tt) - 1 - start >= 3:
            slope = float(np.polyfit(tt[start:], vv[start:], 1)[0]) * 60
            if abs(slope) < self.slope_per_min:
                self.t_steady, self.channel = tt[-1], key
        return self.t_steady is not None
