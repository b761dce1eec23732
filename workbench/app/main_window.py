"""The workbench window: docks (devices, models, run), tabs (Live, Layers, Compare, History), menus.

It only shows and wires. Every device, store and pass call goes through `TaskRunner` (pool) or
`RunController` (the benchmark thread); core's events come back through `EventBridge` signals.
"""
from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox, QTabWidget, QWidget,
)

from workbench.app.bridge import EventBridge
from workbench.app.charts.live_chart import LiveChart
from workbench.app.dialogs import show_error
from workbench.app.widgets.compare_tab import CompareTab
from workbench.app.widgets.derive_dialog import DeriveDialog
from workbench.app.widgets.devices_dock import POLL_MS as DEVICE_POLL_MS, DevicesPanel
from workbench.app.widgets.history_tab import HistoryTab
from workbench.app.widgets.layers_tab import LayersTab
from workbench.app.widgets.models_dock import ModelsPanel
from workbench.app.widgets.run_panel import RunPanel
from workbench.app.widgets.tuner_tab import TunerTab
from workbench.app.widgets.tables import table_to_csv
from workbench.app.workers import ProgressRelay, RunController, TaskFailure, TaskRunner
from workbench.core.devices.base import Device
from workbench.core.errors import WorkbenchError
from workbench.core.passes.base import PassContext, PassRefused
from workbench.core.events import LayersReady, Log, Progress, RunFinished, RunStarted
from workbench.core.store import RunStore
from workbench.core.types import BenchmarkResult, RunStatus
from workbench.core.viewmodels.compare import CompareData, check_selection, load_compare, run_t0
from workbench.core.viewmodels.devices import DevicesViewModel
from workbench.core.viewmodels.history import history_rows
from workbench.core.viewmodels.layers import LayersViewModel
from workbench.core.viewmodels.live import LiveRunModel
from workbench.core.viewmodels.models import ModelsViewModel, fidelity_text

SETTINGS_VERSION = 1


def result_summary(r: BenchmarkResult) -> str:
    """The one paragraph under the progress bar after a run."""
    if r.status != RunStatus.DONE:
        return f"run #{r.run_id} {r.status.value}: {r.error}"
    lat = r.latency
    parts = [f"run #{r.run_id} done"]
    if lat:
        parts.append(f"p50 {lat.p50_ms:.3f} ms  p90 {lat.p90_ms:.3f} ms  p99 {lat.p99_ms:.3f} ms  (n={lat.count}, "
                     f"cv {lat.cv:.2f})")
    if r.memory.peak_rss_mb:
        parts.append(f"peak RSS {r.memory.peak_rss_mb:.0f} MB")
    if r.layers:
        parts.append(f"{len(r.layers)} layers profiled")
    return "\n".join(parts)


class MainWindow(QMainWindow):
    sig_run_loaded = Signal(int)
    """A stored run was reopened into the Live and Layers tabs. Argument: run id."""

    sig_compare_shown = Signal(list)
    """The Compare tab was filled. Argument: run ids, baseline first."""

    sig_variant_derived = Signal(str)
    """A variant was derived (or found in the cache). Argument: its id."""

    sig_derive_cancelled = Signal(str)
    """Deriving a variant was cancelled by the user. Argument: the pass id."""

    sig_history_loaded = Signal(int)
    """The History table was refreshed. Argument: number of runs listed."""

    def __init__(self, workspace: str | Path, settings: QSettings | None = None,
                 device_lister: Callable[[], list[Device]] | None = None,
                 variant_store_factory: Callable[[], Any] | None = None, parent: QWidget | None = None,
                 device_poll_ms: int = DEVICE_POLL_MS) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edge Workbench")
        self.setObjectName("mainWindow")
        self.workspace = Path(workspace)
        self.settings = settings or QSettings("edge-workbench", "workbench")
        self.store = RunStore(self.workspace)
        if device_lister is None:
            from workbench.core.devices.registry import list_devices

            device_lister = list_devices
        if variant_store_factory is None:
            from workbench.core.passes.variants import VariantStore

            variant_store_factory = lambda: VariantStore(self.workspace)  # noqa: E731
        self.current_run_id: int | None = None
        self._variant_store_factory = variant_store_factory
        self._derive_cancel = threading.Event()
        self.last_error: QMessageBox | None = None
        self._primed: str | None = None  # device whose chart layout was last primed

        # models and plumbing
        self.live = LiveRunModel()
        self.bridge = EventBridge(self.live, self)
        self.tasks = TaskRunner(self)
        self.runner = RunController(self)
        self.devices_vm = DevicesViewModel(device_lister)
        self.models_vm = ModelsViewModel(self._recent_from_settings())
        self.layers_vm = LayersViewModel()

        # views
        self.chart = LiveChart(self.live)
        self.layers_tab = LayersTab(self.layers_vm)
        self.compare_tab = CompareTab()
        self.history_tab = HistoryTab()
        self.tuner_tab = TunerTab(self.store, variant_store_factory,
                                  lambda: self.devices_vm.devices.get(self.run_panel.form().device or ""), self.tasks)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for w, name in ((self.chart, "Live"), (self.layers_tab, "Layers"), (self.compare_tab, "Compare"),
                        (self.history_tab, "History"), (self.tuner_tab, "Tuner")):
            self.tabs.addTab(w, name)
        self.setCentralWidget(self.tabs)
        self.devices_panel = DevicesPanel(self.devices_vm, self.tasks, poll_ms=device_poll_ms)
        self.models_panel = ModelsPanel(self.models_vm, self.tasks, variant_store_factory, self.store)
        self.run_panel = RunPanel()
        self.devices_dock = self._dock("Devices", self.devices_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.models_dock = self._dock("Models", self.models_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.run_dock = self._dock("Run", self.run_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.status_text = QLabel("ready")
        self.statusBar().addWidget(self.status_text, 1)
        self.statusBar().addPermanentWidget(QLabel(f"workspace: {self.workspace}"))

        self._wire()
        self._menus()
        self._restore_settings()
        self.chart.start()

    # -- construction --------------------------------------------------------------------------
    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower()}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _wire(self) -> None:
        b = self.bridge
        b.sig_run_started.connect(self._on_run_started)
        b.sig_progress.connect(self._on_progress)
        b.sig_log.connect(self._on_log)
        b.sig_layers_ready.connect(self._on_layers_ready)
        b.sig_run_finished.connect(self._on_run_finished)
        self.runner.sig_busy_changed.connect(self.run_panel.set_busy)
        self.runner.sig_crashed.connect(self._on_failure)
        self.run_panel.sig_start.connect(lambda form: self.start_run())
        self.run_panel.sig_stop.connect(self.stop_run)
        self.devices_panel.sig_error.connect(self._on_failure)
        self.devices_panel.sig_devices_changed.connect(self._devices_changed)
        self.devices_panel.sig_selected.connect(self._device_selected)
        self.devices_panel.sig_status.connect(self.status_text.setText)
        self.models_panel.sig_error.connect(self._on_failure)
        self.models_panel.sig_derive_requested.connect(self.ask_derive)
        self.models_panel.sig_derive_cancel.connect(lambda: self._derive_cancel.set())
        self.models_panel.sig_model_selected.connect(self.run_panel.set_model)
        self.models_panel.sig_recent_changed.connect(lambda r: self.settings.setValue("recent", r))
        self.history_tab.sig_refresh.connect(self.refresh_history)
        self.history_tab.sig_open.connect(self.open_run)
        self.history_tab.sig_compare.connect(self.compare_runs)
        self.layers_tab.sig_diff_requested.connect(self._diff_with)
        self.models_panel.sig_variants_shown.connect(
            lambda _: self.tuner_tab.set_models(self.models_vm.tree, self.models_vm.current))
        self.models_panel.sig_model_selected.connect(
            lambda _: self.tuner_tab.set_models(self.models_vm.tree, self.models_vm.current))
        self.tuner_tab.sig_error.connect(self._on_failure)
        self.tuner_tab.sig_study_done.connect(lambda _: self.refresh_history())

    def _menus(self) -> None:
        def action(menu, text: str, slot, shortcuts: list[str] | None = None) -> QAction:
            act = QAction(text, self)
            if shortcuts:
                act.setShortcuts([QKeySequence(s) for s in shortcuts])
                act.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
            act.triggered.connect(slot)
            menu.addAction(act)
            self.addAction(act)
            return act

        file = self.menuBar().addMenu("&File")
        action(file, "Open model…", self.models_panel.open_dialog, ["Ctrl+O"])
        file.addSeparator()
        action(file, "Export charts as PNG…", self._export_png)
        action(file, "Export layer table as CSV…", self._export_layers_csv)
        action(file, "Export run as JSON…", lambda: self._export_run("json"))
        action(file, "Export run as Perfetto trace…", lambda: self._export_run("trace"))
        file.addSeparator()
        action(file, "Quit", self.close, ["Ctrl+Q"])
        run = self.menuBar().addMenu("&Run")
        self.start_action = action(run, "Start run", self.start_run, ["Ctrl+R"])
        self.stop_action = action(run, "Stop run", self.stop_run, ["Esc", "Ctrl+."])
        action(run, "Refresh devices", self.devices_panel.refresh, ["F5"])
        action(run, "Connect over TCP…", self.devices_panel.open_connect_dialog)
        action(run, "Disconnect TCP device", self.devices_panel.disconnect_selected)
        view = self.menuBar().addMenu("&View")
        for dock in (self.devices_dock, self.models_dock, self.run_dock):
            view.addAction(dock.toggleViewAction())
        action(view, "Follow newest data", lambda: self.chart.set_follow(True), ["F"])

    # -- settings ------------------------------------------------------------------------------
    def _recent_from_settings(self) -> list[str]:
        value = self.settings.value("recent", [])
        return [value] if isinstance(value, str) else list(value or [])

    def _restore_settings(self) -> None:
        if int(self.settings.value("settings_version", 0) or 0) != SETTINGS_VERSION:
            self.resize(1500, 950)  # layout saved by another version: start from the default
            return
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = self.settings.value("window_state")
        if state is not None:
            self.restoreState(state)

    def _save_settings(self) -> None:
        self.settings.setValue("settings_version", SETTINGS_VERSION)
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.saveState())
        self.settings.setValue("recent", list(self.models_vm.recent))
        self.settings.sync()

    # -- lifecycle -----------------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self.devices_vm.rows:
            self.devices_panel.refresh()
            self.devices_panel.start_polling()
            self.refresh_history()
            # Import every pass plugin (onnx, onnxslim, onnxconverter...) on a worker now, so the first
            # "Derive..." does not freeze the window for seconds; the registry caches what it loaded.
            from workbench.core.passes.registry import pass_statuses

            self.tasks.submit(pass_statuses, lambda _statuses: None, lambda _f: None)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Cancel the run and wait for workers, so closing never leaves a runner or thread behind."""
        self.chart.stop()
        self._save_settings()
        self._derive_cancel.set()  # a running pass stops at its next check
        self.tuner_tab.shutdown()
        self.devices_panel.shutdown()
        stopped = self.runner.shutdown()
        self.tasks.shutdown()
        if stopped:
            self.store.close()
        # else: a run thread is still finishing (e.g. blocked in a push): closing the store under it would
        # lose its final status; the process exit ends it and the next start marks the run interrupted.

    # -- runs ----------------------------------------------------------------------------------
    def start_run(self) -> None:
        if self.runner.busy:
            return
        if self.tuner_tab.controller.busy:
            self.report_error(WorkbenchError("a tuning study is measuring on the device: cancel it in the Tuner tab "
                                             "or wait for it, so the two do not skew each other's latencies"))
            return
        form = self.run_panel.form()
        try:
            job = form.to_job()
            device = self.devices_vm.devices.get(form.device or "")
            row = self.devices_vm.row(form.device)
            if device is None or row is None:
                raise WorkbenchError(f"device {form.device}: not in the device list (refresh devices)")
            if not row.usable:
                raise WorkbenchError(f"device {form.device} is {row.state.value}"
                                     + (f": {row.detail}" if row.detail else "") + "; pick another or reconnect it")
        except WorkbenchError as exc:
            self.report_error(exc)
            return
        self.tabs.setCurrentWidget(self.chart)
        self.runner.start(device, job, self.store, self.bridge)

    def stop_run(self) -> None:
        if self.runner.busy:
            self.runner.stop()
            self.status_text.setText("stopping…")

    def _on_run_started(self, ev: RunStarted) -> None:
        self.current_run_id = ev.run_id
        self.chart.set_follow(True)
        self.layers_tab.set_layers([])
        self.status_text.setText(f"run #{ev.run_id}: {Path(ev.model).name} on {ev.device}")

    def _on_progress(self, p: Progress) -> None:
        self.run_panel.show_progress(p)

    def _on_log(self, log: Log) -> None:
        self.status_text.setText(f"{log.level}: {log.message}")

    def _on_layers_ready(self, ev: LayersReady) -> None:
        self.layers_tab.set_layers(ev.layers, f"run #{ev.run_id}: {len(ev.layers)} layers")

    def _on_run_finished(self, ev: RunFinished) -> None:
        r = ev.result
        self.run_panel.finished(result_summary(r))
        self.status_text.setText(result_summary(r).replace("\n", "  |  "))
        self.refresh_history()
        self.models_panel.refresh_variants()  # the variant tree shows each variant's newest latency
        if r.status == RunStatus.FAILED:
            self.report_error(WorkbenchError(r.error or "the run failed"))

    # -- errors --------------------------------------------------------------------------------
    def report_error(self, exc: BaseException, details: str | None = None) -> None:
        self.status_text.setText(f"error: {exc}")
        self.last_error = show_error(self, exc, details)

    def _on_failure(self, failure: TaskFailure) -> None:
        self.report_error(failure.exc, failure.details)

    # -- devices -------------------------------------------------------------------------------
    def _devices_changed(self) -> None:
        self.run_panel.set_devices(self.devices_vm.rows, self.devices_vm.selected)
        self._device_selected(self.devices_vm.selected)

    def _device_selected(self, serial: str | None) -> None:
        """Follow the selection in the run panel and lay out the device's charts ahead of its run."""
        if not serial:
            return
        self.run_panel.device.setCurrentText(serial)
        device = self.devices_vm.devices.get(serial)
        row = self.devices_vm.row(serial)
        if device is None or row is None or not row.usable or self.runner.busy or self.current_run_id is not None:
            return  # never re-lay-out charts that show a run (nor ask an offline phone)
        if self._primed == serial:
            return  # a poll saw the same device again: its layout is already shown
        self._primed = serial

        def done(channels: list) -> None:
            if not self.runner.busy and self.current_run_id is None:
                self.chart.prime(channels)

        def failed(_f: TaskFailure) -> None:
            if self._primed == serial:
                self._primed = None  # try again next time it is listed or selected

        self.tasks.submit(device.channel_specs, done, failed)  # leaves no sampler running on a phone

    # -- variants ------------------------------------------------------------------------------
    def ask_derive(self, parent_id: str) -> DeriveDialog | None:
        """Open the derive dialog (form built from the pass's Params schema); derive on a worker."""
        from workbench.core.passes.registry import pass_statuses

        passes = {st.manifest.name: st.obj for st in pass_statuses() if st.ok}
        if not passes:
            self.report_error(WorkbenchError("no optimization passes are installed (workbench.passes entry points)"))
            return None
        dialog = DeriveDialog(passes, parent_id[:10], self)
        dialog.accepted.connect(lambda: self.derive(parent_id, dialog.pass_id, dialog.params))
        dialog.open()
        self.last_dialog = dialog
        return dialog

    def derive(self, parent_id: str, pass_id: str, params: dict) -> None:
        """Derive on a worker with progress and Cancel in the models dock; fidelity shown when done."""
        if self.models_panel.deriving:
            return
        factory, workspace = self._variant_store_factory, self.workspace
        cancel = self._derive_cancel = threading.Event()
        relay = ProgressRelay(self)
        relay.sig_progress.connect(self.models_panel.derive_progress)
        self.models_panel.derive_started(f"deriving {pass_id} from {parent_id[:10]}…")
        self.status_text.setText(f"deriving {pass_id} from {parent_id[:10]}…")

        def work():
            store = factory()
            work_dir = Path(tempfile.mkdtemp(prefix="derive-gui-", dir=workspace))
            try:
                ctx = PassContext(work_dir=work_dir, cancel=cancel, progress=relay)
                return store.derive(store.get(parent_id), pass_id, params, ctx)
            finally:
                shutil.rmtree(work_dir, ignore_errors=True)

        def done(result) -> None:
            variant, cached = result
            fid = fidelity_text(variant.fidelity) or "fidelity not measured"
            text = f"{pass_id}: variant {variant.short}" + (" (cached)" if cached else "") + f"  {fid}"
            self.models_panel.derive_finished(text)
            self.status_text.setText(text)
            self.models_panel.refresh_variants()
            relay.deleteLater()
            self.sig_variant_derived.emit(variant.id)

        def failed(f: TaskFailure) -> None:
            relay.deleteLater()
            if cancel.is_set() and isinstance(f.exc, PassRefused):
                self.models_panel.derive_finished(f"{pass_id}: cancelled, nothing stored")
                self.status_text.setText(f"{pass_id}: derive cancelled")
                self.sig_derive_cancelled.emit(pass_id)
                return
            self.models_panel.derive_finished(f"{pass_id}: failed")
            self._on_failure(f)

        self.tasks.submit(work, done, failed)

    # -- history / reopen / compare ------------------------------------------------------------
    def refresh_history(self) -> None:
        store = self.store

        def done(runs: list[dict]) -> None:
            rows = history_rows(runs)
            self.history_tab.set_rows(rows)
            self.layers_tab.set_diff_choices([(r.run_id, f"#{r.run_id} {r.cells[3]} {r.cells[4]}") for r in rows])
            self.sig_history_loaded.emit(len(rows))

        self.tasks.submit(store.list_runs, done, self._on_failure)

    def open_run(self, run_id: int) -> None:
        """Show a stored run as recorded: its telemetry and latencies, and its layers."""
        store = self.store

        def load() -> dict:
            t, values = store.samples(run_id)
            iters = store.iterations(run_id)
            return dict(result=store.get_result(run_id), channels=store.channels(run_id), t=t, values=values,
                        iterations=iters)

        def done(d: dict) -> None:
            t0 = run_t0(d["t"], d["iterations"])
            self.live.load(d["channels"], d["t"], d["values"], d["iterations"], t0=t0)
            self.chart.show_all()
            r: BenchmarkResult = d["result"]
            self.current_run_id = run_id
            self.layers_tab.set_layers(r.layers, f"run #{run_id}: {len(r.layers)} layers")
            self.run_panel.finished(result_summary(r))
            self.status_text.setText(f"reopened run #{run_id} ({r.status.value}) from {Path(r.model).name}")
            self.tabs.setCurrentWidget(self.chart)
            self.sig_run_loaded.emit(run_id)

        self.tasks.submit(load, done, self._on_failure)

    def compare_runs(self, run_ids: list[int]) -> None:
        try:
            ids = check_selection(run_ids)
        except WorkbenchError as exc:
            self.report_error(exc)
            return
        store, variants = self.store, self._variant_store_factory

        def done(data: CompareData) -> None:
            self.compare_tab.show_data(data)
            self.tabs.setCurrentWidget(self.compare_tab)
            self.sig_compare_shown.emit(ids)

        self.tasks.submit(lambda: load_compare(store, ids, variants()), done, self._on_failure)

    def _diff_with(self, other_id: int) -> None:
        store = self.store
        self.tasks.submit(lambda: store.layers(other_id),
                          lambda layers: self.layers_tab.show_diff(layers, f"#{other_id}"), self._on_failure)

    # -- export --------------------------------------------------------------------------------
    def _ask_save(self, title: str, default: str, filt: str) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(self, title, str(self.workspace / default), filt)
        return Path(path) if path else None

    def _export_png(self) -> None:
        out = self._ask_save("Export charts", f"run{self.current_run_id or ''}.png", "PNG images (*.png)")
        if out:
            try:
                self.chart.save_png(out)
                self.status_text.setText(f"wrote {out}")
            except WorkbenchError as exc:
                self.report_error(exc)

    def _export_layers_csv(self) -> None:
        out = self._ask_save("Export layer table", f"run{self.current_run_id or ''}-layers.csv", "CSV (*.csv)")
        if out:
            try:
                table_to_csv(self.layers_tab.table, out)
                self.status_text.setText(f"wrote {out}")
            except WorkbenchError as exc:
                self.report_error(exc)

    def _export_run(self, fmt: str) -> None:
        if self.current_run_id is None:
            self.report_error(WorkbenchError("no run to export: run or reopen one first"))
            return
        run_id = self.current_run_id
        out = self._ask_save(f"Export run #{run_id}", f"run{run_id}.{'json' if fmt == 'json' else 'trace.json'}",
                             "JSON (*.json)")
        if out:
            self.export_run(run_id, fmt, out)

    def export_run(self, run_id: int, fmt: str, out: Path) -> None:
        from workbench.core.export import export_run

        store = self.store
        self.tasks.submit(lambda: export_run(store, run_id, fmt, out),
                          lambda paths: self.status_text.setText("wrote " + ", ".join(map(str, paths))),
                          self._on_failure)

    # -- helpers for tests and bench -----------------------------------------------------------
    def open_model(self, path: str | Path) -> None:
        self.models_panel.open_path(path)
