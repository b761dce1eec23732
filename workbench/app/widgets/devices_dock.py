"""Devices dock: list with states, info panel. Listing and info run on workers."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QHBoxLayout, QListWidget, QListWidgetItem, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget,
)

from workbench.app.workers import TaskFailure, TaskRunner
from workbench.core.viewmodels.devices import DevicesViewModel


class DevicesPanel(QWidget):
    sig_selected = Signal(object)
    """The selected device changed. Argument: serial (str) or None."""

    sig_error = Signal(object)
    """Listing or reading a device failed. Argument: `TaskFailure`."""

    sig_devices_changed = Signal()
    """The device list was refreshed (run panel repopulates its device box)."""

    def __init__(self, vm: DevicesViewModel, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm, self.tasks = vm, tasks
        self.list = QListWidget()
        self.list.currentItemChanged.connect(self._current_changed)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.info = QPlainTextEdit(readOnly=True)
        self.info.setFont(QFont("monospace", 8))
        self.info.setPlaceholderText("select a device")
        top = QHBoxLayout()
        top.addStretch(1)
        top.addWidget(self.refresh_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.list, 1)
        lay.addWidget(self.info, 2)

    def refresh(self) -> None:
        self.refresh_button.setEnabled(False)
        self.tasks.submit(self.vm.fetch_devices, self._got_devices, self._failed)

    def _got_devices(self, found: list) -> None:
        self.refresh_button.setEnabled(True)
        self.vm.set_devices(found)
        self.list.blockSignals(True)
        self.list.clear()
        for row in self.vm.rows:
            item = QListWidgetItem(row.text)
            item.setData(Qt.ItemDataRole.UserRole, row.serial)
            if not row.usable:
                item.setForeground(Qt.GlobalColor.gray)
            self.list.addItem(item)
            if row.serial == self.vm.selected:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        self.sig_devices_changed.emit()
        self._load_info()

    def _failed(self, failure: TaskFailure) -> None:
        self.refresh_button.setEnabled(True)
        self.sig_error.emit(failure)

    def _current_changed(self, item: QListWidgetItem | None, _prev: object = None) -> None:
        serial = item.data(Qt.ItemDataRole.UserRole) if item else None
        self.vm.select(serial)
        self.sig_selected.emit(serial)
        self._load_info()

    def select(self, serial: str) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).data(Qt.ItemDataRole.UserRole) == serial:
                self.list.setCurrentRow(i)

    def _load_info(self) -> None:
        dev = self.vm.selected_device()
        self.info.setPlainText("")
        if dev is None:
            return
        serial = dev.serial

        def done(info) -> None:
            if self.vm.selected == serial:
                self.vm.set_info(info)
                self._show_info()

        self.tasks.submit(lambda: self.vm.fetch_info(dev), done, self._failed)

    def _show_info(self) -> None:
        lines = []
        for key, value in self.vm.info_lines():
            if key.startswith("["):
                lines.append(key)
            elif key:
                lines.append(f"  {key}: {value}")
            else:
                lines.append(f"  - {value}")
        self.info.setPlainText("\n".join(lines))
