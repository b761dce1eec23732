"""Tuner tab logic without Qt: the space/constraints form, the trial table, the Pareto points, thermal
switching thresholds over a run's traces, replay, and the profile to export.

The tab runs the same core pieces as `workbench tune` / `thresholds` / `replay` (run_study over a
BenchmarkMeasure, derive_thermal_switch, replay, build_profile); this module only turns form text into
a TuningSpace and study results into rows and points, so all of it is tested without a display.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.core.errors import WorkbenchError
from workbench.core.tuner.measurement import TrialMeasurement, violations
from workbench.core.tuner.space import SpaceError, TrialConfig, TuningSpace, parse_space
from workbench.core.tuner.stored_policy import NO_THERMAL

if TYPE_CHECKING:
    from workbench.core.profiles.model import ThermalSwitch
    from workbench.core.store import RunStore
    from workbench.core.tuner.study import StudyResult

STRATEGIES = ["grid", "random", "tpe", "nsga2"]


def parse_ints(text: str, field_name: str) -> list[int] | dict[str, int] | None:
    """'64,96' -> [64, 96]; '128:224:32' -> an inclusive range; '' -> None (the knob keeps its default)."""
    text = text.strip()
    if not text:
        return None
    try:
        if ":" in text:
            parts = [int(x) for x in text.split(":")]
            if len(parts) not in (2, 3):
                raise ValueError
            low, high, step = (parts + [1])[:3]
            return {"low": low, "high": high, "step": step}
        values = [int(x) for x in text.replace(" ", "").split(",") if x]
    except ValueError:
        raise SpaceError(field_name, f"{text!r}: expected integers like 1,2,4 or a range low:high:step") from None
    if not values:
        raise SpaceError(field_name, "needs at least one value")
    return values


@dataclass
class TunerForm:
    """What the space/constraints editor holds. Budgets of 0 (or None) mean unconstrained."""

    variants: dict[str, str] = field(default_factory=dict)  # name -> ONNX path; "base" is the reference
    resolutions: str = ""
    threads: str = "1"
    batch: str = "1"
    budget_p90_ms: float | None = None
    memory_mb: float | None = None
    min_fidelity: float | None = None
    strategy: str = "grid"
    trials: int = 8
    runs: int = 20
    warmup: int = 2
    seed: int = 0

    def to_space(self) -> TuningSpace:
        """The TuningSpace, or SpaceError naming the form field and the problem."""
        if not self.variants:
            raise SpaceError("variants", "select at least one model or variant to tune")
        if self.strategy not in STRATEGIES:
            raise SpaceError("strategy", f"{self.strategy!r} is not one of {', '.join(STRATEGIES)}")
        if self.trials < 1:
            raise SpaceError("trials", "needs at least one trial")
        raw: dict[str, Any] = {"variants": dict(self.variants),
                               "reference": "base" if "base" in self.variants else None}
        for key, text in (("resolutions", self.resolutions), ("threads", self.threads), ("batch", self.batch)):
            value = parse_ints(text, key)
            if value is not None:
                raw[key] = value
        cons = {"p90_ms": self.budget_p90_ms or None, "peak_memory_mb": self.memory_mb or None,
                "min_fidelity": self.min_fidelity}
        raw["constraints"] = {k: v for k, v in cons.items() if v is not None}
        return parse_space(raw, source="tuner form")

    def study_name(self, space: TuningSpace, serial: str) -> str:
        """Same space + device + strategy + seed = same trial log: a restarted study resumes."""
        return f"gui-{serial}-{space.digest()[:10]}-{self.strategy}-{self.seed}"


@dataclass
class TrialRow:
    number: int
    label: str
    variant: str
    p50_ms: float | None
    p90_ms: float | None
    memory_mb: float | None
    fidelity: float | None
    energy_mj: float | None
    verdict: str  # "ok", "over: p90_ms", "failed: ..."
    feasible: bool
    run_id: int | None


def trial_row(number: int, config: TrialConfig, m: TrialMeasurement | None, space: TuningSpace,
              error: str = "") -> TrialRow:
    """One line of the live trial table (also used for trials resumed from the log)."""
    if m is None:
        return TrialRow(number, config.label(), config.variant, None, None, None, None, None,
                        f"failed: {error}" if error else "failed", False, None)
    v = violations(m, space.constraints)
    verdict = "ok" if not v else "over: " + ", ".join(sorted(v))
    return TrialRow(number, config.label(), config.variant, m.p50_ms, m.p90_ms, m.peak_memory_mb, m.fidelity,
                    m.energy_mj, verdict, not v, m.run_id)


def rows_of(study: "StudyResult", space: TuningSpace) -> list[TrialRow]:
    return [trial_row(t.number, t.config, t.measurement, space, t.error) for t in study.trials]


@dataclass
class ParetoPoints:
    """Per variant: p90 (x), fidelity (y), whether feasible and on the front. Trials without a measured
    fidelity are listed apart (they cannot be placed on the fidelity axis)."""

    by_variant: dict[str, list[tuple[float, float, bool, bool]]]
    no_fidelity: list[str]
    budget_p90_ms: float | None
    min_fidelity: float | None


def pareto_points(study: "StudyResult", space: TuningSpace) -> ParetoPoints:
    front = {id(t) for t in study.pareto()}
    out: dict[str, list[tuple[float, float, bool, bool]]] = {}
    missing = []
    for t in study.trials:
        m = t.measurement
        if m is None:
            continue
        if m.fidelity is None:
            missing.append(t.config.label())
            continue
        out.setdefault(t.config.variant, []).append((m.p90_ms, m.fidelity, t.feasible, id(t) in front))
    return ParetoPoints(out, missing, space.constraints.p90_ms, space.constraints.min_fidelity)


def chosen_text(study: "StudyResult") -> str:
    """The configuration the profile would hold, or why there is none."""
    best = study.best
    if best is None or best.measurement is None:
        return (f"no configuration met the constraints ({len(study.trials)} tried): relax a budget or widen "
                f"the space" if study.trials else "no trials yet")
    m = best.measurement
    fid = f", cosine {m.fidelity:.5f}" if m.fidelity is not None else ""
    mem = f", peak {m.peak_memory_mb:.0f} MB" if m.peak_memory_mb is not None else ""
    return f"chosen: {best.config.label()} - p50 {m.p50_ms:.2f} ms, p90 {m.p90_ms:.2f} ms{mem}{fid}"


# -- thermal switching -------------------------------------------------------------------------------
@dataclass
class ThermalTrace:
    """A stored run's temperature and latency on time since the run's start; `reason` when no channel."""

    run_id: int
    channel: str | None
    t: np.ndarray  # sample times (s since start)
    temp: np.ndarray
    lat_t: np.ndarray  # measured iterations (s since start)
    lat_ms: np.ndarray
    reason: str = ""

    @property
    def has_thermal(self) -> bool:
        return self.channel is not None


def thermal_trace(store: "RunStore", run_id: int, channel: str | None = None) -> ThermalTrace:
    from workbench.core.tuner.steady import thermal_key
    from workbench.core.viewmodels.compare import run_t0

    t, series = store.samples(run_id)
    iters = [it for it in store.iterations(run_id) if it.phase == "measure"]
    t0 = run_t0(t, store.iterations(run_id))
    key = channel if channel in series else thermal_key(series)
    lat_t = np.array([it.t_start for it in iters], float) - t0
    lat_ms = np.array([it.latency_ms for it in iters], float)
    if key is None:
        return ThermalTrace(run_id, None, np.asarray(t, float) - t0, np.empty(0), lat_t, lat_ms, NO_THERMAL)
    return ThermalTrace(run_id, key, np.asarray(t, float) - t0, np.asarray(series[key], float), lat_t, lat_ms)


def derive_policy(store: "RunStore", heavy_run: int, light_run: int | None, budget_p90_ms: float,
                  heavy: str = "heavy", light: str = "light") -> tuple["ThermalSwitch", list[str]]:
    """A thermal switch policy (with latency curves for replay) from stored runs of the heavy and light
    variant - what `workbench thresholds` derives - and its warnings."""
    from workbench.core.tuner.stored_policy import thermal_policy_from_runs

    policy, th = thermal_policy_from_runs(store, heavy_run, light_run, budget_p90_ms, heavy=heavy, light=light)
    return policy, list(th.warnings)


def replay_text(policy: "ThermalSwitch", trace: ThermalTrace) -> str:
    """What the policy would have done over this run's temperature trace, in one paragraph."""
    from workbench.core.tuner.replay import curves_latency, replay

    if not trace.has_thermal:
        raise WorkbenchError(f"run {trace.run_id}: {NO_THERMAL}")
    ok = np.isfinite(trace.temp)
    res = replay(policy, trace.t[ok], trace.temp[ok], curves_latency(policy.latency_curves), policy.budget_p90_ms)
    on = ", ".join(f"{v} {s:.1f} s" for v, s in res.time_on.items())
    return (f"replay of run #{trace.run_id}: {len(res.switches)} switch(es); time on {on}; "
            f"{res.violations}/{res.steps} steps over the budget ({res.violation_time_s:.1f} s)")


# -- export ------------------------------------------------------------------------------------------
def lineage_of(vstore: Any, variant: Any) -> list[dict[str, Any]]:
    """Root-first lineage dicts as `build_profile` takes them (same as the CLI's)."""
    return [{"id": x.id, "parent": x.parent_id, "pass": x.pass_id, "params": x.params, "sha256": x.sha256,
             **({"name": x.name} if x.is_root else {})} for x in vstore.lineage(variant)]


def profile_for(study: "StudyResult", space: TuningSpace, paths: dict[str, Path], vstore: Any, fingerprint: dict,
                serial: str, name: str, switching: list | None = None):
    """The tuning profile of the chosen trial (raises WorkbenchError when no trial met the constraints)."""
    from workbench.core.tuner.live import shapes_for
    from workbench.core.tuner.to_profile import build_profile

    best = study.best
    if best is None:
        raise WorkbenchError(f"study {study.name}: none of {len(study.trials)} trials met the constraints; "
                             f"nothing to export")
    from workbench.core.viewmodels.compare import variant_of

    path = paths[best.config.variant]
    variant = variant_of(path, vstore.all()) or vstore.register_root(path)  # a derived file is not a new root
    return build_profile(name, study, space, fingerprint, lineage_of(vstore, variant),
                         shapes_for(path, best.config.resolution, best.config.batch), serial=serial,
                         variant_path=str(path), chosen=best, switching=switching)
