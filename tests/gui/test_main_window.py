"""The window end to end on this machine: real runs of the demo model through core's run_benchmark."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from workbench.core.types import RunStatus


def _run(qtbot, w, runs: int = 15, layers: bool = False, seconds: float = 0.0):
    w.run_panel.runs.setValue(runs)
    w.run_panel.warmup.setValue(2)
    w.run_panel.layers.setChecked(layers)
    w.run_panel.seconds.setValue(seconds)
    with qtbot.waitSignal(w.bridge.sig_run_finished, timeout=60_000) as blocker:
        w.start_action.trigger()  # Ctrl+R
    qtbot.waitUntil(lambda: not w.runner.busy, timeout=10_000)
    return blocker.args[0].result


def test_run_fills_live_layers_history(qtbot, window, demo_model) -> None:
    w = window
    w.open_model(demo_model)
    assert w.run_panel.model == demo_model.resolve()
    with qtbot.waitSignal(w.sig_history_loaded, timeout=10_000):
        result = _run(qtbot, w, runs=15, layers=True)
    assert result.status == RunStatus.DONE, result.error
    qtbot.waitUntil(lambda: w.chart.set_data_calls > 0 and len(w.live.latency["measure"]) == 15, timeout=5000)
    assert {"cpu_load", "memory_runner", "memory_system"} <= set(w.chart.group_names())
    _, (y0, y1) = w.chart.plot_item("cpu_load").viewRange()
    assert y0 == 0.0 and 105.0 <= y1 <= 110.0  # loads keep the full scale, with headroom above 100%
    assert "thermal" not in w.chart.group_names()  # this VM has no thermal zones: no chart, not zeros
    assert w.layers_tab.table.rowCount() == len(result.layers) > 0
    assert w.layers_tab.ops.rowCount() > 0
    assert w.history_tab.table.rowCount() == 1
    assert "p50" in w.run_panel.summary.text()
    w.layers_tab.filter.setText("conv")
    assert 0 < w.layers_tab.table.rowCount() < len(result.layers)


def test_reopen_compare_and_diff(qtbot, window, demo_model, tmp_path) -> None:
    w = window
    w.open_model(demo_model)
    a = _run(qtbot, w, runs=10, layers=True)
    w.run_panel.threads.setValue(1)
    b = _run(qtbot, w, runs=10, layers=True)
    assert a.status == b.status == RunStatus.DONE, (a.error, b.error)
    with qtbot.waitSignal(w.sig_compare_shown, timeout=10_000):
        w.compare_runs([a.run_id, b.run_id])
    labels = [w.compare_tab.table.item(r, 0).text() for r in range(w.compare_tab.table.rowCount())]
    assert "p50 latency (ms)" in labels and "model file (MB)" in labels
    titles = w.compare_tab.trace_titles
    assert titles[0] == "Latency per iteration" and "CPU load per core" in titles
    if not any(c.group == "thermal" for c in w.store.channels(a.run_id)):
        assert "Temperatures" not in titles  # this VM has no thermal zones: no empty chart for them
    if not any(c.group == "power" for c in w.store.channels(a.run_id)):
        assert "energy / inference (mJ)" not in labels and "no energy figure" in w.compare_tab.caption.text()
        assert w.compare_tab.caption.text().count("no energy") == 1  # one shared reason, said once
    with qtbot.waitSignal(w.sig_run_loaded, timeout=10_000):
        w.open_run(a.run_id)
    assert w.current_run_id == a.run_id
    assert len(w.live.latency["measure"]) == 10
    assert w.layers_tab.table.rowCount() == len(a.layers)
    w._diff_with(b.run_id)
    qtbot.waitUntil(lambda: w.layers_tab.diff.rowCount() > 0, timeout=10_000)
    out = tmp_path / "a.json"
    w.export_run(a.run_id, "json", out)
    qtbot.waitUntil(out.exists, timeout=10_000)


def test_stop_cancels_and_keeps_measurements(qtbot, window, demo_model) -> None:
    w = window
    w.open_model(demo_model)
    w.run_panel.seconds.setValue(60)
    assert w.run_panel.runs.text() == "until duration"  # not a leftover count that would cut the run short
    w.run_panel.seconds.setValue(0)
    assert w.run_panel.runs.value() == 50  # the count comes back when the duration is cleared
    w.run_panel.seconds.setValue(60)
    w.run_panel.runs.setValue(1_000_000)
    w.start_run()
    qtbot.waitUntil(lambda: len(w.live.latency["measure"]) > 5 or w.live.drain().iterations > 0, timeout=20_000)
    with qtbot.waitSignal(w.bridge.sig_run_finished, timeout=20_000) as blocker:
        w.stop_action.trigger()  # Esc
    assert blocker.args[0].result.status == RunStatus.CANCELLED
    qtbot.waitUntil(lambda: not w.runner.busy, timeout=10_000)


def test_close_during_run_cancels_cleanly(qtbot, tmp_path, settings, demo_model) -> None:
    from workbench.app.main_window import MainWindow
    from workbench.core.devices.registry import list_devices

    w = MainWindow(tmp_path / "ws", settings=settings, device_lister=lambda: list_devices(include_adb=False))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.run_panel.device.count() > 0, timeout=10_000)
    w.open_model(demo_model)
    w.run_panel.seconds.setValue(60)
    w.start_run()
    qtbot.waitUntil(lambda: w.runner.busy, timeout=5000)
    qtbot.wait(500)
    w.close()
    assert not w.runner.busy
    assert settings.value("recent") == [str(demo_model.resolve())]  # saved on close


def test_bad_model_shows_one_line_error(qtbot, window, tmp_path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    window.open_model(bad)
    assert window.last_error is not None
    assert window.last_error.text() == f"{bad}: not an ONNX model (extension .txt, expected .onnx)"
    window.last_error.close()
    window.run_panel.set_model(None)
    window.start_run()  # no model: error, no run
    assert "no model selected" in window.last_error.text() and not window.runner.busy


def test_percentiles_drawn_match_run_stats(qtbot, window, demo_model) -> None:
    w = window
    w.open_model(demo_model)
    result = _run(qtbot, w, runs=30)
    qtbot.waitUntil(lambda: len(w.live.latency["measure"]) == 30, timeout=5000)
    lat = w.live.latency["measure"].column("lat.measure")
    assert np.isclose(np.median(lat), result.latency.p50_ms, rtol=1e-6)


def test_derive_variant_from_schema_form(qtbot, window, demo_model) -> None:
    w = window
    w.open_model(demo_model)
    qtbot.waitUntil(lambda: w.models_panel.tree.topLevelItemCount() == 1 and not w.tasks.pending, timeout=20_000)
    w.models_panel.tree.setCurrentItem(w.models_panel.tree.topLevelItem(0))
    assert w.models_panel.derive_button.isEnabled()
    w.models_panel.derive_button.click()
    dialog = w.last_dialog
    dialog.combo.setCurrentIndex(dialog.combo.findData("prune-magnitude"))
    assert {"sparsity", "scope", "op_types"} <= set(dialog.editors)
    dialog.editors["op_types"].setText("Conv")
    dialog.editors["sparsity"].setValue(0.3)
    dialog.combo.setCurrentIndex(dialog.combo.findData("fix-shape"))
    dialog.editors["dims"].setText("{not json")
    dialog._accept()
    assert dialog.isVisible() and "fix-shape: dims" in dialog.error.text()  # stays open, says which field
    dialog.combo.setCurrentIndex(dialog.combo.findData("prune-magnitude"))
    dialog.editors["sparsity"].setValue(0.3)
    derived = []
    w.sig_variant_derived.connect(derived.append)
    dialog._accept()
    qtbot.waitUntil(lambda: bool(derived) or w.last_error is not None, timeout=60_000)
    assert derived, w.last_error.text() + "\n" + w.last_error.detailedText()
    qtbot.waitUntil(lambda: w.models_panel.tree.topLevelItem(0).childCount() == 1, timeout=10_000)
    child = w.models_panel.tree.topLevelItem(0).child(0)
    assert child.text(0).startswith("prune-magnitude") and "sparsity=0.3" in child.text(0)
    w.models_panel.tree.setCurrentItem(child)
    assert w.run_panel.model.suffix == ".onnx" and w.run_panel.model != demo_model.resolve()
    # done: fidelity in the dock and the status bar, progress row hidden again
    assert not w.models_panel.deriving and w.models_panel.derive_bar.isHidden()
    assert "cos 0." in w.models_panel.derive_label.text() and "cos 0." in child.text(2)
    # the variant's own run shows as its newest latency on this device
    result = _run(qtbot, w, runs=5)
    assert result.status == RunStatus.DONE, result.error
    qtbot.waitUntil(lambda: w.models_panel.tree.topLevelItem(0).child(0).text(1).startswith("local "),
                    timeout=10_000)
    assert f"{result.latency.p50_ms:.3g}/" in w.models_panel.tree.topLevelItem(0).child(0).text(1)


def test_derive_shows_progress_and_cancels(qtbot, window, demo_model) -> None:
    w = window
    w.open_model(demo_model)
    qtbot.waitUntil(lambda: w.models_panel.tree.topLevelItemCount() == 1 and not w.tasks.pending, timeout=20_000)
    root_id = w.models_panel.tree.topLevelItem(0).data(1, Qt.ItemDataRole.UserRole)
    w.derive(root_id, "fp16", {})
    assert w.models_panel.deriving and not w.models_panel.derive_bar.isHidden()
    assert not w.models_panel.derive_button.isEnabled()
    with qtbot.waitSignal(w.sig_derive_cancelled, timeout=60_000):
        w.models_panel.derive_cancel.click()  # the pass stops at its next check, before anything is stored
    assert "cancelled" in w.models_panel.derive_label.text() and w.last_error is None
    w.models_panel.refresh_variants()
    qtbot.waitUntil(lambda: not w.tasks.pending, timeout=10_000)
    assert w.models_panel.tree.topLevelItem(0).childCount() == 0


def test_peak_rss_is_the_runners_own_not_the_windows(qtbot, window, demo_model) -> None:
    """Linux carries a parent's peak RSS into a child's ru_maxrss across fork+exec: the runner must report
    its own (VmHWM), or every run from a big GUI process shows the GUI's memory as the model's."""
    ballast = bytearray(600 * 2**20)
    ballast[::4096] = b"\x01" * len(ballast[::4096])  # touch every page: the window process peaks > 600 MB
    w = window
    w.open_model(demo_model)
    result = _run(qtbot, w, runs=5)
    del ballast
    assert result.status == RunStatus.DONE, result.error
    assert 10 < result.memory.peak_rss_mb < 500
