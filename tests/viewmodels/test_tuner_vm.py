"""Tuner view-model: form -> space (errors name the field; pass knobs, energy budget, sustained settings),
trial rows and verdicts (why energy is unknown), Pareto points, the chosen text, the sustained verdict,
thermal traces (absent channel stated), thresholds + replay from stored runs, export."""
from __future__ import annotations

import json

import pytest

from workbench.core.errors import WorkbenchError
from workbench.core.models import demo_model_path
from workbench.core.passes.variants import VariantStore
from workbench.core.store import RunStore
from workbench.core.tuner.recorded import RecordedSpace
from workbench.core.tuner.space import Constraints, SpaceError
from workbench.core.tuner.study import run_study
from workbench.core.types import BenchmarkJob, ChannelSpec, Sample
from workbench.core.viewmodels.tuner import (
    NO_THERMAL, TunerForm, chosen_text, derive_policy, pareto_points, pass_knobs_for, profile_for, replay_text,
    rows_of, searchable_passes, sustain, thermal_trace, trial_row,
)

from tests.tuner.conftest import RECORDED
from tests.tuner.physics import simulate


def test_form_to_space_and_field_errors() -> None:
    form = TunerForm(variants={"base": "/m.onnx"}, resolutions="64,96", threads="1:2", budget_p90_ms=5.0,
                     min_fidelity=0.99, strategy="random", trials=3)
    space = form.to_space()
    assert space.axes()["resolution"] == [64, 96] and space.axes()["threads"] == [1, 2]
    assert space.constraints.p90_ms == 5.0 and space.constraints.peak_memory_mb is None
    assert space.reference == "base" and form.study_name(space, "local").startswith("gui-local-")
    for bad, match in ((TunerForm(variants={}), "variants: select at least one"),
                       (TunerForm(variants={"base": "m"}, resolutions="64,x"), "resolutions: '64,x': expected"),
                       (TunerForm(variants={"base": "m"}, threads="1:2:3:4"), "threads: '1:2:3:4'"),
                       (TunerForm(variants={"base": "m"}, strategy="magic"), "strategy: 'magic' is not one of")):
        with pytest.raises(SpaceError, match=match):
            bad.to_space()


def test_rows_pareto_and_chosen_from_a_recorded_study() -> None:
    rec = RecordedSpace.load(RECORDED)
    space = rec.space(Constraints(p90_ms=4.0, min_fidelity=0.99))
    study = run_study(space, rec.measure, strategy="grid", n_trials=12)
    rows = rows_of(study, space)
    assert len(rows) == 12 and all(r.verdict == "ok" for r in rows if r.feasible)
    assert all(r.verdict.startswith("over: ") for r in rows if not r.feasible)
    pts = pareto_points(study, space)
    placed = [p for items in pts.by_variant.values() for p in items]
    assert len(placed) + len(pts.no_fidelity) == sum(1 for t in study.trials if t.measurement)
    assert sum(p[3] for p in placed) == len([t for t in study.pareto() if t.measurement.fidelity is not None])
    assert pts.budget_p90_ms == 4.0 and pts.min_fidelity == 0.99
    best = study.best
    assert chosen_text(study).startswith(f"chosen: {best.config.label()} - p50") if best else "no configuration"


def _stored_run(store: RunStore, power: float, work: float, thermal: bool, seed: int) -> int:
    samples, its = simulate(power, work, 200.0, seed=seed)
    rid = store.create_run("phone", "/m.onnx", BenchmarkJob(model_path=__file__))
    store.add_channels(rid, [ChannelSpec("thermal.soc", "C", "thermal", "soc")] if thermal else
                       [ChannelSpec("cpu.load.all", "%", "cpu_load", "all")])
    for s in samples:
        store.add_sample(rid, s if thermal else Sample(s.t, {"cpu.load.all": 50.0}))
    for it in its:
        store.add_iteration(rid, it)
    return rid


def test_thermal_trace_thresholds_and_replay(tmp_path) -> None:
    store = RunStore(tmp_path)
    try:
        heavy = _stored_run(store, 3.0, 10.0, True, 1)
        light = _stored_run(store, 2.0, 6.0, True, 2)
        flat = _stored_run(store, 0.9, 10.0, False, 3)
        tr = thermal_trace(store, heavy)
        assert tr.has_thermal and tr.channel == "thermal.soc" and tr.t[0] == 0.0 and len(tr.lat_ms) > 100
        none = thermal_trace(store, flat)
        assert not none.has_thermal and none.reason == NO_THERMAL and len(none.lat_ms) > 0
        policy, _ = derive_policy(store, heavy, light, budget_p90_ms=13.0)
        assert policy.switch_back_at < policy.switch_at and set(policy.latency_curves) == {"heavy", "light"}
        assert 40.0 < policy.switch_at < tr.temp.max()  # throttling starts at 40 C in the simulated SoC
        text = replay_text(policy, tr)
        assert text.startswith(f"replay of run #{heavy}: ") and "switch(es)" in text
        with pytest.raises(Exception, match="no thermal channel"):
            derive_policy(store, flat, None, 13.0)
    finally:
        store.close()


def test_export_profile_of_a_recorded_study_names_the_chosen_variant(tmp_path) -> None:
    rec = RecordedSpace.load(RECORDED)
    space = rec.space(Constraints(p90_ms=50.0))
    study = run_study(space, rec.measure, strategy="grid", n_trials=4)
    model = demo_model_path("mobilenet_se")
    vstore = VariantStore(tmp_path)
    paths = {name: model for name in space.variants} or {"base": model}
    from workbench.core.devices.local import LocalDevice

    fingerprint = LocalDevice().info().fingerprint()
    profile = profile_for(study, space, paths, vstore, fingerprint, "local", "demo on local")
    doc = json.loads(profile.model_dump_json())
    assert doc["model"]["variant"]["path"] == str(model) and doc["provenance"]["trials"] == 4


# -- pass knobs, energy budget, sustained mode (what `tune --pass-space/--budget-energy-mj/--sustained` take) --
def test_pass_knobs_text_and_declared_spaces_become_pass_params() -> None:
    form = TunerForm(variants={"base": "/m.onnx"}, energy_mj=2.5,
                     pass_knobs="prune-channels.ratio = null, 0.25; fp16.keep_io_types=true")
    space = form.to_space()
    assert space.pass_params == {"prune-channels.ratio": [None, 0.25], "fp16.keep_io_types": [True]}
    assert space.axes()["pass.prune-channels.ratio"] == [None, 0.25] and space.size() == 2
    assert space.constraints.energy_mj == 2.5
    declared = TunerForm(variants={"base": "/m.onnx"}, pass_spaces=["prune-channels"]).to_space()
    assert len(declared.pass_params["prune-channels.ratio"]) == 5  # a float range becomes 5 points, as in the CLI
    typed = TunerForm(variants={"base": "/m.onnx"}, pass_spaces=["prune-channels"],
                      pass_knobs="prune-channels.ratio=0.5").to_space()
    assert typed.pass_params["prune-channels.ratio"] == [0.5]  # typed values win over the declared range
    assert "prune-channels" in dict(searchable_passes())
    assert form.study_name(space, "local") != TunerForm(variants={"base": "/m.onnx"}).study_name(
        TunerForm(variants={"base": "/m.onnx"}).to_space(), "local")  # knobs are part of the resumable identity
    for kw, match in (
            ({"pass_knobs": "ratio=0.25"}, "pass knobs: 'ratio=0.25': expected <pass_id>"),
            ({"pass_knobs": "prune-channels.ratio"}, "pass knobs: 'prune-channels.ratio'"),
            ({"pass_knobs": "a.b=1; a.b=2"}, "pass knobs: a.b is given twice"),
            ({"pass_knobs": "a.b= , "}, "pass knobs: a.b: needs at least one value"),
            ({"pass_spaces": ["no-such-pass"]}, "pass spaces: unknown pass 'no-such-pass'"),
            ({"sustained": True, "sustained_cap_s": 0}, "sustained cap \\(s\\): 0"),
            ({"sustained": True, "finalists": 0}, "finalists: 0: must be above 0")):
        with pytest.raises(SpaceError, match=match):
            TunerForm(variants={"base": "m"}, **kw).to_space()


def test_pass_knobs_are_checked_against_the_installed_pass_before_any_trial(tmp_path) -> None:
    model = demo_model_path("mobilenet_se")
    vstore = VariantStore(tmp_path)
    plain = TunerForm(variants={"base": str(model)}).to_space()
    assert pass_knobs_for(plain, vstore, {"base": model}) is None
    space = TunerForm(variants={"base": str(model)}, pass_knobs="prune-channels.ratio=null,0.25").to_space()
    knobs = pass_knobs_for(space, vstore, {"base": model})
    assert knobs is not None and knobs.parents["base"].sha256 == vstore.register_root(model).sha256
    bad = TunerForm(variants={"base": str(model)}, pass_knobs="prune-channels.ratio=1.5").to_space()
    with pytest.raises(SpaceError, match=r"^pass knobs: pass_params\.prune-channels\.ratio: "):
        pass_knobs_for(bad, vstore, {"base": model})


def _power_run(store: RunStore, channels: list[ChannelSpec], values: dict[str, float]) -> int:
    samples, its = simulate(2.0, 10.0, 5.0, seed=4)
    rid = store.create_run("phone", "/m.onnx", BenchmarkJob(model_path=__file__))
    store.add_channels(rid, channels)
    for s in samples:
        store.add_sample(rid, Sample(s.t, values))
    for it in its:
        store.add_iteration(rid, it)
    return rid


def test_trial_rows_say_why_energy_is_unknown(tmp_path) -> None:
    from workbench.core.tuner.measurement import TrialMeasurement
    from workbench.core.tuner.power import run_power
    from workbench.core.tuner.space import TrialConfig

    store = RunStore(tmp_path)
    try:
        runs = {
            "none": _power_run(store, [ChannelSpec("cpu.load.all", "%", "cpu_load", "all")], {"cpu.load.all": 50.0}),
            "rail": _power_run(store, [ChannelSpec("power.rail.cpu", "W", "power", "cpu rail")],
                               {"power.rail.cpu": 1.0}),
            "battery": _power_run(store, [ChannelSpec("power.battery", "W", "power", "battery")],
                                  {"power.battery": 2.0}),
        }
        space = TunerForm(variants={"base": "/m.onnx"}, energy_mj=5.0).to_space()
        rows = {}
        for name, rid in runs.items():
            power = run_power(store, rid)  # what BenchmarkMeasure stores in the trial's extra
            m = TrialMeasurement(p50_ms=2.0, p90_ms=3.0, run_id=rid, power_w=power.watts,
                                 extra={"power": power.to_json()})
            m.energy_mj = power.watts * m.p50_ms if power.watts is not None else None
            rows[name] = trial_row(0, TrialConfig(), m, space)
    finally:
        store.close()
    assert rows["none"].note == "energy unknown: the device reports no power telemetry"
    assert rows["none"].verdict == "over: energy_mj" and not rows["none"].feasible  # unknown energy is not met
    assert rows["rail"].note.startswith("energy unknown: only partial power channels (power.rail.cpu)")
    assert rows["battery"].note == "" and rows["battery"].energy_mj == pytest.approx(4.0)
    assert rows["battery"].verdict == "ok"


def test_sustained_is_skipped_without_a_feasible_trial_and_export_says_why(tmp_path) -> None:
    rec = RecordedSpace.load(RECORDED)
    space = rec.space(Constraints(p90_ms=1e-6))  # nothing is that fast
    study = run_study(space, rec.measure, strategy="grid", n_trials=3)
    # no finalist: returns before touching a device, so no measure is needed
    out = sustain(space, study, None, finalists=2, cap_s=5.0, slope_c_per_min=0.5)  # type: ignore[arg-type]
    assert out.chosen is None and out.verdict() == "sustained: skipped: no trial met the constraints"
    ok_space = rec.space(Constraints(p90_ms=50.0))
    ok = run_study(ok_space, rec.measure, strategy="grid", n_trials=2)
    model = demo_model_path("mobilenet_se")
    with pytest.raises(WorkbenchError, match="sustained: skipped: .*: nothing to export \\(untick sustained"):
        profile_for(ok, ok_space, {n: model for n in ok_space.variants}, VariantStore(tmp_path), {}, "local", "x",
                    sustained=out)


def test_export_of_a_pass_knob_trial_carries_the_derived_variant_and_its_lineage(tmp_path) -> None:
    from workbench.core.tuner.measurement import TrialMeasurement
    from workbench.core.tuner.space import TrialConfig
    from workbench.core.tuner.study import StudyResult, TrialRecord

    model = demo_model_path("mobilenet_se")
    space = TunerForm(variants={"base": str(model)}, resolutions="64",
                      pass_knobs="prune-channels.ratio=0.25").to_space()
    config = TrialConfig(resolution=64, pass_params=(("prune-channels.ratio", 0.25),))
    study = StudyResult("s", "grid", [TrialRecord(0, config, TrialMeasurement(p50_ms=1.0, p90_ms=2.0, fidelity=0.9,
                                                                              run_id=7), {}, 1.0)])
    vstore = VariantStore(tmp_path)
    from workbench.core.devices.local import LocalDevice

    fingerprint = LocalDevice().info().fingerprint()
    profile = profile_for(study, space, {"base": model}, vstore, fingerprint, "local", "pruned on local")
    steps = profile.model.variant.lineage
    assert [s.pass_id for s in steps] == [None, "prune-channels"] and steps[1].params["ratio"] == 0.25
    derived, hit = vstore.derive(vstore.register_root(model), "prune-channels", {"ratio": 0.25})
    assert hit and profile.model.variant.path == str(derived.path) and profile.model.variant.sha256 == derived.sha256
    assert profile.runtime.shapes and all(v[-2:] == [64, 64] for v in profile.runtime.shapes.values())
