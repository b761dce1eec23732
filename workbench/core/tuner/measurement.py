"""What one trial measured, and how a measurement is judged against constraints and the objective.

Kept apart from how it was measured: the same verdict logic runs on live benchmark runs and on
recorded measurements replayed by tests and bench scripts.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Protocol

from workbench.core.errors import RunFailed
from workbench.core.stats import latency_stats
from workbench.core.tuner.space import Constraints, Objective, TrialConfig

ShouldStop = Callable[[list[float]], bool]

# Ranks a trial whose fidelity was not measured below every measured one (cosine >= -1): counting it as
# 1.0 let an unmeasured variant win fidelity ties against one that proved it matches the reference.
UNKNOWN_FIDELITY = -2.0


@dataclass
class TrialMeasurement:
    """Numbers of one configuration. `stopped_early` means the run was cut short as hopeless."""

    p50_ms: float
    p90_ms: float
    peak_memory_mb: float | None = None
    fidelity: float | None = None  # cosine vs the reference variant, 1.0 for the reference itself
    energy_mj: float | None = None  # per inference call; None without power telemetry
    power_w: float | None = None
    run_id: int | None = None
    stopped_early: bool = False
    iterations: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "TrialMeasurement":
        return cls(**d)

    @classmethod
    def from_latencies(cls, latencies_ms: list[float], **kw: Any) -> "TrialMeasurement":
        """Percentiles through workbench.core.stats, so a cut-short trial reads like a full run's stats."""
        stats = latency_stats([float(x) for x in latencies_ms])
        if stats is None:
            raise RunFailed("the trial produced no measured iterations")
        return cls(p50_ms=stats.p50_ms, p90_ms=stats.p90_ms, iterations=stats.count, **kw)


class Measure(Protocol):
    """Measures one configuration; calls `should_stop(latencies_so_far)` and may stop early when True."""

    def __call__(self, config: TrialConfig, should_stop: ShouldStop) -> TrialMeasurement: ...


def violations(m: TrialMeasurement, c: Constraints) -> dict[str, float]:
    """Relative excess per violated constraint (0.25 = 25% over budget); empty = feasible.

    Missing data for a set constraint counts as a violation of 1.0: an unmeasured budget is not met.
    """
    out: dict[str, float] = {}
    if m.stopped_early:
        out["stopped_early"] = 1.0
    if c.p90_ms is not None and m.p90_ms > c.p90_ms:
        out["p90_ms"] = m.p90_ms / c.p90_ms - 1
    if c.peak_memory_mb is not None:
        if m.peak_memory_mb is None:
            out["peak_memory_mb"] = 1.0
        elif m.peak_memory_mb > c.peak_memory_mb:
            out["peak_memory_mb"] = m.peak_memory_mb / c.peak_memory_mb - 1
    if c.min_fidelity is not None:
        if m.fidelity is None:
            out["fidelity"] = 1.0
        elif m.fidelity < c.min_fidelity:
            out["fidelity"] = c.min_fidelity - m.fidelity
    if c.energy_mj is not None:
        if m.energy_mj is None:
            out["energy_mj"] = 1.0
        elif m.energy_mj > c.energy_mj:
            out["energy_mj"] = m.energy_mj / c.energy_mj - 1
    return out


def score(config: TrialConfig, m: TrialMeasurement, objective: Objective) -> float:
    """Scalar to maximize for single-objective strategies (feasibility is judged separately).

    fidelity_resolution packs the lexicographic order (fidelity class, resolution, -p90) into one float:
    fidelity counts in steps of `fidelity_tolerance`, resolution in pixels, p90 only breaks ties.
    Unknown fidelity ranks below every measured fidelity (UNKNOWN_FIDELITY).
    """
    if objective.kind == "latency":
        return -m.p90_ms
    fid = m.fidelity if m.fidelity is not None else UNKNOWN_FIDELITY
    fclass = round(fid / objective.fidelity_tolerance)
    return fclass * 1e6 + config.resolution * 10.0 - min(m.p90_ms, 9999.0) / 1000.0


def pareto_values(m: TrialMeasurement) -> tuple[float, float, float]:
    """Minimized objectives for the Pareto front: p90, -fidelity (unknown = worse than any measured),
    energy (0 when unknown)."""
    return (m.p90_ms, -(m.fidelity if m.fidelity is not None else UNKNOWN_FIDELITY), m.energy_mj or 0.0)


def budget_stopper(budget_p90_ms: float | None, min_iterations: int = 3, margin: float = 0.5) -> ShouldStop:
    """Early stop for hopeless trials: after `min_iterations`, stop when even the *fastest* iteration so
    far is more than `margin` over the p90 budget. Using the minimum keeps one slow warm-up-like outlier
    from killing a config that would pass."""

    def should_stop(latencies: list[float]) -> bool:
        if budget_p90_ms is None or len(latencies) < min_iterations:
            return False
        return min(latencies) > budget_p90_ms * (1 + margin)

    return should_stop
