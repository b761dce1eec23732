"""Tuner tab logic without Qt: the space/constraints form (pass knobs, energy budget, sustained mode),
the trial table, the Pareto points, the sustained verdict, thermal switching thresholds over a run's
traces, replay, and the profile to export.

The tab runs the same core pieces as `workbench tune` / `thresholds` / `replay` (run_study over a
BenchmarkMeasure with PassKnobs, the sustained finalists, derive_thermal_switch, replay, build_profile);
this module only turns form text into a TuningSpace and results into rows, points and sentences, so all
of it is tested without a display.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import json
import threading

import numpy as np

from workbench.core.errors import DeviceDisconnected, RunCancelled, WorkbenchError
from workbench.core.events import Emit, Log
from workbench.core.tuner.measurement import TrialMeasurement, violations
from workbench.core.tuner.space import SpaceError, TrialConfig, TuningSpace, parse_space
from workbench.core.tuner.stored_policy import NO_THERMAL

if TYPE_CHECKING:
    from workbench.core.passes.variants import Variant
    from workbench.core.profiles.model import SustainedJudgement, ThermalSwitch
    from workbench.core.store import RunStore
    from workbench.core.tuner.live import BenchmarkMeasure
    from workbench.core.tuner.pass_knobs import PassKnobs
    from workbench.core.tuner.study import StudyResult, TrialRecord
    from workbench.core.tuner.sustained import Finalist

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


def _knob_value(token: str) -> Any:
    """JSON scalars (null, 0.25, true, "x"); a bare word is a string, so `mode=fast,exact` works unquoted."""
    try:
        return json.loads(token)
    except ValueError:
        return token


def parse_pass_knobs(text: str) -> dict[str, list[Any]]:
    """'prune-channels.ratio=null,0.25; fp16.keep_io_types=true' -> the space's pass_params (the keys a
    space file lists under pass_params; null = the pass is not applied in that trial)."""
    out: dict[str, list[Any]] = {}
    for part in text.replace("\n", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        key, eq, values = part.partition("=")
        key = key.strip()
        pass_id, dot, param = key.rpartition(".")
        if not eq or not dot or not pass_id or not param:
            raise SpaceError("pass knobs", f"{part!r}: expected <pass_id>.<param>=v1,v2 "
                                           f"(e.g. prune-channels.ratio=null,0.25)")
        tokens = [t.strip() for t in values.split(",") if t.strip()]
        if not tokens:
            raise SpaceError("pass knobs", f"{key}: needs at least one value")
        if key in out:
            raise SpaceError("pass knobs", f"{key} is given twice")
        out[key] = [_knob_value(t) for t in tokens]
    return out


def searchable_passes() -> list[tuple[str, str]]:
    """(pass id, its declared knobs) of installed passes that declare a search space, for `--pass-space`."""
    from workbench.core.passes.registry import pass_statuses

    out = []
    for st in pass_statuses():
        dims = getattr(getattr(st.obj, "search_space", None), "dims", None) if st.ok else None
        if dims:
            out.append((st.manifest.name, ", ".join(sorted(dims))))
    return out


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
    pass_knobs: str = ""  # exact values, "prune-channels.ratio=null,0.25; ..." (a space file's pass_params)
    pass_spaces: list[str] = field(default_factory=list)  # pass ids whose declared search space is added
    energy_mj: float | None = None  # per inference; needs power telemetry (unknown = not met)
    sustained: bool = False
    sustained_cap_s: float = 120.0
    slope_c_per_min: float = 0.5
    finalists: int = 3

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
                "min_fidelity": self.min_fidelity, "energy_mj": self.energy_mj or None}
        raw["constraints"] = {k: v for k, v in cons.items() if v is not None}
        if self.sustained:
            for name, value in (("sustained cap (s)", self.sustained_cap_s),
                                ("steady slope (/min)", self.slope_c_per_min), ("finalists", self.finalists)):
                if not value or value <= 0:
                    raise SpaceError(name, f"{value!r}: must be above 0")
        explicit = parse_pass_knobs(self.pass_knobs)
        space = parse_space(raw, source="tuner form")
        for pass_id in self.pass_spaces:
            from workbench.core.passes.registry import get_pass

            try:
                declared = get_pass(pass_id).search_space
            except WorkbenchError as exc:
                raise SpaceError("pass spaces", str(exc)) from exc
            space = space.with_pass_space(pass_id, declared)
        if explicit:  # typed values win over a declared space's defaults for the same knob
            space = space.model_copy(update={"pass_params": {**space.pass_params, **explicit}})
        return space

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
    note: str = ""  # "energy unknown: <reason>" when the device gave no usable power reading


def energy_note(m: TrialMeasurement) -> str:
    """Why a trial has no energy figure (what `tune` prints under a trial), or "" when it has one."""
    if m.energy_mj is not None:
        return ""
    power = m.extra.get("power", {}) if isinstance(m.extra, dict) else {}
    return f"energy unknown: {power.get('unknown') or 'no power reading'}"


def trial_row(number: int, config: TrialConfig, m: TrialMeasurement | None, space: TuningSpace,
              error: str = "") -> TrialRow:
    """One line of the live trial table (also used for trials resumed from the log)."""
    if m is None:
        return TrialRow(number, config.label(), config.variant, None, None, None, None, None,
                        f"failed: {error}" if error else "failed", False, None)
    v = violations(m, space.constraints)
    verdict = "ok" if not v else "over: " + ", ".join(sorted(v))
    return TrialRow(number, config.label(), config.variant, m.p50_ms, m.p90_ms, m.peak_memory_mb, m.fidelity,
                    m.energy_mj, verdict, not v, m.run_id, energy_note(m))


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


# -- pass knobs --------------------------------------------------------------------------------------
def parents_of(vstore: Any, paths: dict[str, Path]) -> dict[str, "Variant"]:
    """The store's variant for each tuned file (a derived file is its own variant, not a new root)."""
    from workbench.core.viewmodels.compare import variant_of

    known = vstore.all()
    return {name: variant_of(path, known) or vstore.register_root(Path(path)) for name, path in paths.items()}


def pass_knobs_for(space: TuningSpace, vstore: Any, paths: dict[str, Path]) -> "PassKnobs | None":
    """What `tune` builds for pass knobs: None without any, else PassKnobs checked against the installed
    passes (a bad value is a SpaceError naming the knob before any trial runs)."""
    if not space.pass_params:
        return None
    from workbench.core.tuner.pass_knobs import PassKnobs

    knobs = PassKnobs(vstore, parents_of(vstore, paths))
    knobs.check(space, source="pass knobs")
    return knobs


# -- sustained mode ----------------------------------------------------------------------------------
JUDGED_ON = {
    "steady_state": "judged after thermal steady state",
    "second_half_no_thermal": "no thermal channel: ran to the cap, judged on the second half",
    "second_half_not_settled": "never settled within the cap: judged on the second half",
}


@dataclass
class FinalistRow:
    label: str
    short_p90_ms: float | None
    p50_ms: float | None
    p90_ms: float | None
    judged_on: str  # a JUDGED_ON sentence, or "-" when the long run failed
    run_id: int | None
    verdict: str  # "ok", "over: ...", or the run's error


@dataclass
class SustainedOutcome:
    """The sustained phase of a study: every finalist, the chosen one and its judgement (None when
    nothing met the constraints under sustained load, or the phase was cancelled: `error` says which)."""

    finals: list["Finalist"]
    chosen: "TrialRecord | None"
    judgement: "SustainedJudgement | None"
    cap_s: float
    error: str = ""

    def rows(self) -> list[FinalistRow]:
        out = []
        for f in self.finals:
            m, r = f.measurement, f.run
            verdict = (f.error if f.error else "ok" if f.feasible else "over: " + ", ".join(sorted(f.violations)))
            out.append(FinalistRow(f.trial.config.label(), f.trial.measurement.p90_ms if f.trial.measurement else None,
                                   m.p50_ms if m else None, m.p90_ms if m else None,
                                   JUDGED_ON[r.judged_on] if r else "-", r.run_id if r else None, verdict))
        return out

    def verdict(self) -> str:
        """One sentence: which finalist won and which judgement was used, or why none was chosen."""
        if self.error:
            return f"sustained: {self.error}"
        j = self.judgement
        if j is None or self.chosen is None:
            return (f"sustained: none of the {len(self.finals)} finalist(s) meets the constraints under sustained "
                    f"load (cap {self.cap_s:g} s); relax the budget or widen the space")
        return (f"sustained choice: {self.chosen.config.label()} - p90 {j.p90_ms:.2f} ms over {j.iterations} calls "
                f"of run #{j.run_id} ({j.judged_on}: {j.reason})")


def sustain(space: TuningSpace, study: "StudyResult", measure: "BenchmarkMeasure", *, finalists: int,
            cap_s: float, slope_c_per_min: float, cancel: threading.Event | None = None,
            emit: Emit | None = None) -> SustainedOutcome:
    """`tune --sustained`: re-run the best `finalists` trials until thermal steady state (or `cap_s`) and
    choose on that latency. Cancelling or losing the device ends the phase with `error` set; the study's
    trials stay as measured."""
    from workbench.core.tuner.sustained import sustain_finalists

    emit = emit or (lambda e: None)
    if study.best is None:
        return SustainedOutcome([], None, None, cap_s, error="skipped: no trial met the constraints")
    try:
        finals, best, judgement = sustain_finalists(
            space, study, measure, top_k=finalists, cap_s=cap_s, slope_c_per_min=slope_c_per_min, cancel=cancel,
            on_start=lambda i, n, config: emit(Log("info", f"sustained {i}/{n}: {config.label()} "
                                                           f"for up to {cap_s:g} s")))
    except RunCancelled:
        return SustainedOutcome([], None, None, cap_s, error="cancelled; the short-trial choice is not exported")
    except DeviceDisconnected as exc:
        return SustainedOutcome([], None, None, cap_s, error=f"stopped: {exc}")
    if best is None:
        return SustainedOutcome(finals, None, None, cap_s)
    return SustainedOutcome(finals, best.trial, judgement, cap_s)


# -- export ------------------------------------------------------------------------------------------
def lineage_of(vstore: Any, variant: Any) -> list[dict[str, Any]]:
    """Root-first lineage dicts as `build_profile` takes them (same as the CLI's)."""
    return [{"id": x.id, "parent": x.parent_id, "pass": x.pass_id, "params": x.params, "sha256": x.sha256,
             **({"name": x.name} if x.is_root else {})} for x in vstore.lineage(variant)]


def profile_for(study: "StudyResult", space: TuningSpace, paths: dict[str, Path], vstore: Any, fingerprint: dict,
                serial: str, name: str, switching: list | None = None,
                sustained: SustainedOutcome | None = None):
    """The tuning profile of the chosen trial - the sustained choice and its judgement when a sustained
    phase ran - with the lineage of the variant its pass knobs derive (raises WorkbenchError when there is
    nothing to export)."""
    from workbench.core.tuner.live import shapes_for
    from workbench.core.tuner.to_profile import build_profile

    best = study.best
    if best is None:
        raise WorkbenchError(f"study {study.name}: none of {len(study.trials)} trials met the constraints; "
                             f"nothing to export")
    if sustained is not None:
        if sustained.chosen is None or sustained.judgement is None:
            raise WorkbenchError(f"{sustained.verdict()}: nothing to export (untick sustained and start again to "
                                 f"export the short-trial choice; finished trials resume from the log)")
        best = sustained.chosen
    if best.config.pass_params:
        from workbench.core.tuner.pass_knobs import PassKnobs

        variant = PassKnobs(vstore, parents_of(vstore, {best.config.variant: paths[best.config.variant]})
                            ).variant(best.config)  # a cache hit: the trial derived it
    else:
        variant = parents_of(vstore, {best.config.variant: paths[best.config.variant]})[best.config.variant]
    path = Path(variant.path) if best.config.pass_params else paths[best.config.variant]
    return build_profile(name, study, space, fingerprint, lineage_of(vstore, variant),
                         shapes_for(path, best.config.resolution, best.config.batch), serial=serial,
                         variant_path=str(path), chosen=best, switching=switching,
                         sustained=sustained.judgement if sustained is not None else None)
