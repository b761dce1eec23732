"""Load the bundled Qt style sheet (resources/style/workbench.qss) if it is present."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication

STYLE_DIRS = [Path(__file__).resolve().parents[2] / "resources" / "style", Path(__file__).parent / "style"]


def style_path() -> Path | None:
    for d in STYLE_DIRS:
        p = d / "workbench.qss"
        if p.is_file():
            return p
    return None


def apply_style(app: QApplication) -> None:
    """A missing sheet only means the platform look, never an error."""
    p = style_path()
    if p is not None:
        # url()s in a sheet resolve against the working directory: point them at the sheet's own folder
        app.setStyleSheet(p.read_text().replace("@STYLE_DIR@", p.parent.as_posix()))
