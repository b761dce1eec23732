"""A first-order thermal model of a phone SoC, for traces with realistic shape (not a mock of our code).

dT/dt = (P * R_th - (T - T_amb)) / tau. Above `t_throttle` the governor scales the clock down linearly,
so latency = work / f(T). Each variant has its own power draw and work; the sensor adds noise.
"""
from __future__ import annotations

import numpy as np

from workbench.core.types import IterationEvent, Sample


def simulate(variant_power_w: float, work_ms_at_fmax: float, seconds: float, *, t_start: float = 30.0,
             t_amb: float = 25.0, r_th: float = 10.0, tau: float = 60.0, t_throttle: float = 40.0,
             slope_per_c: float = 0.04, f_min: float = 0.35, sensor_noise: float = 0.15, hz: float = 10.0,
             seed: int = 0) -> tuple[list[Sample], list[IterationEvent]]:
    rng = np.random.default_rng(seed)
    dt = 1.0 / hz
    temp = t_start
    samples, iterations = [], []
    t = 0.0
    idx = 0
    while t < seconds:
        temp += dt * (variant_power_w * r_th - (temp - t_amb)) / tau
        samples.append(Sample(t, {"thermal.soc": temp + rng.normal(0, sensor_noise)}))
        f = 1.0 if temp < t_throttle else max(f_min, 1.0 - slope_per_c * (temp - t_throttle))
        # a few inferences per sample tick
        for k in range(2):
            lat = work_ms_at_fmax / f * (1 + abs(rng.normal(0, 0.04)))
            iterations.append(IterationEvent(idx, "measure", t + k * dt / 2, lat))
            idx += 1
        t += dt
    return samples, iterations


def heating(power: float, work: float, seconds: float = 240.0, seed: int = 0, **kw) -> tuple[np.ndarray, np.ndarray]:
    """([t, temp, latency] trace joined the way the tuner joins stored runs, raw sensor temperatures)."""
    from workbench.core.tuner.thresholds import join_trace

    samples, its = simulate(power, work, seconds, seed=seed, **kw)
    st = np.array([s.t for s in samples])
    sv = np.array([s.values["thermal.soc"] for s in samples])
    return join_trace(st, sv, its), sv


def heating_trace(power: float, work: float, seconds: float = 240.0, seed: int = 0, **kw) -> np.ndarray:
    return heating(power, work, seconds, seed, **kw)[0]


def true_crossing(budget: float, work: float, t_throttle: float = 40.0, slope_per_c: float = 0.04) -> float:
    """Temperature where work / f(T) * (1 + ~p90 noise) meets the budget (noise p90 of |N(0, .04)| ~ 0.066)."""
    f_needed = work * 1.066 / budget
    return t_throttle + (1.0 - f_needed) / slope_per_c
