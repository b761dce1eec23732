"""History tab: every run in the store; reopen one, compare a selection, export the selected run."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QPushButton, QTableWidget, QVBoxLayout, QWidget,
)

from workbench.app.widgets.tables import fill
from workbench.core.viewmodels.history import HEADERS, HistoryRow


class HistoryTab(QWidget):
    sig_open = Signal(int)
    """Reopen a run (its charts and layers as recorded). Argument: run id."""

    sig_compare = Signal(list)
    """Compare the selected runs. Argument: list of run ids (2-4; the window validates)."""

    sig_refresh = Signal()
    """Reload the run list from the store."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.setSortingEnabled(True)
        self.table.doubleClicked.connect(lambda idx: self.sig_open.emit(self._id_at(idx.row())))
        self.open_button = QPushButton("Open")
        self.open_button.clicked.connect(self._open_selected)
        self.compare_button = QPushButton("Compare selected")
        self.compare_button.clicked.connect(lambda: self.sig_compare.emit(self.selected_ids()))
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.sig_refresh.emit)
        bar = QHBoxLayout()
        for b in (self.open_button, self.compare_button):
            bar.addWidget(b)
        bar.addStretch(1)
        bar.addWidget(self.refresh_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(bar)
        lay.addWidget(self.table, 1)

    def set_rows(self, rows: list[HistoryRow]) -> None:
        fill(self.table, list(HEADERS), [[r.run_id, *r.cells[1:]] for r in rows])
        self.table.resizeColumnsToContents()

    def _id_at(self, row: int) -> int:
        return int(self.table.item(row, 0).data(0))

    def selected_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self._id_at(r) for r in rows]

    def select_ids(self, ids: list[int]) -> None:
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for r in range(self.table.rowCount()):
            if self._id_at(r) in ids:
                self.table.selectRow(r)
        self.table.setSelectionMode(mode)

    def _open_selected(self) -> None:
        ids = self.selected_ids()
        if ids:
            self.sig_open.emit(ids[0])
