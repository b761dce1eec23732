"""Sustained mode: re-run the best few trials until thermal steady state (or a time cap) and choose on that.

A short trial measures a cool device. The finalists run again for up to `cap_s` seconds; once the
hottest thermal channel settles (steady.SteadyWatch) the run continues for `judge_iterations` more
calls and is then stopped, so settled devices do not burn the whole cap. Each finalist is judged on
the latency after steady state; without thermal channels (VMs, some boards) it runs to the cap and
the second half is judged, and the verdict says which judgement was used. A run stopped at steady
state is stored as `done` with the reason in its conditions (`stopped_early`).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable

from workbench.core.benchmark import run_benchmark
from workbench.core.stopping import RunStop
from workbench.core.errors import DeviceDisconnected, RunCancelled, RunFailed
from workbench.core.events import Emit, Iteration, SampleEvent
from workbench.core.tuner.live import BenchmarkMeasure
from workbench.core.tuner.measurement import TrialMeasurement, score, violations
from workbench.core.tuner.space import TrialConfig, TuningSpace
from workbench.core.tuner.steady import SteadyState, SteadyWatch, steady_state, thermal_key
from workbench.core.tuner.study import StudyResult, TrialRecord
from workbench.core.types import RunStatus

if TYPE_CHECKING:
    from workbench.core.profiles.model import SustainedJudgement

JUDGEMENTS = ("steady_state", "second_half_no_thermal", "second_half_not_settled")


@dataclass
class SustainedRun:
    """One finalist's long run and what it was judged on."""

    config: TrialConfig
    run_id: int
    steady: SteadyState
    channel: str | None
    seconds: float  # device-clock span of the measured iterations
    stopped_at_steady: bool

    @property
    def judged_on(self) -> str:
        if self.steady.reached:
            return "steady_state"
        return "second_half_no_thermal" if self.channel is None else "second_half_not_settled"


@dataclass
class Finalist:
    trial: TrialRecord  # the short trial that made it a finalist
    run: SustainedRun | None
    measurement: TrialMeasurement | None  # the trial's numbers with latency replaced by the sustained one
    violations: dict[str, float]
    score: float
    error: str = ""

    @property
    def feasible(self) -> bool:
        return self.measurement is not None and not self.violations


def finalists(result: StudyResult, top_k: int) -> list[TrialRecord]:
    """The `top_k` best feasible trials of a study, best first (earliest wins ties, as in StudyResult.best)."""
    ranked = sorted(result.feasible, key=lambda t: (-t.score, t.number))
    return ranked[:max(1, top_k)]


def run_sustained(measure: BenchmarkMeasure, config: TrialConfig, *, cap_s: float, slope_per_min: float,
                  window_s: float = 20.0, judge_iterations: int = 30, emit: Emit | None = None,
                  cancel: threading.Event | None = None) -> SustainedRun:
    """Run `config` for up to `cap_s` seconds on the measure's device; stop `judge_iterations` calls after
    the thermal steady state. The run is stored like every trial."""
    emit = emit or (lambda e: None)
    cancel = cancel or threading.Event()
    job = replace(measure.job(config), runs=None, seconds=cap_s, label=f"sustained {config.label()}")
    watch = SteadyWatch(slope_per_min, window_s)
    run_cancel = RunStop()
    after = [0]

    def on_event(event: Any) -> None:
        emit(event)
        if isinstance(event, SampleEvent):
            watch.add(event.sample)
        elif isinstance(event, Iteration) and event.iteration.phase == "measure" and watch.t_steady is not None:
            if event.iteration.t_start >= watch.t_steady:
                after[0] += 1
                if after[0] >= judge_iterations and not run_cancel.is_set():
                    run_cancel.stop(f"thermal steady state reached, then {judge_iterations} judged iterations")
        if cancel.is_set():
            run_cancel.stop("tuning cancelled by the user", planned=False)

    result = run_benchmark(measure.device, job, measure.store, on_event, run_cancel)
    measure.run_ids.append(result.run_id)
    if result.status == RunStatus.INTERRUPTED:
        raise DeviceDisconnected(measure.device.serial, result.error or "disconnected during a sustained run")
    if cancel.is_set():
        raise RunCancelled("tuning cancelled")
    if result.status == RunStatus.FAILED:
        raise RunFailed(result.error or f"run {result.run_id} failed")
    t, series = measure.store.samples(result.run_id)
    its = [it for it in measure.store.iterations(result.run_id) if it.phase == "measure"]
    ss = steady_state(t, series, its, slope_per_min=slope_per_min, window_s=window_s)
    span = (its[-1].t_start - its[0].t_start) if len(its) > 1 else 0.0
    return SustainedRun(config, result.run_id, ss, thermal_key(series), span,
                        stopped_at_steady=result.status == RunStatus.CANCELLED)


def judge_finalists(space: TuningSpace, picks: list[TrialRecord],
                    run_one: Callable[[TrialConfig], SustainedRun]) -> list[Finalist]:
    """Re-judge each finalist with its sustained latency (memory and fidelity as measured in the trial).
    A finalist whose long run fails is kept with its error and is not eligible."""
    out = []
    for tr in picks:
        try:
            run = run_one(tr.config)
        except (RunFailed, ValueError) as exc:
            out.append(Finalist(tr, None, None, {}, float("-inf"), error=str(exc)))
            continue
        if run.steady.p50_ms is None or run.steady.p90_ms is None:
            out.append(Finalist(tr, run, None, {}, float("-inf"), error=f"run {run.run_id}: {run.steady.reason}"))
            continue
        m = replace(tr.measurement, p50_ms=run.steady.p50_ms, p90_ms=run.steady.p90_ms, run_id=run.run_id,
                    iterations=run.steady.iterations, stopped_early=False)
        out.append(Finalist(tr, run, m, violations(m, space.constraints), score(tr.config, m, space.objective)))
    return out


def best_finalist(finals: list[Finalist]) -> Finalist | None:
    """Highest sustained score among finalists still within budget; the cold rank breaks ties."""
    best = None
    for f in finals:
        if f.feasible and (best is None or f.score > best.score):
            best = f
    return best


def sustain_finalists(space: TuningSpace, result: StudyResult, measure: BenchmarkMeasure, *, top_k: int,
                      cap_s: float, slope_c_per_min: float, cancel: threading.Event | None = None,
                      on_start: Callable[[int, int, TrialConfig], None] | None = None,
                      ) -> tuple[list[Finalist], Finalist | None, "SustainedJudgement | None"]:
    """`tune --sustained` for the CLI and the Tuner tab alike: re-run the top-k trials until thermal steady
    state (or `cap_s`; three slope windows fit in the cap), pick the best on sustained latency, and describe
    that judgement for the profile. Returns (finalists, best or None, judgement or None)."""
    from workbench.core.profiles.model import SustainedJudgement

    picks = finalists(result, top_k)
    window = min(20.0, cap_s / 3)
    started = [0]

    def run_one(config: TrialConfig) -> SustainedRun:
        started[0] += 1
        if on_start:
            on_start(started[0], len(picks), config)
        return run_sustained(measure, config, cap_s=cap_s, slope_per_min=slope_c_per_min, window_s=window,
                             cancel=cancel)

    finals = judge_finalists(space, picks, run_one)
    best = best_finalist(finals)
    if best is None:
        return finals, None, None
    run, m = best.run, best.measurement
    ss = run.steady
    judgement = SustainedJudgement(
        judged_on=run.judged_on, reason=ss.reason, run_id=run.run_id, finalists=len(finals), cap_s=cap_s,
        slope_c_per_min=slope_c_per_min, channel=run.channel, temperature_c=ss.temperature,
        steady_after_s=_since_start(measure.store, run.run_id, ss.t_steady), p50_ms=m.p50_ms, p90_ms=m.p90_ms,
        iterations=ss.iterations)
    return finals, best, judgement


def _since_start(store, run_id: int, t_steady: float | None) -> float | None:
    """Seconds from the first measured iteration to thermal steady state (None if never steady)."""
    if t_steady is None:
        return None
    its = [it for it in store.iterations(run_id) if it.phase == "measure"]
    return max(0.0, t_steady - its[0].t_start) if its else None
