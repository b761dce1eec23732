"""Run panel: device, runner, threads, shapes, warmup, runs/seconds, layers, spin, cooldown gate, affinity;
Start/Stop; progress. Values are validated by `RunForm.to_job` (one-line errors); the affinity field is also
checked as it is typed, so a typo shows under the form before Start is pressed."""
from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QProgressBar,
    QPushButton, QSizePolicy, QSpinBox, QVBoxLayout, QWidget,
)

from workbench.core.errors import WorkbenchError
from workbench.core.events import Progress
from workbench.core.viewmodels.devices import DeviceRow
from workbench.core.knobs import parse_affinity
from workbench.core.viewmodels.run_form import ADB_ONLY_RUNNERS, RUNNERS, RunForm


class RunPanel(QWidget):
    sig_start = Signal(object)
    """Start pressed. Argument: `RunForm` with the current values (validated by the window)."""

    sig_stop = Signal()
    """Stop pressed (the run is cancelled; what was measured is kept)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model_label = QLabel("no model: open one in the Models dock")
        self.model_label.setWordWrap(True)
        self.model: Path | None = None
        self.device = QComboBox()
        self.device.setToolTip("Devices that cannot run now (offline, unauthorized) are listed greyed out")
        self.device.currentIndexChanged.connect(self._device_changed)
        self.runner = QComboBox()
        for name in RUNNERS:
            self.runner.addItem(name, name)
        self.runner.setToolTip("ort-python: ONNX Runtime through Python on the device (local, Linux boards); "
                               "ort-perf-test: onnxruntime_perf_test on an adb device "
                               "(`workbench adb set-perf-test BINARY LIBRARY`)")
        self.threads = QSpinBox(minimum=0, maximum=256, value=0, specialValueText="default")
        self.shapes = QLineEdit(placeholderText="dynamic axes: input=1x3x224x224; mask=1x128")
        self.warmup = QSpinBox(minimum=0, maximum=10_000, value=5)
        self.runs = QSpinBox(minimum=0, maximum=1_000_000, value=50, specialValueText="until duration")
        self.runs.setToolTip("Measured iterations; with a duration set, a cap (0: until the duration ends)")
        self.seconds = QDoubleSpinBox(minimum=0, maximum=86_400, value=0, decimals=1, specialValueText="off",
                                      suffix=" s")
        self.seconds.setToolTip("Run for this long instead of a fixed count (runs is then a cap)")
        self._count_before_duration, self._count_before_duration_saved = 50, False
        self.seconds.valueChanged.connect(self._duration_changed)
        self.layers = QCheckBox("per-layer profiling (separate pass)")
        self.spin = QComboBox()
        for label, value in (("default", None), ("on", True), ("off", False)):
            self.spin.addItem(label, value)
        self.cooldown = QCheckBox("wait until within")
        self.cooldown.setToolTip("Before measuring, wait until temperatures are within this margin of the "
                                 "device's idle baseline (a hot phone throttles and skews latencies)")
        self.cooldown_c = QDoubleSpinBox(minimum=0, maximum=50, value=3.0, decimals=1, suffix=" °C")
        self.cooldown_timeout = QSpinBox(minimum=1, maximum=3600, value=120, prefix="give up after ", suffix=" s")
        self.cooldown.toggled.connect(self._cooldown_toggled)
        self._cooldown_toggled(False)
        self.affinity = QLineEdit(placeholderText="all CPUs (e.g. 4-7 or 0,2)")
        self.affinity.setToolTip("Pin the runner to these CPU ids (big cores on a phone); empty: no pinning")
        self.affinity.textChanged.connect(self._check_affinity)
        self.form_error = QLabel("")
        self.form_error.setObjectName("formError")
        self.form_error.setStyleSheet("color: #ef5350")
        self.form_error.setWordWrap(True)
        self.form_error.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.form_error.hide()
        self.start_button = QPushButton("Start  (Ctrl+R)")
        self.start_button.setObjectName("startButton")
        self.stop_button = QPushButton("Stop  (Esc)")
        self.stop_button.setEnabled(False)
        self.start_button.clicked.connect(lambda: self.sig_start.emit(self.form()))
        self.stop_button.clicked.connect(self.sig_stop.emit)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("idle")
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setObjectName("runSummary")
        # long result lines wrap instead of widening the dock
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._started = 0.0
        self._expected_s: float | None = None

        form = QFormLayout()
        form.addRow("model", self.model_label)
        form.addRow("device", self.device)
        form.addRow("runner", self.runner)
        form.addRow("threads", self.threads)
        form.addRow("shapes", self.shapes)
        form.addRow("warmup", self.warmup)
        form.addRow("runs", self.runs)
        form.addRow("seconds", self.seconds)
        form.addRow("spin", self.spin)
        form.addRow("", self.layers)
        cooldown = QHBoxLayout()
        cooldown.addWidget(self.cooldown)
        cooldown.addWidget(self.cooldown_c, 1)
        form.addRow("cooldown", cooldown)
        form.addRow("", self.cooldown_timeout)
        form.addRow("affinity", self.affinity)
        form.addRow("", self.form_error)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(form)
        lay.addLayout(buttons)
        lay.addWidget(self.progress)
        lay.addWidget(self.summary)
        lay.addStretch(1)

    def set_model(self, path: Path | None) -> None:
        self.model = path
        self.model_label.setText(path.name if path else "no model")
        self.model_label.setToolTip(str(path) if path else "")

    def set_devices(self, rows: list[DeviceRow], selected: str | None) -> None:
        """Every listed device; ones that cannot run now are greyed out but stay selectable by the devices
        dock, so an offline phone stays the target (Start then says why) instead of silently becoming local."""
        self.device.blockSignals(True)
        self.device.clear()
        model = self.device.model()
        for i, row in enumerate(rows):
            self.device.addItem(row.serial, row.kind)
            if not row.usable:
                model.item(i).setEnabled(False)
                self.device.setItemData(i, f"{row.state.value}: {row.detail}" if row.detail else row.state.value,
                                        Qt.ItemDataRole.ToolTipRole)
        serials = [r.serial for r in rows]
        if selected in serials:
            self.device.setCurrentIndex(serials.index(selected))
        self.device.blockSignals(False)
        self._device_changed()

    def device_kind(self) -> str | None:
        return self.device.currentData()

    def _device_changed(self, *_: object) -> None:
        """ort-perf-test only runs on adb devices: offer it only there."""
        adb = self.device_kind() == "adb"
        model = self.runner.model()
        for i in range(self.runner.count()):
            if self.runner.itemData(i) in ADB_ONLY_RUNNERS:
                model.item(i).setEnabled(adb)
        if not adb and self.runner.currentData() in ADB_ONLY_RUNNERS:
            self.runner.setCurrentIndex(self.runner.findData("ort-python"))

    def _cooldown_toggled(self, on: bool) -> None:
        self.cooldown_c.setEnabled(on)
        self.cooldown_timeout.setEnabled(on)

    def _check_affinity(self, text: str) -> None:
        try:
            parse_affinity(text)
        except WorkbenchError as exc:
            self.form_error.setText(str(exc))
            self.form_error.show()
        else:
            self.form_error.setText("")
            self.form_error.hide()

    def form(self) -> RunForm:
        return RunForm(
            model=self.model, device=self.device.currentText() or None, device_kind=self.device_kind(),
            runner=self.runner.currentData(), affinity=self.affinity.text(),
            cooldown_c=self.cooldown_c.value() if self.cooldown.isChecked() else None,
            cooldown_timeout_s=float(self.cooldown_timeout.value()),
            threads=self.threads.value() or None, shapes=self.shapes.text(), warmup=self.warmup.value(),
            runs=self.runs.value(), seconds=self.seconds.value() or None, layers=self.layers.isChecked(),
            spin=self.spin.currentData(),
        )

    def _duration_changed(self, seconds: float) -> None:
        """Setting a duration switches runs to 'until duration' (a leftover count of 50 would silently cut
        the run short); clearing it restores the count."""
        if seconds and self.runs.value() and not self._count_before_duration_saved:
            self._count_before_duration, self._count_before_duration_saved = self.runs.value(), True
            self.runs.setValue(0)
        elif not seconds and self._count_before_duration_saved:
            self._count_before_duration_saved = False
            if self.runs.value() == 0:
                self.runs.setValue(self._count_before_duration)

    def set_busy(self, busy: bool) -> None:
        self.start_button.setEnabled(not busy)
        self.stop_button.setEnabled(busy)
        if busy:
            self._started = time.monotonic()
            self._expected_s = self.seconds.value() or None
            self.progress.setRange(0, 0)
            self.progress.setFormat("starting")
            self.summary.setText("")

    def show_progress(self, p: Progress) -> None:
        if p.total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * min(p.done / p.total, 1.0)))
            self.progress.setFormat(f"{p.stage}: {p.done:.0f}/{p.total:.0f}")
        elif p.stage == "measure" and self._expected_s:
            # timed runs have no iteration total: show elapsed of the requested seconds instead
            elapsed = time.monotonic() - self._started
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * min(elapsed / self._expected_s, 1.0)))
            self.progress.setFormat(f"measure: {p.done:.0f} iterations, {elapsed:.0f}/{self._expected_s:.0f} s")
        else:
            self.progress.setRange(0, 0)
            self.progress.setFormat(p.message or p.stage)

    def finished(self, text: str) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.progress.setFormat("done")
        self.summary.setText(text)
