"""'Connect over TCP...': HOST:PORT with a one-line error under the field; the connect runs on a worker.

The dialog stays open on a bad target or a failed connect (the user fixes the text, not a message box),
and closes itself once the connect succeeded. What it runs is `workbench connect`'s own core call.
"""
from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from workbench.app.dialogs import error_text
from workbench.app.workers import TaskFailure
from workbench.core.errors import WorkbenchError
from workbench.core.viewmodels.connect import check_target, connect

Submit = Callable[[Callable[[], Any], Callable[[Any], None], Callable[[TaskFailure], None]], None]


class ConnectDialog(QDialog):
    sig_connected = Signal(str)
    """The connect succeeded (the dialog then closes). Argument: the status line to show."""

    def __init__(self, submit: Submit, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Connect over TCP")
        self.setObjectName("connectDialog")
        self._submit = submit
        self.busy = False
        hint = QLabel("The phone's IP address and adb TCP port (after `adb tcpip 5555`, or the port shown by "
                      "Android's Wireless debugging). Remembered for next time.")
        hint.setWordWrap(True)
        self.target = QLineEdit(placeholderText="192.168.1.20:5555")
        self.target.setObjectName("connectTarget")
        self.error = QLabel("")
        self.error.setObjectName("connectError")
        self.error.setStyleSheet("color: #ef5350")
        self.error.setWordWrap(True)
        self.error.hide()  # shown with a message only: no blank gap above the buttons
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Connect")
        self.buttons.accepted.connect(self.try_connect)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(hint)
        lay.addWidget(self.target)
        lay.addWidget(self.error)
        lay.addWidget(self.buttons)
        self.resize(420, self.sizeHint().height())

    def try_connect(self) -> None:
        """Validate on the GUI thread (instant), then connect on a worker."""
        if self.busy:
            return
        try:
            target = check_target(self.target.text())
        except WorkbenchError as exc:
            self._say(str(exc), error=True)
            return
        self._set_busy(True)
        self._say(f"connecting to {target}… (a phone may ask to allow USB debugging: tap Allow)", error=False)
        self._submit(lambda: connect(target), self._done, self._failed)

    def _done(self, message: str) -> None:
        self._set_busy(False)
        self._say("", error=False)
        self.sig_connected.emit(message)
        self.accept()

    def _failed(self, failure: TaskFailure) -> None:
        self._set_busy(False)
        self._say((error_text(failure.exc).splitlines() or [""])[0], error=True)

    def _say(self, text: str, error: bool) -> None:
        self.error.setStyleSheet("color: #ef5350" if error else "color: #a0a4aa")
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.target.setEnabled(not busy)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not busy)
