"""Derive thermal switching thresholds from measured (temperature, latency) traces.

Physics gives the shape: as a phone heats, its governor lowers clocks, so latency rises with
temperature. We bin latency by temperature, take a high quantile per bin and force the curve to be
non-decreasing (pool-adjacent-violators), which removes noise that would otherwise put the crossing
in the wrong bin. The switch-back point sits below the switch point by a hysteresis derived from the
temperature's own noise, so a policy does not flap when the sensor jitters around the threshold.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from workbench.core.errors import WorkbenchError
from workbench.core.types import IterationEvent


def join_trace(sample_t: np.ndarray, values: np.ndarray, iterations: list[IterationEvent], *,
               hold: bool = False) -> np.ndarray:
    """(N, 3) array of [t, temperature, latency_ms] for measured iterations, temperature interpolated at
    each iteration's start (samples and iterations share the device clock).

    `hold` takes the last reading at or before the iteration instead: for discrete channels (Android
    thermal status) an interpolated 1.4 is a level that never existed, and it would put level-2
    latencies into the level-1 bin.
    """
    ok = np.isfinite(values)
    st, sv = np.asarray(sample_t, float)[ok], np.asarray(values, float)[ok]
    its = [it for it in iterations if it.phase == "measure" and st.size and st[0] <= it.t_start <= st[-1]]
    if st.size < 2 or not its:
        return np.empty((0, 3))
    t = np.array([it.t_start for it in its])
    temp = sv[np.searchsorted(st, t, side="right") - 1] if hold else np.interp(t, st, sv)
    return np.column_stack([t, temp, [it.latency_ms for it in its]])


def _pav(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted isotonic (non-decreasing) regression by pool-adjacent-violators."""
    blocks: list[list[float]] = []  # [value, weight, count]
    for yi, wi in zip(y, w):
        blocks.append([float(yi), float(wi), 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            v2, w2, c2 = blocks.pop()
            v1, w1, c1 = blocks.pop()
            blocks.append([(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    return np.concatenate([[v] * c for v, _, c in blocks]) if blocks else np.empty(0)


@dataclass
class LatencyCurve:
    """Monotone p-quantile latency per temperature bin."""

    temps: np.ndarray  # bin centres
    latency_ms: np.ndarray  # fitted, non-decreasing
    raw_ms: np.ndarray  # per-bin quantile before the fit
    counts: np.ndarray

    def at(self, temp: float | np.ndarray) -> np.ndarray:
        return np.interp(temp, self.temps, self.latency_ms)

    def first_violation(self, budget_ms: float) -> int | None:
        """Index of the first bin whose fitted latency exceeds the budget; None if none does."""
        above = np.nonzero(self.latency_ms > budget_ms)[0]
        return int(above[0]) if above.size else None

    def first_violating_level(self, budget_ms: float) -> float | None:
        """For discrete levels binned at width 1 (centre = level + 0.5): the lowest level that misses the
        budget. Interpolating between levels is meaningless there: every level below it meets the budget."""
        i = self.first_violation(budget_ms)
        return None if i is None else float(np.floor(self.temps[i]))

    def crossing(self, budget_ms: float) -> float | None:
        """Lowest temperature at which the fitted latency exceeds the budget (linear between bins);
        None if it never does in the observed range."""
        i = self.first_violation(budget_ms)
        if i is None:
            return None
        if i == 0:
            return float(self.temps[0])
        t0, t1 = self.temps[i - 1], self.temps[i]
        l0, l1 = self.latency_ms[i - 1], self.latency_ms[i]
        return float(t0 + (budget_ms - l0) / (l1 - l0) * (t1 - t0))

    def points(self) -> list[tuple[float, float]]:
        return [(round(float(t), 3), round(float(v), 4)) for t, v in zip(self.temps, self.latency_ms)]


def latency_curve(temps: np.ndarray, latencies: np.ndarray, bin_width: float = 1.0, quantile: float = 90.0,
                  min_count: int = 5) -> LatencyCurve:
    temps, latencies = np.asarray(temps, float), np.asarray(latencies, float)
    if temps.size == 0:
        raise WorkbenchError("trace has no iterations with a temperature; record with a thermal probe")
    idx = np.floor(temps / bin_width).astype(int)
    centres, raw, counts = [], [], []
    for b in np.unique(idx):
        sel = latencies[idx == b]
        if sel.size >= min_count:
            centres.append((b + 0.5) * bin_width)
            raw.append(float(np.percentile(sel, quantile)))
            counts.append(sel.size)
    if len(centres) < 2:
        raise WorkbenchError(f"trace spans fewer than 2 temperature bins of {bin_width} with >= {min_count} "
                             f"iterations each; run longer or use a smaller bin")
    c = np.asarray(counts, float)
    return LatencyCurve(np.asarray(centres), _pav(np.asarray(raw), c), np.asarray(raw), c.astype(int))


def temperature_noise(temps: np.ndarray) -> float:
    """Sensor noise estimate: std of successive differences / sqrt(2) (robust to the slow trend)."""
    d = np.diff(np.asarray(temps, float))
    return float(np.std(d) / np.sqrt(2)) if d.size > 1 else 0.0


@dataclass
class ThermalThreshold:
    switch_at: float
    switch_back_at: float
    heavy_crossing: float
    light_crossing: float | None  # where even the light variant misses the budget (None: never seen)
    hysteresis: float
    noise: float
    heavy_curve: LatencyCurve
    light_curve: LatencyCurve | None
    warnings: list[str] = field(default_factory=list)


def derive_thermal_switch(heavy: np.ndarray, light: np.ndarray | None, budget_p90_ms: float, *,
                          bin_width: float = 1.0, quantile: float = 90.0, margin: float = 0.0,
                          min_hysteresis: float = 1.0, noise_factor: float = 4.0,
                          discrete: bool = False, sample_temps: np.ndarray | None = None) -> ThermalThreshold:
    """Thresholds from [t, temp, latency] traces of the heavy (and optionally light) variant.

    switch_at = where the heavy variant's p90 crosses the budget, minus `margin`;
    switch_back_at = switch_at - max(min_hysteresis, noise_factor * sensor noise).
    With `discrete` (Android thermal status levels) the switch is at the first violating level and
    the switch back one level below it; the crossings reported are levels too (build the trace with
    `join_trace(..., hold=True)` so the levels stay integers). Pass the raw `sample_temps` for the noise estimate: the
    trace's temperatures are interpolated between samples, which hides part of the noise.
    """
    curve = latency_curve(heavy[:, 1], heavy[:, 2], 1.0 if discrete else bin_width, quantile)
    warnings: list[str] = []
    crossing = curve.first_violating_level(budget_p90_ms) if discrete else curve.crossing(budget_p90_ms)
    if crossing is None:
        raise WorkbenchError(f"the heavy variant meets the {budget_p90_ms} ms budget up to "
                             f"{curve.temps[-1]:.1f} (hottest seen): no switch needed in the recorded range")
    if crossing <= curve.temps[0]:
        warnings.append("the heavy variant misses the budget already at the coolest temperature recorded")
    noise = temperature_noise(heavy[:, 1] if sample_temps is None else sample_temps)
    if discrete:
        switch_at, back, hyst = crossing, crossing - 1.0, 1.0
    else:
        hyst = max(min_hysteresis, noise_factor * noise)
        switch_at = crossing - margin
        back = switch_at - hyst
    light_curve = light_crossing = None
    if light is not None and len(light):
        light_curve = latency_curve(light[:, 1], light[:, 2], 1.0 if discrete else bin_width, quantile)
        light_crossing = (light_curve.first_violating_level(budget_p90_ms) if discrete
                          else light_curve.crossing(budget_p90_ms))
        if light_crossing is not None:
            warnings.append(f"the light variant also misses the budget above {light_crossing:.1f}")
    return ThermalThreshold(switch_at, back, crossing, light_crossing, hyst, noise, curve, light_curve, warnings)
