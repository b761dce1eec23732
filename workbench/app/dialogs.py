"""The error dialog: one line a user can act on, the traceback behind an expandable 'Show Details'."""
from __future__ import annotations

import traceback

from PySide6.QtWidgets import QMessageBox, QWidget

from workbench.core.errors import WorkbenchError


def error_text(exc: BaseException) -> str:
    """WorkbenchError text is already user-facing; anything else is a bug and says its type."""
    if isinstance(exc, WorkbenchError):
        return str(exc)
    return f"unexpected {type(exc).__name__}: {exc}"


def show_error(parent: QWidget | None, exc: BaseException, details: str | None = None,
               title: str = "Edge Workbench") -> QMessageBox:
    """Open (non-blocking) an error box; returns it so callers and tests can inspect or close it."""
    box = QMessageBox(QMessageBox.Icon.Critical, title, error_text(exc), QMessageBox.StandardButton.Ok, parent)
    box.setDetailedText(details or "".join(traceback.format_exception(exc)))
    box.setObjectName("errorDialog")
    box.open()
    return box
