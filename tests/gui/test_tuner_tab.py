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
