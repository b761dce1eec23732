"""Tuner tab: space and constraints editor (with pass knobs, an energy budget and sustained mode), live
trial table, Pareto scatter, chosen configuration and sustained verdict, thermal switching thresholds over
a run's traces, replay, and Export profile.

It only shows and wires: the study runs core's run_study over a BenchmarkMeasure (with PassKnobs) and then
the sustained finalists on a StudyController thread; thresholds, replay and export run on the task pool;
all logic is in viewmodels/tuner.py.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QFrame, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
    QListWidget, QListWidgetItem, QProgressBar, QPushButton, QScrollArea, QSpinBox, QSplitter, QTableWidget,
    QVBoxLayout, QWidget,
)

from workbench.app.widgets.tables import fill
from workbench.app.workers import StudyController, TaskFailure, TaskRunner
from workbench.core.errors import DeviceDisconnected, RunCancelled, WorkbenchError
from workbench.core.events import Log, Progress
from workbench.core.viewmodels.models import VariantNode
from workbench.core.viewmodels.tuner import (
    STRATEGIES, ParetoPoints, SustainedOutcome, ThermalTrace, TrialRow, TunerForm, chosen_text, derive_policy,
    pareto_points, pass_knobs_for, profile_for, replay_text, rows_of, searchable_passes, sustain, thermal_trace,
    trial_row,
)

COLORS = [(66, 165, 245), (255, 167, 38), (102, 187, 106), (239, 83, 80), (171, 71, 188), (38, 198, 218)]
HEADERS = ["#", "configuration", "p50 ms", "p90 ms", "peak MB", "cosine", "energy mJ", "verdict", "run", "notes"]
FINALIST_HEADERS = ["configuration", "short p90", "sustained p50", "sustained p90", "judged on", "run", "verdict"]


def _spin(maximum: float, decimals: int, special: str, step: float = 1.0) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(0.0, maximum)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    box.setSpecialValueText(special)  # 0 shows as "none": the budget is not set
    return box


class TunerTab(QWidget):
    sig_study_done = Signal(object)
    """A study ended (finished or cancelled). Argument: `StudyResult`."""

    sig_policy_derived = Signal(object)
    """Thermal thresholds were derived. Argument: `ThermalSwitch`."""

    sig_thermal_shown = Signal(int)
    """A run's temperature/latency traces are shown. Argument: run id."""

    sig_sustained = Signal(object)
    """The sustained phase ended (chosen, none feasible, or cancelled). Argument: `SustainedOutcome`."""

    sig_passes_listed = Signal(list)
    """Passes with a declared search space were listed. Argument: [(pass id, knob names)]."""

    sig_exported = Signal(object)
    """A tuning profile was written. Argument: its `Path`."""

    sig_error = Signal(object)
    """Something failed. Argument: `TaskFailure`."""

    def __init__(self, store: Any, variant_store_factory: Callable[[], Any], device_getter: Callable[[], Any],
                 tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self._vstore, self._device, self.tasks = store, variant_store_factory, device_getter, tasks
        self.controller = StudyController(self)
        self.study = None  # the last StudyResult
        self.space = None
        self.paths: dict[str, Path] = {}
        self.serial = ""
        self.policy = None
        self.trace: ThermalTrace | None = None
        self.rows: list[TrialRow] = []
        self.sustained: SustainedOutcome | None = None  # the last study's sustained phase, if it had one
        self._build()
        self.controller.sig_trial.connect(self._on_trial)
        self.controller.sig_event.connect(self._on_event)
        self.controller.sig_done.connect(self._on_done)
        self.controller.sig_failed.connect(self._on_failed)
        self.controller.sig_busy_changed.connect(self._set_busy)
        self._set_busy(False)
        self.tasks.submit(searchable_passes, self._set_passes, self.sig_error.emit)  # plugin imports: off the GUI

    # -- construction --------------------------------------------------------------------------
    def _build(self) -> None:
        self.variant_list = QListWidget()
        self.variant_list.setToolTip("Checked models/variants are tried; 'base' (the selected model) is the "
                                     "fidelity reference")
        self.variant_list.setMaximumHeight(110)
        self.variant_list.setMinimumWidth(200)
        self.resolutions = QLineEdit("64,96")
        self.resolutions.setPlaceholderText("e.g. 128,160,224 or 128:224:32 (empty: model's own)")
        self.threads = QLineEdit("1")
        self.batch = QLineEdit("1")
        self.budget = _spin(1e5, 2, "none")
        self.memory = _spin(1e6, 0, "none", 50)
        self.min_fidelity = _spin(1.0, 4, "none", 0.001)
        self.strategy = QComboBox()
        self.strategy.addItems(STRATEGIES)
        self.trials = QSpinBox()
        self.trials.setRange(1, 500)
        self.trials.setValue(8)
        self.runs = QSpinBox()
        self.runs.setRange(3, 100_000)
        self.runs.setValue(20)
        self.energy = _spin(1e6, 3, "none", 0.1)
        self.energy.setToolTip("Energy per inference budget (mJ). Needs power telemetry: a trial whose energy is "
                               "unknown does not meet it")
        self.pass_knobs = QLineEdit()
        self.pass_knobs.setPlaceholderText("prune-channels.ratio=null,0.25")
        self.pass_knobs.setToolTip("Exact pass knob values, ';' between knobs (a space file's pass_params). null = "
                                   "the pass is not applied in that trial. Derived variants are cached")
        self.pass_spaces = QListWidget()
        self.pass_spaces.setToolTip("Checked passes add their declared search space (workbench tune --pass-space)")
        self.pass_spaces.setMaximumHeight(70)
        self.sustained_box = QGroupBox("sustained finalists")
        self.sustained_box.setCheckable(True)
        self.sustained_box.setChecked(False)
        self.sustained_box.setToolTip("Re-run the best trials until thermal steady state (or the cap) and choose on "
                                      "that latency. Without a thermal channel each finalist runs to the cap and its "
                                      "second half is judged")
        self.sustained_cap = QDoubleSpinBox()
        self.sustained_cap.setRange(0.5, 3600.0)
        self.sustained_cap.setDecimals(1)
        self.sustained_cap.setValue(120.0)
        self.slope = QDoubleSpinBox()
        self.slope.setRange(0.01, 10.0)
        self.slope.setDecimals(2)
        self.slope.setSingleStep(0.1)
        self.slope.setValue(0.5)
        self.finalists = QSpinBox()
        self.finalists.setRange(1, 20)
        self.finalists.setValue(3)
        sform = QFormLayout(self.sustained_box)
        sform.addRow("cap per finalist (s)", self.sustained_cap)
        sform.addRow("steady slope (°C/min)", self.slope)
        sform.addRow("finalists", self.finalists)
        form = QFormLayout()
        form.addRow("variants", self.variant_list)
        form.addRow("resolutions", self.resolutions)
        form.addRow("threads", self.threads)
        form.addRow("batch", self.batch)
        form.addRow("budget p90 (ms)", self.budget)
        form.addRow("peak memory (MB)", self.memory)
        form.addRow("min fidelity (cos)", self.min_fidelity)
        form.addRow("energy (mJ)", self.energy)
        form.addRow("pass knobs", self.pass_knobs)
        form.addRow("pass spaces", self.pass_spaces)
        form.addRow("strategy", self.strategy)
        form.addRow("trials", self.trials)
        form.addRow("runs / trial", self.runs)
        self.start_button = QPushButton("Start tuning")
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        self.progress = QProgressBar()
        self.progress.setMaximumHeight(14)
        self.status = QLabel("choose a model in the Models dock, set the space, press Start")
        self.status.setWordWrap(True)
        space_box = QGroupBox("Space and constraints")
        left = QVBoxLayout(space_box)
        left.addLayout(form)
        left.addWidget(self.sustained_box)
        left.addLayout(buttons)
        left.addWidget(self.progress)
        left.addWidget(self.status)
        left.addStretch(1)

        self.table = QTableWidget()
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.itemSelectionChanged.connect(self._row_selected)
        fill(self.table, HEADERS, [])
        self.chosen = QLabel("no trials yet")
        self.chosen.setObjectName("chosenLabel")
        self.chosen.setWordWrap(True)
        self.export_button = QPushButton("Export profile…")
        self.export_button.clicked.connect(self._export_clicked)
        chosen_row = QHBoxLayout()
        chosen_row.addWidget(self.chosen, 1)
        chosen_row.addWidget(self.export_button)
        self.sustained_label = QLabel("")
        self.sustained_label.setObjectName("sustainedVerdict")
        self.sustained_label.setWordWrap(True)
        self.sustained_label.setVisible(False)
        self.finalist_table = QTableWidget()
        self.finalist_table.verticalHeader().setVisible(False)
        self.finalist_table.setMaximumHeight(110)
        self.finalist_table.setVisible(False)
        fill(self.finalist_table, FINALIST_HEADERS, [])

        self.pareto = pg.PlotWidget()
        self.pareto.setBackground("#1e1f22")
        self.pareto.setMenuEnabled(False)
        self.pareto.showGrid(x=True, y=True, alpha=0.15)
        self.pareto.setLabel("bottom", "p90 latency", units="ms")
        self.pareto.setLabel("left", "fidelity (cosine vs base)")
        for ax in ("bottom", "left"):
            self.pareto.getAxis(ax).enableAutoSIPrefix(False)
        self.pareto.setTitle("latency vs fidelity", size="8pt")
        self.pareto.setToolTip("one dot per trial, colored by variant; filled = met the constraints, faint = "
                               "did not; ringed = on the Pareto front (p90, fidelity, energy)")

        self.thermal = pg.GraphicsLayoutWidget()
        self.thermal.setBackground("#1e1f22")
        self.temp_plot = self.thermal.addPlot(row=0, col=0)
        self.lat_plot = self.thermal.addPlot(row=1, col=0)
        self.lat_plot.setXLink(self.temp_plot)
        for plot, label, unit in ((self.temp_plot, "temperature", "°C"), (self.lat_plot, "latency", "ms")):
            plot.setMenuEnabled(False)
            plot.showGrid(x=True, y=True, alpha=0.15)
            plot.setLabel("left", label, units=unit)
            plot.getAxis("left").enableAutoSIPrefix(False)
            plot.getAxis("left").setWidth(54)
        self.lat_plot.setLabel("bottom", "time since run start", units="s")
        self.lat_plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.temp_plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.thermal_run = QComboBox()
        self.thermal_run.setToolTip("Run whose traces are shown (the heavy variant's run for thresholds)")
        self.thermal_run.activated.connect(lambda _: self.show_thermal(self.thermal_run.currentData()))
        self.light_run = QComboBox()
        self.light_run.setToolTip("Optional run of the light variant")
        self.derive_button = QPushButton("Derive thresholds")
        self.derive_button.clicked.connect(self.derive_thresholds)
        self.replay_button = QPushButton("Replay")
        self.replay_button.clicked.connect(self.replay)
        self.thermal_state = QLabel("select a trial to see its run's temperature and latency")
        self.thermal_state.setWordWrap(True)
        self.thermal_state.setObjectName("thermalState")
        for combo in (self.thermal_run, self.light_run):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(10)
        trow = QHBoxLayout()  # two short rows, so the box does not squeeze the Pareto plot beside it
        trow.addWidget(QLabel("run"))
        trow.addWidget(self.thermal_run, 1)
        trow.addWidget(QLabel("light"))
        trow.addWidget(self.light_run, 1)
        brow = QHBoxLayout()
        brow.addWidget(self.derive_button)
        brow.addWidget(self.replay_button)
        brow.addStretch(1)
        thermal_box = QGroupBox("Thermal switching")
        tlay = QVBoxLayout(thermal_box)
        tlay.setContentsMargins(4, 4, 4, 4)
        tlay.addLayout(trow)
        tlay.addLayout(brow)
        tlay.addWidget(self.thermal_state)
        tlay.addWidget(self.thermal, 1)

        plots = QSplitter(Qt.Orientation.Horizontal)
        plots.addWidget(self.pareto)
        plots.addWidget(thermal_box)
        plots.setSizes([500, 500])
        plots.setStretchFactor(0, 1)
        plots.setStretchFactor(1, 1)
        right_top = QWidget()
        rt = QVBoxLayout(right_top)
        rt.setContentsMargins(0, 0, 0, 0)
        rt.addWidget(self.table, 1)
        rt.addLayout(chosen_row)
        rt.addWidget(self.sustained_label)
        rt.addWidget(self.finalist_table)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(right_top)
        right.addWidget(plots)
        right.setSizes([330, 470])
        scroll = QScrollArea()  # the editor outgrows short windows; scroll it rather than squeeze the fields
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(space_box)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(space_box.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width())
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(scroll)
        split.addWidget(right)
        split.setSizes([340, 960])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(split)

    def _set_passes(self, passes: list[tuple[str, str]]) -> None:
        checked = set(self._checked_passes())
        self.pass_spaces.clear()
        for pass_id, knobs in passes:
            item = QListWidgetItem(f"{pass_id}  ({knobs})")
            item.setData(Qt.ItemDataRole.UserRole, pass_id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if pass_id in checked else Qt.CheckState.Unchecked)
            self.pass_spaces.addItem(item)
        self.sig_passes_listed.emit(passes)

    def _checked_passes(self) -> list[str]:
        return [self.pass_spaces.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.pass_spaces.count())
                if self.pass_spaces.item(i).checkState() == Qt.CheckState.Checked]

    def check_pass_space(self, pass_id: str, on: bool = True) -> None:
        """Tick (or untick) a pass's declared search space; WorkbenchError when no such pass is listed."""
        for i in range(self.pass_spaces.count()):
            item = self.pass_spaces.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == pass_id:
                item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
                return
        raise WorkbenchError(f"pass {pass_id!r} declares no search space (or is not installed)")

    # -- inputs from the window ------------------------------------------------------------------
    def set_models(self, tree: list[VariantNode], current: Path | None) -> None:
        """Offer the current model as 'base' and every variant in the models dock as a candidate."""
        checked = {self.variant_list.item(i).data(Qt.ItemDataRole.UserRole + 1)
                   for i in range(self.variant_list.count())
                   if self.variant_list.item(i).checkState() == Qt.CheckState.Checked}
        self.variant_list.clear()

        def walk(nodes: list[VariantNode]):
            for n in nodes:
                yield n
                yield from walk(n.children)

        if current is not None:
            self._add_variant("base", current, f"base: {current.name}", True)
        for node in walk(tree):
            if current is not None and Path(node.path) == Path(current):
                continue
            name = f"{node.label.split(' ')[0]}-{node.id[:6]}"
            self._add_variant(name, Path(node.path), f"{name}  {node.detail}", str(node.path) in checked)

    def _add_variant(self, name: str, path: Path, text: str, checked: bool) -> None:
        item = QListWidgetItem(text)
        item.setData(Qt.ItemDataRole.UserRole, name)
        item.setData(Qt.ItemDataRole.UserRole + 1, str(path))
        item.setToolTip(str(path))
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self.variant_list.addItem(item)

    def form(self) -> TunerForm:
        variants = {}
        for i in range(self.variant_list.count()):
            item = self.variant_list.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                variants[item.data(Qt.ItemDataRole.UserRole)] = item.data(Qt.ItemDataRole.UserRole + 1)
        return TunerForm(variants=variants, resolutions=self.resolutions.text(), threads=self.threads.text(),
                         batch=self.batch.text(), budget_p90_ms=self.budget.value() or None,
                         memory_mb=self.memory.value() or None, min_fidelity=self.min_fidelity.value() or None,
                         strategy=self.strategy.currentText(), trials=self.trials.value(), runs=self.runs.value(),
                         energy_mj=self.energy.value() or None, pass_knobs=self.pass_knobs.text(),
                         pass_spaces=self._checked_passes(), sustained=self.sustained_box.isChecked(),
                         sustained_cap_s=self.sustained_cap.value(), slope_c_per_min=self.slope.value(),
                         finalists=self.finalists.value())

    # -- the study -----------------------------------------------------------------------------
    def start(self) -> None:
        if self.controller.busy:
            return
        form = self.form()
        device = self._device()
        try:
            space = form.to_space()
            if device is None:
                raise WorkbenchError("no device selected: pick one in the Devices dock")
        except WorkbenchError as exc:
            self.status.setText(f"error: {exc}")
            self.sig_error.emit(TaskFailure(exc))
            return
        self.space, self.serial, self.study, self.policy = space, device.serial, None, None
        self.paths = {k: Path(v) for k, v in form.variants.items()}
        self.rows = []
        self.sustained = None
        self.sustained_label.setVisible(False)
        self.finalist_table.setVisible(False)
        fill(self.finalist_table, FINALIST_HEADERS, [])
        fill(self.table, HEADERS, [])
        self.thermal_run.clear()
        self.light_run.clear()
        self._draw_pareto(None)
        store, paths, workspace_log = self.store, self.paths, Path(self.store.workspace) / "tuning.sqlite"
        vstore_factory = self._vstore
        name = form.study_name(space, device.serial)
        self.status.setText(f"{space.size()} configurations, {form.strategy}, study {name}")

        def body(cancel, on_trial, emit):
            from workbench.core.tuner import TrialLog, run_study
            from workbench.core.tuner.live import BenchmarkMeasure

            # the variant store opens a connection per call, so one made on this thread is safe here
            knobs = pass_knobs_for(space, vstore_factory(), paths)  # a bad knob fails before any trial
            measure = BenchmarkMeasure(device, store, paths, space.reference, warmup=form.warmup, runs=form.runs,
                                       cancel=cancel, knobs=knobs)
            numbers = iter(range(10**9))

            def trial(config, should_stop):
                number = next(numbers)
                try:
                    m = measure(config, should_stop)
                except (RunCancelled, DeviceDisconnected):
                    raise  # the study ends; not a failed configuration
                except WorkbenchError as exc:
                    on_trial(trial_row(number, config, None, space, str(exc)))
                    raise
                on_trial(trial_row(number, config, m, space))
                return m

            log = TrialLog(workspace_log)
            study = run_study(space, trial, strategy=form.strategy, n_trials=form.trials, seed=form.seed, log=log,
                              study_name=name, cancel=cancel, emit=emit)
            outcome = None
            if form.sustained and not study.cancelled:
                outcome = sustain(space, study, measure, finalists=form.finalists, cap_s=form.sustained_cap_s,
                                  slope_c_per_min=form.slope_c_per_min, cancel=cancel, emit=emit)
            return study, outcome

        self.controller.start(body)

    def cancel(self) -> None:
        if self.controller.busy:
            self.controller.stop()
            self.status.setText("cancelling after the current trial's run stops…")

    def _set_busy(self, busy: bool) -> None:
        self.start_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.export_button.setEnabled(not busy and self.study is not None and self.study.best is not None
                                      and (self.sustained is None or self.sustained.judgement is not None))
        if busy:
            self.progress.setRange(0, 0)

    def _on_event(self, event: Any) -> None:
        if isinstance(event, Progress) and event.total:
            self.progress.setRange(0, int(event.total))
            self.progress.setValue(int(event.done))
            self.status.setText(event.message)
        elif isinstance(event, Log):
            self.status.setText(f"{event.level}: {event.message}")

    def _on_trial(self, row: TrialRow) -> None:
        self.rows.append(row)
        self._fill_rows()
        if row.run_id is not None:
            self.thermal_run.addItem(f"#{row.run_id} {row.label}", row.run_id)
            self.light_run.addItem(f"#{row.run_id} {row.label}", row.run_id)

    def _fill_rows(self) -> None:
        fill(self.table, HEADERS, [[r.number + 1, r.label, r.p50_ms, r.p90_ms, r.memory_mb, r.fidelity, r.energy_mj,
                                    r.verdict, r.run_id, r.note] for r in self.rows], fmt="{:.6g}")  # cosines need 6
        self.table.resizeColumnsToContents()

    def _on_done(self, result) -> None:
        study, self.sustained = result
        self.study = study
        self.rows = rows_of(study, self.space)  # resumed trials included
        self._fill_rows()
        known = {self.thermal_run.itemData(i) for i in range(self.thermal_run.count())}
        for r in self.rows:
            if r.run_id is not None and r.run_id not in known:
                self.thermal_run.addItem(f"#{r.run_id} {r.label}", r.run_id)
                self.light_run.addItem(f"#{r.run_id} {r.label}", r.run_id)
        self.light_run.insertItem(0, "(none)", None)
        self.light_run.setCurrentIndex(0)
        self._draw_pareto(pareto_points(study, self.space))
        self.chosen.setText(chosen_text(study))
        if self.sustained is not None:
            self._show_sustained(self.sustained)
        done = "cancelled" if study.cancelled else "done"
        self.status.setText(f"study {study.name} {done}: {len(study.trials)} trials ({study.measured} measured now)")
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self._set_busy(False)
        best = study.best
        held = self.sustained.judgement if self.sustained is not None else None
        if held is not None and held.run_id is not None:
            self.show_thermal(held.run_id)  # the long run is the one whose warming matters
        elif best is not None and best.measurement and best.measurement.run_id is not None:
            self.show_thermal(best.measurement.run_id)
        self.sig_study_done.emit(study)
        if self.sustained is not None:
            self.sig_sustained.emit(self.sustained)

    def _show_sustained(self, outcome: SustainedOutcome) -> None:
        rows = outcome.rows()
        fill(self.finalist_table, FINALIST_HEADERS, [[r.label, r.short_p90_ms, r.p50_ms, r.p90_ms, r.judged_on,
                                                      r.run_id, r.verdict] for r in rows], fmt="{:.2f}")
        self.finalist_table.resizeColumnsToContents()
        self.finalist_table.setVisible(bool(rows))
        self.sustained_label.setText(outcome.verdict())
        self.sustained_label.setVisible(True)
        for r in rows:
            if r.run_id is not None and self.thermal_run.findData(r.run_id) < 0:
                self.thermal_run.addItem(f"#{r.run_id} sustained {r.label}", r.run_id)
                self.light_run.addItem(f"#{r.run_id} sustained {r.label}", r.run_id)

    def _on_failed(self, failure: TaskFailure) -> None:
        self.status.setText(f"error: {failure.exc}")
        self.progress.setRange(0, 1)
        self.sig_error.emit(failure)

    def _draw_pareto(self, pts: ParetoPoints | None) -> None:
        self.pareto.clear()
        if pts is None:
            return
        legend = self.pareto.getPlotItem().legend or self.pareto.addLegend(offset=(-10, -10), labelTextSize="8pt")
        legend.clear()
        for i, (variant, items) in enumerate(sorted(pts.by_variant.items())):
            color = COLORS[i % len(COLORS)]
            for feasible, alpha in ((True, 230), (False, 70)):  # faint: missed a constraint
                sel = [p for p in items if p[2] == feasible]
                if sel:
                    self.pareto.plot([p[0] for p in sel], [p[1] for p in sel], pen=None, symbol="o", symbolSize=10,
                                     symbolBrush=pg.mkBrush(*color, alpha), symbolPen=None,
                                     name=variant if feasible or not any(p[2] for p in items) else None)
            front = [p for p in items if p[3]]
            if front:
                self.pareto.plot([p[0] for p in front], [p[1] for p in front], pen=None, symbol="o", symbolSize=14,
                                 symbolBrush=None, symbolPen=pg.mkPen("w", width=1.5))
        dash = pg.mkPen((239, 83, 80), width=1.2, style=Qt.PenStyle.DashLine)
        xs = [p[0] for items in pts.by_variant.values() for p in items]
        if xs:  # keep the budget line in view even when every trial is far under it
            hi = max(xs + ([pts.budget_p90_ms] if pts.budget_p90_ms else []))
            self.pareto.getPlotItem().getViewBox().disableAutoRange(pg.ViewBox.XAxis)
            self.pareto.setXRange(0.0, hi * 1.08, padding=0)
        if pts.budget_p90_ms:
            self.pareto.addItem(pg.InfiniteLine(pts.budget_p90_ms, angle=90, pen=dash, label="p90 budget",
                                                labelOpts={"position": 0.9, "color": (239, 83, 80)}))
        if pts.min_fidelity is not None:
            self.pareto.addItem(pg.InfiniteLine(pts.min_fidelity, angle=0, pen=dash, label="min fidelity",
                                                labelOpts={"position": 0.25, "color": (239, 83, 80)}))
        # short titles: a long one widens the plot's layout past the widget and clips its right side
        if pts.no_fidelity:
            self.pareto.setTitle(f"{len(pts.no_fidelity)} trial(s) without fidelity", size="8pt")
        else:
            self.pareto.setTitle("ringed = Pareto front", size="8pt")

    # -- thermal thresholds and replay ---------------------------------------------------------
    def _row_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            run = self.table.item(rows[0].row(), 8)
            run_id = run.data(Qt.ItemDataRole.DisplayRole) if run else None
            if isinstance(run_id, int):
                self.show_thermal(run_id)

    def show_thermal(self, run_id: int | None) -> None:
        if run_id is None:
            return
        store = self.store
        self.tasks.submit(lambda: thermal_trace(store, run_id), self._draw_thermal, self.sig_error.emit)

    def _draw_thermal(self, tr: ThermalTrace) -> None:
        self.trace = tr
        i = self.thermal_run.findData(tr.run_id)
        if i >= 0:
            self.thermal_run.setCurrentIndex(i)
        self.temp_plot.clear()
        self.lat_plot.clear()
        if len(tr.lat_t):
            self.lat_plot.plot(tr.lat_t, tr.lat_ms, pen=None, symbol="o", symbolSize=4, symbolPen=None,
                               symbolBrush=pg.mkBrush(66, 165, 245, 200))
        budget = self.space.constraints.p90_ms if self.space is not None else None
        if budget:
            self.lat_plot.addItem(pg.InfiniteLine(budget, angle=0, pen=pg.mkPen((239, 83, 80), style=Qt.PenStyle.DashLine),
                                                  label="p90 budget", labelOpts={"position": 0.8}))
        if not tr.has_thermal:
            text = pg.TextItem("no thermal channel on this device", color=(200, 200, 200), anchor=(0.5, 0.5))
            self.temp_plot.addItem(text)
            self.temp_plot.setXRange(0, float(tr.lat_t.max()) * 1.05 if len(tr.lat_t) else 1.0)
            self.temp_plot.setYRange(0, 1)
            text.setPos(self.temp_plot.viewRange()[0][1] / 2, 0.5)
            self.thermal_state.setText(tr.reason)
            self.derive_button.setEnabled(False)
            self.replay_button.setEnabled(False)
        else:
            self.temp_plot.plot(tr.t, tr.temp, pen=pg.mkPen((255, 167, 38), width=1.5), connect="finite")
            self._draw_policy_lines()
            self.thermal_state.setText(f"run #{tr.run_id}: {tr.channel}" + (
                f"; switch to light at {self.policy.switch_at}, back at {self.policy.switch_back_at}"
                if self.policy else "; set a p90 budget and press Derive thresholds"))
            self.derive_button.setEnabled(True)
            self.replay_button.setEnabled(self.policy is not None)
        self.sig_thermal_shown.emit(tr.run_id)

    def _draw_policy_lines(self) -> None:
        if self.policy is None:
            return
        for value, label, color in ((self.policy.switch_at, "switch to light", (239, 83, 80)),
                                    (self.policy.switch_back_at, "switch back", (102, 187, 106))):
            self.temp_plot.addItem(pg.InfiniteLine(value, angle=0, pen=pg.mkPen(color, style=Qt.PenStyle.DashLine),
                                                   label=f"{label} {value}", labelOpts={"position": 0.15}))

    def derive_thresholds(self) -> None:
        heavy, light = self.thermal_run.currentData(), self.light_run.currentData()
        budget = self.budget.value()
        if heavy is None or not budget:
            self.thermal_state.setText("thresholds need a run and a p90 budget")
            return
        store = self.store

        def done(result) -> None:
            self.policy, warnings = result
            if self.trace is not None:
                self._draw_thermal(self.trace)
            if warnings:
                self.thermal_state.setText(self.thermal_state.text() + "; " + "; ".join(warnings))
            self.sig_policy_derived.emit(self.policy)

        def failed(f: TaskFailure) -> None:
            self.thermal_state.setText(f"thresholds: {f.exc}")
            self.sig_error.emit(f)

        self.tasks.submit(lambda: derive_policy(store, heavy, light, budget), done, failed)

    def replay(self) -> None:
        if self.policy is None or self.trace is None:
            return
        try:
            self.thermal_state.setText(replay_text(self.policy, self.trace))
        except WorkbenchError as exc:
            self.thermal_state.setText(f"replay: {exc}")

    # -- export --------------------------------------------------------------------------------
    def _export_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export tuning profile", "profile.json", "JSON (*.json)")
        if path:
            self.export_profile(Path(path))

    def export_profile(self, out: Path) -> None:
        """Write the chosen trial as a tuning profile (with the derived thermal policy, if any)."""
        study, space, paths, serial, policy = self.study, self.space, self.paths, self.serial, self.policy
        sustained = self.sustained
        device, vstore = self._device(), self._vstore
        if study is None or device is None:
            self.sig_error.emit(TaskFailure(WorkbenchError("run a study first: there is nothing to export")))
            return

        def work() -> Path:
            from workbench.core.profiles import save_profile

            profile = profile_for(study, space, paths, vstore(), device.info().fingerprint(), serial,
                                  f"{paths.get('base', next(iter(paths.values()))).name} on {serial}",
                                  [policy] if policy is not None else None, sustained=sustained)
            save_profile(profile, out)
            return out

        def done(path: Path) -> None:
            self.status.setText(f"wrote {path}")
            self.sig_exported.emit(path)

        self.tasks.submit(work, done, self.sig_error.emit)

    def shutdown(self) -> None:
        self.controller.shutdown()
