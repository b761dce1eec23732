"""Small table helpers shared by the tabs: numeric-sorting cells and CSV export of what is shown."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableWidget, QTableWidgetItem

from workbench.core.errors import WorkbenchError


def cell(value: Any, fmt: str = "{:.1f}") -> QTableWidgetItem:
    """A cell that sorts numerically when the value is a number (DisplayRole holds the number)."""
    item = QTableWidgetItem()
    if isinstance(value, float):
        item.setData(Qt.ItemDataRole.DisplayRole, float(fmt.format(value)))
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    elif isinstance(value, int):
        item.setData(Qt.ItemDataRole.DisplayRole, value)
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    else:
        item.setText("" if value is None else str(value))
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    return item


def fill(table: QTableWidget, headers: list[str], rows: list[list[Any]], fmt: str = "{:.1f}") -> None:
    table.verticalHeader().setDefaultSectionSize(20)
    sorting = table.isSortingEnabled()
    table.setSortingEnabled(False)  # else rows reorder while being filled
    table.clear()
    table.setColumnCount(len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.setItem(r, c, cell(value, fmt))
    table.setSortingEnabled(sorting)


def table_to_csv(table: QTableWidget, path: str | Path) -> Path:
    """Write the table as shown (current filter and sort order) to CSV."""
    path = Path(path)
    try:
        with path.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow([table.horizontalHeaderItem(c).text() for c in range(table.columnCount())])
            for r in range(table.rowCount()):
                w.writerow([(table.item(r, c).text() if table.item(r, c) else "") for c in range(table.columnCount())])
    except OSError as exc:
        raise WorkbenchError(f"{path}: cannot write CSV ({exc.strerror})") from exc
    return path
