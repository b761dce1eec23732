from __future__ import annotations

import threading

import pytest

from workbench.core.errors import DeviceDisconnected, RunFailed, WorkbenchError
from workbench.core.events import Progress
from workbench.core.tuner.log import TrialLog
from workbench.core.tuner.measurement import budget_stopper, score, violations
from workbench.core.tuner.space import Constraints, Objective
from workbench.core.tuner.strategies import STRATEGIES
from workbench.core.tuner.study import run_study

BUDGET = Constraints(p90_ms=4.0, min_fidelity=0.998)


def exhaustive_best(recorded, space):
    feasible = [(c, recorded.measurement(c)) for c in space.configs()]
    feasible = [(c, m) for c, m in feasible if not violations(m, space.constraints)]
    return max(feasible, key=lambda cm: score(cm[0], cm[1], space.objective))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_strategy_finds_a_feasible_config_and_never_remeasures(recorded, strategy):
    space = recorded.space(BUDGET)
    result = run_study(space, recorded.measure, strategy=strategy, n_trials=40, seed=3,
                       early_stop=lambda lat: False)
    keys = [t.config.key() for t in result.trials]
    assert len(keys) == len(set(keys)) == recorded.calls == 40
    best = result.best
    assert best is not None and best.feasible
    assert best.measurement.p90_ms <= 4.0 and best.measurement.fidelity >= 0.998


def test_grid_over_whole_space_equals_exhaustive_optimum(recorded):
    space = recorded.space(BUDGET, Objective(kind="fidelity_resolution"))
    result = run_study(space, recorded.measure, strategy="grid", early_stop=lambda lat: False)
    cfg, _ = exhaustive_best(recorded, space)
    assert len(result.trials) == space.size() == 84
    assert result.best.config == cfg


def test_tpe_reaches_the_latency_optimum_with_fewer_trials_than_the_space(recorded):
    space = recorded.space(Constraints(p90_ms=3.0, min_fidelity=0.998), Objective(kind="latency"))
    _, opt = exhaustive_best(recorded, space)
    hits = []
    for seed in range(3):
        recorded.calls = 0
        result = run_study(space, recorded.measure, strategy="tpe", n_trials=60, seed=seed)
        first = next(i for i, t in enumerate(result.trials, 1)
                     if t.feasible and t.measurement.p90_ms <= opt.p90_ms * 1.05)
        hits.append(first)
    assert max(hits) < space.size()


def test_pareto_front_is_non_dominated(recorded):
    space = recorded.space(Constraints(p90_ms=30.0), Objective(kind="pareto"))
    result = run_study(space, recorded.measure, strategy="nsga2", n_trials=50, seed=0)
    front = result.pareto()
    assert front
    for a in front:
        for b in result.feasible:
            better_all = b.measurement.p90_ms <= a.measurement.p90_ms and b.measurement.fidelity >= a.measurement.fidelity
            strictly = b.measurement.p90_ms < a.measurement.p90_ms or b.measurement.fidelity > a.measurement.fidelity
            assert not (better_all and strictly)


def test_early_stop_cuts_hopeless_trials_short(recorded):
    space = recorded.space(Constraints(p90_ms=3.0))
    result = run_study(space, recorded.measure, strategy="grid", early_stop=budget_stopper(3.0, min_iterations=3))
    stopped = [t for t in result.trials if t.measurement.stopped_early]
    assert stopped, "int8_dynamic at 224px never gets under 3 ms: it must be stopped early"
    assert all(t.measurement.iterations < 20 and not t.feasible for t in stopped)
    # nothing that would have met the budget was stopped
    for t in stopped:
        assert violations(recorded.measurement(t.config), space.constraints)
    assert all(t.config.variant != "int8_dynamic" or not t.feasible for t in result.trials)


def test_stopper_waits_for_min_iterations_and_uses_fastest():
    stop = budget_stopper(10.0, min_iterations=3, margin=0.5)
    assert not stop([40.0, 40.0])
    assert stop([40.0, 30.0, 16.0])
    assert not stop([40.0, 30.0, 14.0])
    assert not budget_stopper(None)([99.0] * 10)


def test_resume_after_disconnect_skips_finished_trials(recorded, tmp_path):
    space = recorded.space(BUDGET)
    log = TrialLog(tmp_path / "tuning.sqlite")
    calls = []

    def flaky(config, should_stop):
        calls.append(config)
        if len(calls) == 7:
            raise DeviceDisconnected("emulator-5554", "device went away")
        return recorded.measure(config, should_stop)

    for strategy in ("grid", "tpe"):
        calls.clear()
        with pytest.raises(DeviceDisconnected):
            run_study(space, flaky, strategy=strategy, n_trials=20, log=log, study_name=f"s-{strategy}")
        assert len(log.trials(f"s-{strategy}")) == 6
        before = len(calls)
        result = run_study(space, recorded.measure, strategy=strategy, n_trials=20, log=TrialLog(log.path),
                           study_name=f"s-{strategy}")
        assert before == 7
        assert sum(t.resumed for t in result.trials) == 6 and result.measured == 14
        keys = [t.config.key() for t in result.trials]
        assert len(set(keys)) == 20


def test_resume_with_other_space_is_refused(recorded, tmp_path):
    log = TrialLog(tmp_path / "t.sqlite")
    run_study(recorded.space(BUDGET), recorded.measure, strategy="grid", n_trials=2, log=log, study_name="x")
    with pytest.raises(WorkbenchError, match="different search space"):
        run_study(recorded.space(Constraints(p90_ms=1.0)), recorded.measure, strategy="grid", n_trials=2,
                  log=log, study_name="x")


def test_failed_trials_are_logged_and_study_goes_on(recorded, tmp_path):
    space = recorded.space(BUDGET)

    def sometimes_fails(config, should_stop):
        if config.batch == 2:
            raise RunFailed("runner exited with code -9 (out of memory)")
        return recorded.measure(config, should_stop)

    log = TrialLog(tmp_path / "t.sqlite")
    result = run_study(space, sometimes_fails, strategy="random", n_trials=30, log=log, study_name="f")
    failed = [t for t in result.trials if t.measurement is None]
    assert failed and all("out of memory" in t.error for t in failed)
    assert {t.status for t in log.trials("f")} == {"done", "failed"}
    assert result.best is not None and result.best.config.batch == 1


def test_cancel_stops_between_trials_and_progress_is_reported(recorded):
    cancel = threading.Event()
    events = []

    def measure(config, should_stop):
        if len(events) >= 3:
            cancel.set()
        return recorded.measure(config, should_stop)

    result = run_study(recorded.space(BUDGET), measure, strategy="grid", cancel=cancel,
                       emit=lambda e: events.append(e) if isinstance(e, Progress) else None)
    assert result.cancelled and 3 <= len(result.trials) < 84
    assert events[-1].message == "cancelled"
