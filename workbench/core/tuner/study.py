"""Run a tuning study: ask a strategy, measure, judge, log; resumable, cancellable, with progress.

`measure` is injected, so the same loop drives a live device (through run_benchmark) and a recorded
search space (tests, bench). Each finished trial is in the log before the next one starts.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

from workbench.core.errors import DeviceDisconnected, RunCancelled, WorkbenchError
from workbench.core.events import Emit, Log, Progress
from workbench.core.tuner.log import TrialLog
from workbench.core.tuner.measurement import (
    Measure, ShouldStop, TrialMeasurement, budget_stopper, pareto_values, score, violations,
)
from workbench.core.tuner.space import TrialConfig, TuningSpace
from workbench.core.tuner.strategies import Outcome, make_strategy


@dataclass
class TrialRecord:
    number: int
    config: TrialConfig
    measurement: TrialMeasurement | None
    violations: dict[str, float]
    score: float
    error: str = ""
    resumed: bool = False

    @property
    def feasible(self) -> bool:
        return self.measurement is not None and not self.violations


@dataclass
class StudyResult:
    name: str
    strategy: str
    trials: list[TrialRecord] = field(default_factory=list)
    measured: int = 0  # trials measured in this call (the rest came from the log)
    cancelled: bool = False

    @property
    def feasible(self) -> list[TrialRecord]:
        return [t for t in self.trials if t.feasible]

    @property
    def best(self) -> TrialRecord | None:
        """Highest score among feasible trials; earliest wins ties (stable, reproducible)."""
        best: TrialRecord | None = None
        for t in self.feasible:
            if best is None or t.score > best.score:
                best = t
        return best

    def pareto(self) -> list[TrialRecord]:
        """Feasible trials no other feasible trial beats on all of p90, fidelity and energy."""
        pts = [(t, pareto_values(t.measurement)) for t in self.feasible if t.measurement]
        front = []
        for t, v in pts:
            dominated = any(all(a <= b for a, b in zip(w, v)) and any(a < b for a, b in zip(w, v)) for _, w in pts)
            if not dominated:
                front.append(t)
        return sorted(front, key=lambda t: t.measurement.p90_ms if t.measurement else 0.0)


def judge(space: TuningSpace, config: TrialConfig, m: TrialMeasurement | None) -> Outcome:
    if m is None:
        return Outcome(None)
    v = violations(m, space.constraints)
    values = pareto_values(m)
    return Outcome(m, v, score(config, m, space.objective), (values[0], -values[1]))


def run_study(
    space: TuningSpace,
    measure: Measure,
    *,
    strategy: str = "tpe",
    n_trials: int | None = None,
    seed: int = 0,
    log: TrialLog | None = None,
    study_name: str | None = None,
    cancel: threading.Event | None = None,
    emit: Emit | None = None,
    early_stop: ShouldStop | None = None,
) -> StudyResult:
    """Measure up to `n_trials` configurations in total (resumed ones count); returns every trial.

    Failed runs are logged and skipped; a disconnected device ends the study (everything measured is
    already logged, so re-running with the same study name continues where it stopped).
    """
    name = study_name or f"study-{space.digest()}-{strategy}-{seed}"
    total = min(n_trials or space.size(), space.size())
    strat = make_strategy(strategy, space, seed)
    stopper = early_stop or budget_stopper(space.constraints.p90_ms)
    result = StudyResult(name, strategy)
    cancel = cancel or threading.Event()

    def note(event: Progress | Log) -> None:
        if emit is not None:
            emit(event)

    if log is not None:
        space_json = json.dumps(space.model_dump(mode="json"), sort_keys=True)
        for lt in log.open_study(name, space.digest(), strategy, space_json):
            out = judge(space, lt.config, lt.measurement)
            strat.tell(lt.config, out)
            result.trials.append(TrialRecord(lt.number, lt.config, lt.measurement, out.violations, out.score,
                                             lt.error, resumed=True))
        if result.trials:
            note(Log("info", f"resumed study {name}: {len(result.trials)} trials already done"))

    while len(result.trials) < total:
        if cancel.is_set():
            result.cancelled = True
            break
        config = strat.ask()
        if config is None:
            break
        number = len(result.trials)
        note(Progress("tune", number, total, f"trial {number + 1}/{total}: {config.label()}"))
        error = ""
        try:
            m: TrialMeasurement | None = measure(config, stopper)
        except RunCancelled:
            if cancel.is_set():
                result.cancelled = True
                break
            raise
        except DeviceDisconnected:
            raise
        except WorkbenchError as exc:  # one broken config (OOM, unsupported shape) must not end the study
            m, error = None, str(exc)
            note(Log("warning", f"trial {number + 1} failed: {error}"))
        out = judge(space, config, m)
        strat.tell(config, out)
        if log is not None:
            log.record(name, number, config, m, error)
        result.trials.append(TrialRecord(number, config, m, out.violations, out.score, error))
        result.measured += 1
    note(Progress("tune", len(result.trials), total, "done" if not result.cancelled else "cancelled"))
    return result
