"""Devices dock: list with live states, Connect over TCP / Disconnect, info panel.

The list is polled off the GUI thread every couple of seconds (a phone unplugged or out of Wi-Fi shows
offline without the user pressing Refresh). Polls run on the panel's own one-thread pool, so a slow adb
listing never holds a thread the window's other tasks need, and a poll is skipped while one is still
running. Rows are updated in place: the selection and the info panel stay put unless their device changed.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QHBoxLayout, QListWidget, QListWidgetItem, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget,
)

from workbench.app.widgets.connect_dialog import ConnectDialog
from workbench.app.workers import TaskFailure, TaskRunner
from workbench.core.viewmodels.connect import disconnect
from workbench.core.viewmodels.devices import DeviceRow, DevicesViewModel

POLL_MS = 2000


class DevicesPanel(QWidget):
    sig_selected = Signal(object)
    """The selected device changed. Argument: serial (str) or None."""

    sig_error = Signal(object)
    """Listing or reading a device failed. Argument: `TaskFailure`."""

    sig_devices_changed = Signal()
    """The device list or a device's state changed (run panel repopulates its device box)."""

    sig_status = Signal(str)
    """Something the status bar should say (a phone went offline, connected, forgotten). Argument: text."""

    sig_listed = Signal(object)
    """A listing (manual or polled) was applied. Argument: `DeviceChanges`."""

    def __init__(self, vm: DevicesViewModel, tasks: TaskRunner, parent: QWidget | None = None,
                 poll_ms: int = POLL_MS) -> None:
        super().__init__(parent)
        self.vm, self.tasks = vm, tasks
        self.poller = TaskRunner(self, max_threads=1)
        self._listing = False  # a listing is running on the poller
        self._again = False  # a manual refresh / connect asked while one ran: list once more after it
        self._manual = False  # the running listing was asked for (its failure gets a dialog)
        self._failing = False  # the last listing failed: a poll failing again only updates the status bar
        self.timer = QTimer(self)
        self.timer.setInterval(poll_ms)
        self.timer.timeout.connect(self.poll)
        self.list = QListWidget()
        self.list.currentItemChanged.connect(self._current_changed)
        self.connect_button = QPushButton("Connect…")
        self.connect_button.setToolTip("Connect over TCP to HOST:PORT (like `workbench connect`)")
        self.connect_button.clicked.connect(self.open_connect_dialog)
        self.disconnect_button = QPushButton("Disconnect")
        self.disconnect_button.setToolTip("Forget the selected TCP target (like `workbench disconnect`)")
        self.disconnect_button.setEnabled(False)
        self.disconnect_button.clicked.connect(self.disconnect_selected)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.info = QPlainTextEdit(readOnly=True)
        self.info.setFont(QFont("monospace", 8))
        self.info.setPlaceholderText("select a device")
        self.dialog: ConnectDialog | None = None
        top = QHBoxLayout()
        top.addWidget(self.connect_button)
        top.addWidget(self.disconnect_button)
        top.addStretch(1)
        top.addWidget(self.refresh_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.list, 1)
        lay.addWidget(self.info, 2)

    # -- listing ---------------------------------------------------------------------------------
    def start_polling(self) -> None:
        self.timer.start()

    def refresh(self) -> None:
        """List now (button, F5, after connect); if a poll is running, list again right after it."""
        if self._listing:
            self._again = True
            return
        self.refresh_button.setEnabled(False)
        self._list(manual=True)

    def poll(self) -> None:
        if not self._listing:  # a slow adb listing (connect timeouts) must not pile up polls
            self._list(manual=False)

    def _list(self, manual: bool) -> None:
        self._listing, self._manual = True, manual
        self.poller.submit(self.vm.fetch_devices, self._got_devices, self._failed)

    def _listed(self) -> None:
        self._listing = False
        self.refresh_button.setEnabled(True)
        if self._again:
            self._again = False
            self.refresh()

    def _got_devices(self, found: list) -> None:
        self._failing = False
        selected_before = self.vm.selected
        was_usable = (row.usable if (row := self.vm.row(selected_before)) else False)
        changes = self.vm.set_devices(found)
        self._update_rows()
        self._update_actions()
        self._listed()
        if changes.message():
            self.sig_status.emit(changes.message())
        if changes.usable_changed or not self.vm.rows or selected_before is None:
            self.sig_devices_changed.emit()
        now = self.vm.row(self.vm.selected)
        if self.vm.selected != selected_before or (now is not None and now.usable and not was_usable):
            self._load_info()  # a new selection, or the selected phone came (back) online
        elif now is not None and not now.usable:
            self._show_unusable(now)
        self.sig_listed.emit(changes)

    def _update_rows(self) -> None:
        """Rows in place: existing items get new text/colour, gone ones go, new ones are appended."""
        self.list.blockSignals(True)
        items = {self.list.item(i).data(Qt.ItemDataRole.UserRole): self.list.item(i) for i in range(self.list.count())}
        wanted = {r.serial for r in self.vm.rows}
        for serial, item in items.items():
            if serial not in wanted:
                self.list.takeItem(self.list.row(item))
        for row in self.vm.rows:
            item = items.get(row.serial)
            if item is None:
                item = QListWidgetItem()
                item.setData(Qt.ItemDataRole.UserRole, row.serial)
                self.list.addItem(item)
            _paint(item, row)
        current = self.list.currentItem()
        if (current.data(Qt.ItemDataRole.UserRole) if current else None) != self.vm.selected:
            self.list.setCurrentItem(self._item(self.vm.selected))
        self.list.blockSignals(False)

    def _failed(self, failure: TaskFailure) -> None:
        repeated = self._failing and not self._manual
        self._failing = True
        self._listed()
        if repeated:  # one dialog per failure streak, not one every poll
            self.sig_status.emit(f"listing devices failed again: {failure.exc}")
        else:
            self.sig_error.emit(failure)

    # -- selection and info ----------------------------------------------------------------------
    def _item(self, serial: str | None) -> QListWidgetItem | None:
        for i in range(self.list.count()):
            if self.list.item(i).data(Qt.ItemDataRole.UserRole) == serial:
                return self.list.item(i)
        return None

    def _current_changed(self, item: QListWidgetItem | None, _prev: object = None) -> None:
        serial = item.data(Qt.ItemDataRole.UserRole) if item else None
        self.vm.select(serial)
        self._update_actions()
        self.sig_selected.emit(serial)
        self._load_info()

    def select(self, serial: str) -> None:
        item = self._item(serial)
        if item is not None:
            self.list.setCurrentItem(item)

    def _update_actions(self) -> None:
        row = self.vm.row(self.vm.selected)
        self.disconnect_button.setEnabled(row is not None and row.tcp)

    def _load_info(self) -> None:
        dev = self.vm.selected_device()
        self.info.setPlainText("")
        if dev is None:
            return
        row = self.vm.row(dev.serial)
        if row is not None and not row.usable:
            self._show_unusable(row)  # info() would only fail: say why instead
            return
        serial = dev.serial

        def done(info) -> None:
            if self.vm.selected == serial:
                self.vm.set_info(info)
                self._show_info()

        self.tasks.submit(lambda: self.vm.fetch_info(dev), done, self._failed_info)

    def _failed_info(self, failure: TaskFailure) -> None:
        if self.vm.row(self.vm.selected) is not None and not self.vm.row(self.vm.selected).usable:
            return  # it went away while we asked: the row already says so
        self.sig_error.emit(failure)

    def _show_unusable(self, row: DeviceRow) -> None:
        self.info.setPlainText(f"{row.serial}: {row.state.value}" + (f"\n  {row.detail}" if row.detail else ""))

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

    # -- connect / disconnect --------------------------------------------------------------------
    def open_connect_dialog(self) -> ConnectDialog:
        self.dialog = ConnectDialog(self.tasks.submit, self)
        self.dialog.sig_connected.connect(self._connected)
        self.dialog.open()
        return self.dialog

    def _connected(self, message: str) -> None:
        self.sig_status.emit(message)
        self.refresh()

    def disconnect_selected(self) -> None:
        row = self.vm.row(self.vm.selected)
        if row is None or not row.tcp:
            return
        device = self.vm.devices.get(row.serial)
        self.disconnect_button.setEnabled(False)

        def done(message: str) -> None:
            self.sig_status.emit(message)
            self.refresh()

        def failed(failure: TaskFailure) -> None:
            self._update_actions()
            self.sig_error.emit(failure)

        self.tasks.submit(lambda: disconnect(row.serial, device), done, failed)

    def shutdown(self) -> None:
        """Stop polling and wait for a listing still running (window close)."""
        self.timer.stop()
        self.poller.shutdown()


def _paint(item: QListWidgetItem, row: DeviceRow) -> None:
    item.setText(row.text)
    item.setToolTip(row.detail or row.state.value)
    if row.usable:
        item.setData(Qt.ItemDataRole.ForegroundRole, None)  # the style sheet's colour
    else:
        item.setForeground(Qt.GlobalColor.gray)
