"""Replay a switching policy against a recorded temperature trace: what would the app have done?

Latency per step comes from the per-variant latency-vs-temperature curves stored with the policy, so
a trace recorded with one variant can show the counterfactual of another.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from workbench.core.errors import WorkbenchError
from workbench.core.profiles.model import LatencySwitch, ThermalSwitch

LatencyOf = Callable[[str, float], float]


@dataclass
class ReplayResult:
    switches: list[tuple[float, str, str]] = field(default_factory=list)  # (t, from, to)
    time_on: dict[str, float] = field(default_factory=dict)  # seconds per variant
    violations: int = 0  # steps whose latency exceeded the budget
    violation_time_s: float = 0.0
    steps: int = 0
    timeline: list[tuple[float, str, float, float]] = field(default_factory=list)  # (t, variant, temp, ms)


def curves_latency(curves: dict[str, list[tuple[float, float]]]) -> LatencyOf:
    """Latency lookup from a policy's stored curves (clamped at the ends of the measured range)."""
    arrays = {v: (np.array([p[0] for p in pts]), np.array([p[1] for p in pts])) for v, pts in curves.items() if pts}

    def latency_of(variant: str, temp: float) -> float:
        if variant not in arrays:
            raise WorkbenchError(f"policy has no latency curve for variant {variant!r}")
        t, ms = arrays[variant]
        return float(np.interp(temp, t, ms))

    return latency_of


def replay(policy: ThermalSwitch | LatencySwitch, t: np.ndarray, temp: np.ndarray, latency_of: LatencyOf,
           budget_ms: float | None) -> ReplayResult:
    """Step through the trace; each step lasts until the next sample (the last one: the median step)."""
    t, temp = np.asarray(t, float), np.asarray(temp, float)
    if t.size < 2:
        raise WorkbenchError("trace needs at least two samples")
    dt = np.diff(t, append=t[-1] + float(np.median(np.diff(t))))
    active = policy.heavy
    window: deque[float] = deque(maxlen=getattr(policy, "window", 1))
    res = ReplayResult(time_on={policy.heavy: 0.0, policy.light: 0.0})
    since = float(t[0])
    for ti, temp_i, d in zip(t, temp, dt):
        target = active
        if isinstance(policy, ThermalSwitch):
            if active == policy.heavy and temp_i >= policy.switch_at:
                target = policy.light
            elif active == policy.light and temp_i <= policy.switch_back_at:
                target = policy.heavy
        elif len(window) == window.maxlen and (active == policy.heavy or ti - since >= policy.min_dwell_s):
            p90 = float(np.percentile(list(window), 90))
            if active == policy.heavy and p90 > policy.switch_above_ms:
                target = policy.light
            elif active == policy.light and p90 < policy.switch_back_below_ms:
                target = policy.heavy
        if target != active:
            res.switches.append((float(ti), active, target))
            active, since = target, float(ti)
            window.clear()
        ms = latency_of(active, float(temp_i))
        window.append(ms)
        res.time_on[active] += float(d)
        res.steps += 1
        if budget_ms is not None and ms > budget_ms:
            res.violations += 1
            res.violation_time_s += float(d)
        res.timeline.append((float(ti), active, float(temp_i), ms))
    return res
