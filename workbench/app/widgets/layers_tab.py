"""Layers tab: sortable, filterable per-layer table; top-N bar chart; op-type breakdown; two-run diff."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QLabel, QLineEdit, QSplitter, QTableWidget, QTabWidget, QVBoxLayout, QWidget,
)

from workbench.app.widgets.tables import fill
from workbench.core.types import LayerTiming
from workbench.core.viewmodels.layers import COLUMNS, LayersViewModel, diff_layers

TOP_N = 15


class LayersTab(QWidget):
    sig_diff_requested = Signal(int)
    """The user picked a run to diff against. Argument: run id (the window loads its layers off-thread)."""

    def __init__(self, vm: LayersViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        self.filter = QLineEdit(placeholderText="filter by layer name or op type")
        self.filter.textChanged.connect(self._filter_changed)
        self.caption = QLabel("no per-layer data: start a run with per-layer profiling on")
        self.table = QTableWidget()
        self.table.setSortingEnabled(True)
        self.table.verticalHeader().setVisible(False)
        self.ops = QTableWidget()
        self.ops.setSortingEnabled(True)
        self.ops.verticalHeader().setVisible(False)
        self.diff_with = QComboBox()
        self.diff_with.setPlaceholderText("diff against run…")
        self.diff_with.activated.connect(lambda i: self.sig_diff_requested.emit(int(self.diff_with.itemData(i))))
        self.diff = QTableWidget()
        self.diff.setSortingEnabled(True)
        self.diff.verticalHeader().setVisible(False)
        self.bars = pg.PlotWidget()
        self.bars.setBackground("#1e1f22")
        self.bars.setTitle(f"top {TOP_N} layers, mean µs", size="9pt")
        self.bars.setMenuEnabled(False)

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.caption)
        ll.addWidget(self.filter)
        ll.addWidget(self.table, 1)
        diff_page = QWidget()
        dl = QVBoxLayout(diff_page)
        dl.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("compare with"))
        row.addWidget(self.diff_with, 1)
        dl.addLayout(row)
        dl.addWidget(self.diff, 1)
        right = QTabWidget()
        right.addTab(self.bars, "Top layers")
        right.addTab(self.ops, "By op type")
        right.addTab(diff_page, "Diff")
        self.right = right
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([620, 380])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(split)

    def set_layers(self, layers: list[LayerTiming], caption: str = "") -> None:
        self.vm.set_layers(layers)
        self.caption.setText(caption or (f"{len(layers)} layers" if layers else
                                         "no per-layer data: start a run with per-layer profiling on"))
        self._fill_table()
        self._fill_ops()
        self._fill_bars()
        self.diff.clear()
        self.diff.setRowCount(0)

    def set_diff_choices(self, runs: list[tuple[int, str]]) -> None:
        self.diff_with.clear()
        for run_id, text in runs:
            self.diff_with.addItem(text, run_id)
        self.diff_with.setCurrentIndex(-1)

    def show_diff(self, other: list[LayerTiming], other_name: str) -> None:
        rows = diff_layers(self.vm.layers, other)
        fill(self.diff, ["name", "Δ µs", "×", "this µs", f"{other_name} µs", "op"],
             [[r.name, r.delta_us, r.ratio, r.a_us, r.b_us, r.op_type] for r in rows], fmt="{:.2f}")
        self.diff.resizeColumnsToContents()
        self.diff.setColumnWidth(0, min(self.diff.columnWidth(0), 180))
        self.right.setCurrentIndex(2)

    def _filter_changed(self, text: str) -> None:
        self.vm.filter_text = text
        self._fill_table()

    def _fill_table(self) -> None:
        rows = self.vm.rows()
        headers = ["share %" if c == "share" else c for c in COLUMNS]
        fill(self.table, headers,
             [[lt.name, lt.op_type, lt.mean_us, lt.p50_us, lt.p90_us, round(lt.share * 100, 2), lt.count,
               lt.total_us, lt.provider] for lt in rows])
        self.table.resizeColumnsToContents()
        self.table.setColumnWidth(0, min(self.table.columnWidth(0), 260))

    def _fill_ops(self) -> None:
        fill(self.ops, ["op type", "nodes", "mean µs", "share %"],
             [[o["op_type"], o["nodes"], o["mean_us"], round(o["share"] * 100, 2)] for o in self.vm.op_breakdown()])
        self.ops.resizeColumnsToContents()

    def _fill_bars(self) -> None:
        self.bars.clear()
        top = self.vm.top(TOP_N)
        if not top:
            return
        y = np.arange(len(top))[::-1]
        widths = np.array([lt.mean_us for lt in top])
        self.bars.addItem(pg.BarGraphItem(x0=0, y=y, height=0.7, width=widths, brush=(66, 165, 245)))
        ax = self.bars.getAxis("left")
        ax.setTicks([[(float(yy), _short(lt.name)) for yy, lt in zip(y, top)]])
        self.bars.setXRange(0, float(widths.max()) * 1.05, padding=0)
        self.bars.setYRange(-0.5, len(top) - 0.5, padding=0)


def _short(name: str, n: int = 28) -> str:
    return name if len(name) <= n else "…" + name[-(n - 1):]
