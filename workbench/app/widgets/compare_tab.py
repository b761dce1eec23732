"""Compare tab: 2-4 runs side by side (metrics with deltas/ratios vs the first) and latency CDFs."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QLabel, QSplitter, QTableWidget, QVBoxLayout, QWidget

from workbench.app.widgets.tables import fill
from workbench.core.types import BenchmarkResult
from workbench.core.viewmodels.compare import cdf, metric_rows

COLORS = [(66, 165, 245), (255, 167, 38), (102, 187, 106), (239, 83, 80)]


class CompareTab(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = QLabel("select 2-4 runs in History and press Compare")
        self.table = QTableWidget()
        self.table.verticalHeader().setVisible(False)
        self.plot = pg.PlotWidget()
        self.plot.setBackground("#1e1f22")
        self.plot.setLabel("bottom", "latency", units="ms")
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.plot.setLabel("left", "fraction of iterations ≤ x")
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.setMenuEnabled(False)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.plot)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.caption)
        lay.addWidget(split, 1)

    def show_runs(self, results: list[BenchmarkResult], latencies: list[list[float]]) -> None:
        names = [f"#{r.run_id} {r.model.rsplit('/', 1)[-1]}" for r in results]
        self.caption.setText("first run is the baseline; Δ and × are against it; green = best")
        headers = ["metric"]
        for i, n in enumerate(names):
            headers += [n] if i == 0 else [n, "Δ", "×"]
        rows, best = [], []
        for m in metric_rows(results):
            row: list = [f"{m.label}" + (f" ({m.unit})" if m.unit else "")]
            for i, v in enumerate(m.values):
                row += [v] if i == 0 else [v, m.deltas[i], m.ratios[i]]
            rows.append(row)
            best.append(m.best)
        fill(self.table, headers, rows, fmt="{:.3f}")
        for r, b in enumerate(best):
            if b is not None:
                col = 1 if b == 0 else 2 + 3 * (b - 1)
                self.table.item(r, col).setBackground(QBrush(QColor(46, 125, 50, 120)))
        self.table.resizeColumnsToContents()
        self.plot.clear()
        legend = self.plot.addLegend(offset=(-10, 10), labelTextSize="8pt")
        legend.clear()
        for i, (name, lat) in enumerate(zip(names, latencies)):
            x, y = cdf(lat)
            if len(x):
                self.plot.plot(x, y, pen=pg.mkPen(COLORS[i % len(COLORS)], width=2), stepMode=None, name=name)
