"""Compare tab: 2-4 runs side by side (metrics with deltas/ratios vs the first, energy, file size, fidelity),
latency CDFs, and each run's latency and telemetry over time since its start on shared, linked x axes."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QLabel, QSplitter, QTableWidget, QVBoxLayout, QWidget

from workbench.app.widgets.tables import fill
from workbench.core.types import BenchmarkResult
from workbench.core.viewmodels.compare import (
    CompareData, RunExtras, caption_notes, cdf, metric_rows, short_title, trace_groups,
)

COLORS = [(66, 165, 245), (255, 167, 38), (102, 187, 106), (239, 83, 80)]
_DASHES = [Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine, Qt.PenStyle.DashDotLine]


def _plot() -> pg.PlotItem:
    plot = pg.PlotItem()
    plot.setMenuEnabled(False)
    plot.showGrid(x=True, y=True, alpha=0.15)
    plot.getAxis("bottom").enableAutoSIPrefix(False)
    plot.getAxis("left").enableAutoSIPrefix(False)
    plot.getAxis("left").setWidth(54)
    return plot


class CompareTab(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = QLabel("select 2-4 runs in History and press Compare")
        self.caption.setWordWrap(True)
        self.table = QTableWidget()
        self.table.verticalHeader().setVisible(False)
        self.plot = pg.PlotWidget()
        self.plot.setBackground("#1e1f22")
        self.plot.setLabel("bottom", "latency", units="ms")
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.plot.setLabel("left", "fraction ≤ x")
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.setMenuEnabled(False)
        self.traces = pg.GraphicsLayoutWidget()
        self.traces.setBackground("#1e1f22")
        self.trace_titles: list[str] = []  # chart titles shown, for tests and the screenshot check
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.table)
        top.addWidget(self.plot)
        top.setSizes([600, 400])
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(self.traces)
        split.setSizes([330, 520])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.caption)
        lay.addWidget(split, 1)

    def show_runs(self, results: list[BenchmarkResult], latencies: list[list[float]],
                  extras: list[RunExtras] | None = None) -> None:
        names = [f"#{r.run_id} {r.model.rsplit('/', 1)[-1]}" for r in results]
        notes = caption_notes([f"#{r.run_id}" for r in results], extras) if extras else []
        self.caption.setText("first run is the baseline; Δ and × are against it; green = best"
                             + ("\n" + "\n".join(notes) if notes else ""))
        headers = ["metric"]
        for i, n in enumerate(names):
            headers += [n] if i == 0 else [n, "Δ", "×"]
        rows, best = [], []
        for m in metric_rows(results, extras):
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
                self.plot.plot(x, y, pen=pg.mkPen(COLORS[i % len(COLORS)], width=2), name=name)

    def show_data(self, data: CompareData) -> None:
        """The table and CDFs, then latency and every channel some run measured, on linked time axes."""
        self.show_runs(data.results, data.latencies, data.extras)
        names = [f"#{r.run_id}" for r in data.results]
        self.traces.clear()
        self.trace_titles = []
        groups = trace_groups(data.traces)
        master: pg.PlotItem | None = None
        rows = [("latency", "Latency per iteration", None)] + [(g, title, specs) for g, title, specs in groups]
        # trace_titles keeps the full names; the rotated axis titles use short ones that fit a short chart
        for row, (group, title, specs) in enumerate(rows):
            plot = _plot()
            last = row == len(rows) - 1
            unit = "ms" if specs is None else (specs[0].unit if specs else "")
            plot.setLabel("left", short_title(group), units=unit)
            plot.setLabel("bottom", "time since run start" if last else "", units="s" if last else None)
            plot.getAxis("bottom").setStyle(showValues=last)
            if row == 0:
                plot.addLegend(offset=(4, 2), labelTextSize="7pt", colCount=4)
            if master is not None:
                plot.setXLink(master)
            master = master or plot
            for i, tr in enumerate(data.traces):
                color = COLORS[i % len(COLORS)]
                if specs is None:
                    its = [it for it in tr.iterations if it.phase == "measure"]
                    if its:
                        plot.plot(np.array([it.t_start for it in its]), np.array([it.latency_ms for it in its]),
                                  pen=None, symbol="o", symbolSize=3, symbolPen=None,
                                  symbolBrush=pg.mkBrush(*color, 160), name=names[i])
                    continue
                for k, spec in enumerate(specs):
                    col = tr.values.get(spec.key)
                    if col is None or not np.isfinite(col).any():
                        continue
                    item = plot.plot(tr.t, col, pen=pg.mkPen(color, width=1.4, style=_DASHES[k % len(_DASHES)]),
                                     connect="finite")
                    item.setDownsampling(auto=True, method="peak")
                    item.setClipToView(True)
            self.traces.addItem(plot, row=row, col=0)
            self.trace_titles.append(title)
