"""Run panel: device, threads, shapes, warmup, runs/seconds, layers, spin; Start/Stop; progress."""
from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QProgressBar,
    QPushButton, QSizePolicy, QSpinBox, QVBoxLayout, QWidget,
)

from workbench.core.events import Progress
from workbench.core.viewmodels.run_form import RunForm


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
        form.addRow("threads", self.threads)
        form.addRow("shapes", self.shapes)
        form.addRow("warmup", self.warmup)
        form.addRow("runs", self.runs)
        form.addRow("seconds", self.seconds)
        form.addRow("spin", self.spin)
        form.addRow("", self.layers)
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

    def set_devices(self, serials: list[str], selected: str | None) -> None:
        self.device.blockSignals(True)
        self.device.clear()
        self.device.addItems(serials)
        if selected in serials:
            self.device.setCurrentText(selected)
        self.device.blockSignals(False)

    def form(self) -> RunForm:
        return RunForm(
            model=self.model, device=self.device.currentText() or None,
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
