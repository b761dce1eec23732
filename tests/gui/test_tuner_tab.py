"""Tuner tab on the local device with a tiny space: live trial table, Pareto, chosen config, thermal state,
export; and cancel mid-study."""
from __future__ import annotations

from workbench.core.profiles import load_profile
from workbench.core.viewmodels.tuner import NO_THERMAL, pareto_points


def _ready(qtbot, w, demo_model):
    w.open_model(demo_model)
    qtbot.waitUntil(lambda: w.tuner_tab.variant_list.count() >= 1 and not w.tasks.pending, timeout=20_000)
    t = w.tuner_tab
    t.resolutions.setText("64,96")
    t.threads.setText("1")
    t.runs.setValue(3)
    t.strategy.setCurrentText("grid")
    return t


def test_study_table_pareto_thermal_state_and_export(qtbot, window, demo_model, tmp_path) -> None:
    w = window
    t = _ready(qtbot, w, demo_model)
    t.trials.setValue(2)
    t.budget.setValue(1000.0)
    trials = []
    t.controller.sig_trial.connect(trials.append)
    with qtbot.waitSignal(t.sig_study_done, timeout=90_000) as done:
        t.start_button.click()
        assert not t.start_button.isEnabled() and t.cancel_button.isEnabled()
    study = done.args[0]
    assert len(trials) == 2 and [r.label.split()[1] for r in trials] == ["64px", "96px"]  # live, as measured
    assert t.table.rowCount() == 2 and t.table.item(0, 7).text() == "ok"
    assert t.chosen.text().startswith("chosen: base ")
    # base is its own fidelity reference (cosine 1): both trials are placed on the scatter
    assert sum(len(v) for v in pareto_points(study, t.space).by_variant.values()) == 2
    qtbot.waitUntil(lambda: t.trace is not None, timeout=10_000)
    if not t.trace.has_thermal:  # this VM: say so, and offer no thresholds
        assert t.thermal_state.text() == NO_THERMAL and not t.derive_button.isEnabled()
    out = tmp_path / "profile.json"
    with qtbot.waitSignal(t.sig_exported, timeout=20_000):
        t.export_profile(out)
    profile = load_profile(out)
    assert profile.runtime.resolution in (64, 96) and profile.budgets.p90_ms == 1000.0
    assert profile.provenance.trials == 2


def test_cancel_ends_the_study_and_keeps_finished_trials(qtbot, window, demo_model) -> None:
    w = window
    t = _ready(qtbot, w, demo_model)
    t.runs.setValue(100_000)  # long trials: cancel lands inside the first one
    t.trials.setValue(2)
    with qtbot.waitSignal(t.sig_study_done, timeout=60_000) as done:
        t.start_button.click()
        qtbot.waitUntil(lambda: bool(w.store.list_runs(limit=1)) and w.store.list_runs(limit=1)[0]["iterations"] > 3,
                        timeout=30_000)
        t.cancel_button.click()
    assert done.args[0].cancelled and "cancelled" in t.status.text()
    assert t.start_button.isEnabled()


def test_bad_space_is_a_one_line_error_naming_the_field(qtbot, window, demo_model) -> None:
    w = window
    t = _ready(qtbot, w, demo_model)
    t.resolutions.setText("64,abc")
    t.start_button.click()
    assert "resolutions: '64,abc': expected integers" in t.status.text()
    assert not t.controller.busy


def test_pass_knobs_and_sustained_mode_on_the_local_device(qtbot, window, demo_model, tmp_path) -> None:
    """A prune-channels ratio knob [null, 0.25] derives a variant per trial; sustained re-runs both finalists
    to a short cap and, with no thermal channel here, says it judged the second half; energy is unknown."""
    w = window
    t = _ready(qtbot, w, demo_model)
    t.resolutions.setText("64")
    t.trials.setValue(2)
    t.budget.setValue(1000.0)
    t.pass_knobs.setText("prune-channels.ratio=null,0.25")
    t.sustained_box.setChecked(True)
    t.sustained_cap.setValue(1.5)
    t.finalists.setValue(2)
    with qtbot.waitSignal(t.sig_sustained, timeout=120_000) as judged:
        t.start_button.click()
    outcome = judged.args[0]
    labels = sorted(r.label for r in t.rows)
    assert labels == ["base 64px b1 t1 prune-channels.ratio=0.25", "base 64px b1 t1 prune-channels.ratio=None"]
    runs = {x["label"]: x["model"] for x in w.store.list_runs()}
    assert runs["tune base 64px b1 t1 prune-channels.ratio=0.25"] != str(demo_model)  # the derived variant ran
    assert runs["tune base 64px b1 t1 prune-channels.ratio=None"].endswith(".onnx")
    pruned = next(r for r in t.rows if r.label.endswith("0.25"))
    assert pruned.fidelity is not None and pruned.fidelity < 0.999
    if all(r.energy_mj is None for r in t.rows):  # this VM: no power telemetry, and each row says so
        assert [t.table.item(i, 9).text() for i in range(2)] == ["energy unknown: the device reports no power "
                                                                 "telemetry"] * 2
    assert not t.finalist_table.isHidden() and t.finalist_table.rowCount() == 2
    j = outcome.judgement
    assert j is not None and outcome.chosen is not None and not t.sustained_label.isHidden()  # the tab is not on top
    assert f"({j.judged_on}: " in t.sustained_label.text()
    if j.channel is None:  # no thermal zones: ran to the cap, judged on the second half, and the tab says so
        assert j.judged_on == "second_half_no_thermal"
        assert "(second_half_no_thermal: no thermal channel" in t.sustained_label.text()
        assert t.finalist_table.item(0, 4).text() == "no thermal channel: ran to the cap, judged on the second half"
    sustained_runs = [x for x in w.store.list_runs() if x["label"].startswith("sustained ")]
    assert len(sustained_runs) == 2 and j.run_id in {x["id"] for x in sustained_runs}
    assert t.export_button.isEnabled()
    out = tmp_path / "profile.json"
    with qtbot.waitSignal(t.sig_exported, timeout=20_000):
        t.export_profile(out)
    p = load_profile(out)
    assert p.expectations.sustained is not None and p.expectations.sustained.run_id == j.run_id
    assert (p.expectations.sustained.cap_s, p.expectations.sustained.finalists) == (1.5, 2)
    chosen_knobs = dict(outcome.chosen.config.pass_params)
    steps = [s.pass_id for s in p.model.variant.lineage]
    assert steps == ([None, "prune-channels"] if chosen_knobs["prune-channels.ratio"] is not None else [None])


def test_energy_budget_without_power_telemetry_is_not_met_and_says_why(qtbot, window, demo_model) -> None:
    w = window
    t = _ready(qtbot, w, demo_model)
    t.resolutions.setText("64")
    t.trials.setValue(1)
    t.energy.setValue(1.0)
    t.sustained_box.setChecked(True)
    with qtbot.waitSignal(t.sig_study_done, timeout=60_000):
        t.start_button.click()
    row = t.rows[0]
    if row.energy_mj is None:  # this VM
        assert row.verdict == "over: energy_mj" and t.table.item(0, 7).text() == "over: energy_mj"
        assert t.table.item(0, 9).text() == "energy unknown: the device reports no power telemetry"
        assert t.chosen.text().startswith("no configuration met the constraints")
        assert t.sustained_label.text() == "sustained: skipped: no trial met the constraints"
        assert not t.export_button.isEnabled()


def test_pass_spaces_and_bad_knobs_are_one_line_errors(qtbot, window, demo_model) -> None:
    w = window
    t = _ready(qtbot, w, demo_model)
    qtbot.waitUntil(lambda: t.pass_spaces.count() > 0, timeout=20_000)
    t.check_pass_space("prune-channels")
    assert len(t.form().to_space().axes()["pass.prune-channels.ratio"]) == 5
    t.check_pass_space("prune-channels", False)
    t.pass_knobs.setText("ratio=0.5")
    t.start_button.click()
    assert t.status.text().startswith("error: pass knobs: 'ratio=0.5': expected <pass_id>.<param>=")
    assert not t.controller.busy
    t.pass_knobs.setText("prune-channels.ratio=1.5")  # parses, but the pass refuses it before any trial runs
    with qtbot.waitSignal(t.controller.sig_failed, timeout=20_000):
        t.start_button.click()
    assert t.status.text().startswith("error: pass knobs: pass_params.prune-channels.ratio: ")
    assert "\n" not in t.status.text() and w.store.list_runs() == []
