"""Verdict logic on recorded real measurements: unknown fidelity never wins, percentiles computed one way."""
from __future__ import annotations

import dataclasses

import pytest

from workbench.core.errors import RunFailed
from workbench.core.stats import latency_stats
from workbench.core.tuner.measurement import TrialMeasurement, pareto_values, score
from workbench.core.tuner.space import Objective
from workbench.core.tuner.study import StudyResult, TrialRecord


def _measured(recorded):
    space = recorded.space(objective=Objective(kind="fidelity_resolution"))
    return space, [(c, recorded.measurement(c)) for c in space.configs()]


def test_unknown_fidelity_ranks_below_every_measured_fidelity(recorded):
    space, measured = _measured(recorded)
    scored = sorted(measured, key=lambda cm: score(cm[0], cm[1], space.objective))
    best_cfg, best_m = scored[-1]
    worst_cfg, worst_m = scored[0]
    unknown = dataclasses.replace(best_m, fidelity=None)
    # the same numbers without a fidelity fall below even the worst measured config of the space...
    assert score(best_cfg, unknown, space.objective) < score(worst_cfg, worst_m, space.objective)
    # ...and below a variant that measured the lowest possible cosine at the same resolution
    anti = dataclasses.replace(best_m, fidelity=-1.0)
    assert score(best_cfg, unknown, space.objective) < score(best_cfg, anti, space.objective)


def test_unmeasured_variant_does_not_win_a_fidelity_tie(recorded):
    """Reference (cosine 1.0) vs the same config with no fidelity measured: the measured one is best,
    whichever order the trials came in."""
    space, measured = _measured(recorded)
    cfg, m = max(measured, key=lambda cm: score(cm[0], cm[1], space.objective))
    unknown = dataclasses.replace(m, fidelity=None, p90_ms=m.p90_ms * 0.5)  # faster, but unproven
    for order in ((unknown, m), (m, unknown)):
        res = StudyResult("s", "grid", [TrialRecord(i, cfg, x, {}, score(cfg, x, space.objective))
                                        for i, x in enumerate(order)])
        assert res.best is not None and res.best.measurement.fidelity == m.fidelity


def test_pareto_front_does_not_let_unknown_fidelity_dominate(recorded):
    space, measured = _measured(recorded)
    cfg, m = min(measured, key=lambda cm: cm[1].p90_ms)
    unknown = dataclasses.replace(m, fidelity=None)
    assert pareto_values(unknown)[1] > pareto_values(dataclasses.replace(m, fidelity=-1.0))[1]
    res = StudyResult("s", "grid", [TrialRecord(0, cfg, unknown, {}, 0.0), TrialRecord(1, cfg, m, {}, 0.0)])
    assert [t.number for t in res.pareto()] == [1]  # same latency, measured fidelity dominates unknown


def test_from_latencies_uses_the_shared_percentiles(recorded):
    _, measured = _measured(recorded)
    cfg = measured[0][0]
    lat = recorded.records[cfg]["latencies_ms"][:7]
    m = TrialMeasurement.from_latencies(lat, stopped_early=True)
    stats = latency_stats(lat)
    assert (m.p50_ms, m.p90_ms, m.iterations) == (stats.p50_ms, stats.p90_ms, 7)
    assert TrialMeasurement.from_latencies([1.0, 2.0, 3.0, 4.0, 10.0]).p90_ms == pytest.approx(7.6)


def test_from_latencies_without_iterations_is_a_run_failure():
    with pytest.raises(RunFailed, match="no measured iterations"):
        TrialMeasurement.from_latencies([])
