"""Tuner view-model: form -> space (errors name the field), trial rows and verdicts, Pareto points, the
chosen text, thermal traces (absent channel stated), thresholds + replay from stored runs, export."""
from __future__ import annotations

import json

import pytest

from workbench.core.models import demo_model_path
from workbench.core.passes.variants import VariantStore
from workbench.core.store import RunStore
from workbench.core.tuner.recorded import RecordedSpace
from workbench.core.tuner.space import Constraints, SpaceError
from workbench.core.tuner.study import run_study
from workbench.core.types import BenchmarkJob, ChannelSpec, Sample
from workbench.core.viewmodels.tuner import (
    NO_THERMAL, TunerForm, chosen_text, derive_policy, pareto_points, profile_for, replay_text, rows_of,
    thermal_trace,
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
