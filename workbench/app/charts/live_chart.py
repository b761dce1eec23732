"""Stacked live charts (latency, CPU load/freq, temperatures, power, memory) on one shared time axis.

Why it is built this way (pyqtgraph's scrollingPlots / PlotSpeedTest lessons):
- Redraw from a QTimer at a fixed frame rate, never per sample: the worker only queues rows into
  the Qt-free `LiveRunModel`; each frame drains the queue and calls `setData` once per changed curve.
- The data handed to `setData` is a contiguous view of a fixed-size ring, so a frame costs the same
  after an hour as after a second.
- Items use peak downsampling, clip-to-view and skip the finite check; the x-window is FIXED
  (last N seconds) and moved once per frame, and y-ranges come from data min/max at most a few
  times a second: pyqtgraph's own auto-range rescans every point on every change and was the
  single largest cost (see bench/chart_redraw.py).
- Groups the device does not expose have no chart at all (not a flat zero line).
- Grid lines are off by default: pyqtgraph paints them from each axis's QPicture over the whole plot,
  which cost ~2.7x in frame rate here (11 vs 29 fps in bench/chart_redraw.py); a toggle turns them on.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from workbench.core.types import ChannelSpec
from workbench.core.viewmodels.live import (
    GROUP_TITLES, LATENCY_KEYS, P50_KEY, P90_KEY, LiveRunModel, group_title,
)
from workbench.core.viewmodels.ring import RingBuffer

WINDOWS_S: list[tuple[str, float]] = [("10 s", 10), ("30 s", 30), ("1 min", 60), ("5 min", 300),
                                      ("15 min", 900), ("1 h", 3600)]
_PHASE_STYLE = {  # latency scatter: symbol brush per phase
    "warmup": (160, 160, 160),
    "measure": (66, 165, 245),
    "profiled": (255, 167, 38),
}


#: Above this many visible iterations a latency scatter is drawn as a peak-downsampled line instead:
#: pyqtgraph's ScatterPlotItem costs ~1 µs per point per update (a 200 it/s model fills a 60 s window
#: with 12k points), and at that density individual dots are no longer readable anyway.
DENSE_POINTS = 400


@dataclass
class _Curve:
    item: pg.PlotDataItem
    ring: RingBuffer
    key: str
    drawn_total: int = -1  # ring.total at the last setData; equal means nothing new to draw
    scatter_color: tuple[int, int, int] | None = None  # set: a scatter that turns into a line when dense
    dense: bool = False


@dataclass
class _Chart:
    group: str
    plot: pg.PlotItem
    specs: list[ChannelSpec]
    vline: pg.InfiniteLine
    curves: list[_Curve] = field(default_factory=list)


class LiveChart(QWidget):
    """The Live tab's chart stack, fed by a `LiveRunModel` and redrawn by its own frame timer."""

    sig_follow_changed = Signal(bool)
    """Follow mode toggled (True: the x-window tracks the newest data; False: paused for inspection)."""

    def __init__(self, live: LiveRunModel, window_s: float = 60.0, fps: float = 25.0,
                 yrange_hz: float = 4.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.live = live
        self.window_s = window_s
        self._yrange_every = 1.0 / yrange_hz
        self._last_yrange = 0.0
        self._charts: dict[str, _Chart] = {}
        self._plot_cache: dict[str, pg.PlotItem] = {}
        self._signature: list[tuple[str, list[str]]] | None = None
        self.frames = 0  # frame-timer ticks that drew something (soak test / bench read these)
        self.set_data_calls = 0

        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground("#1e1f22")
        self.view.ci.setSpacing(2)
        self.follow_button = QToolButton(text="Follow", checkable=True, checked=True)
        self.follow_button.setToolTip("Track the newest data (uncheck or drag a chart to pause)")
        self.follow_button.toggled.connect(self.set_follow)
        self.grid_button = QToolButton(text="Grid", checkable=True, checked=False)
        self.grid_button.setToolTip("Grid lines (they make every redraw noticeably slower)")
        self.grid_button.toggled.connect(self._grid_toggled)
        self.window_box = QComboBox()
        for label, secs in WINDOWS_S:
            self.window_box.addItem(label, secs)
        self.window_box.setCurrentIndex(max(0, [s for _, s in WINDOWS_S].index(window_s))
                                        if window_s in [s for _, s in WINDOWS_S] else 2)
        self.window_box.currentIndexChanged.connect(self._window_changed)
        self.readout = QLabel(" ")
        self.readout.setTextFormat(Qt.TextFormat.PlainText)
        self.readout.setObjectName("chartReadout")

        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.addWidget(self.follow_button)
        bar.addWidget(QLabel("window"))
        bar.addWidget(self.window_box)
        bar.addWidget(self.grid_button)
        bar.addWidget(self.readout, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addLayout(bar)
        lay.addWidget(self.view, 1)

        self._mouse_proxy = pg.SignalProxy(self.view.scene().sigMouseMoved, rateLimit=30,
                                           slot=self._mouse_moved)
        self.timer = QTimer(self)
        self.timer.setInterval(max(1, int(1000 / fps)))
        self.timer.timeout.connect(self.frame)
        for group in GROUP_TITLES:  # pay PlotItem construction at startup, not when a run starts
            self._plot_for(group)
        self._rebuild()

    # -- public --------------------------------------------------------------------------------
    @property
    def follow(self) -> bool:
        return self.follow_button.isChecked()

    def set_follow(self, on: bool) -> None:
        if self.follow_button.isChecked() != on:
            self.follow_button.setChecked(on)  # re-enters via toggled
            return
        if on:
            self._move_window()
        self.sig_follow_changed.emit(on)

    def start(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def group_names(self) -> list[str]:
        return list(self._charts)

    def plot_item(self, group: str) -> pg.PlotItem:
        return self._charts[group].plot

    def frame(self) -> None:
        """One redraw: drain queued rows, push changed curves, move the window, maybe rescale y."""
        result = self.live.drain()
        if result.channels_changed:
            self._rebuild()
        elif result.reset:
            # RunStarted comes ~20 ms before ChannelsKnown (telemetry discovery): keep the primed layout
            # and only clear curves, instead of two full relayouts (~80 ms each) on the GUI thread.
            self._clear_curves()
        drew = self._push_curves()
        if drew or result.changed:
            self.frames += 1
            if self.follow:
                self._move_window()
            now = time.monotonic()
            if now - self._last_yrange >= self._yrange_every:
                self._last_yrange = now
                self._update_y_ranges()

    def show_all(self) -> None:
        """Show a finished/stored run whole: push everything, fit x to the data, no following."""
        self._rebuild()
        self._push_curves()
        self.set_follow(False)
        end = self.live.last_time() or self.window_s
        self._charts["latency"].plot.setXRange(0.0, end, padding=0.02)
        self._update_y_ranges(t_min=float("-inf"))

    def save_png(self, path: str | Path) -> Path:
        path = Path(path)
        if not self.grab().save(str(path)):
            from workbench.core.errors import WorkbenchError

            raise WorkbenchError(f"{path}: could not write PNG (check the folder exists and is writable)")
        return path

    # -- building ------------------------------------------------------------------------------
    def prime(self, channels: list[ChannelSpec]) -> None:
        """Lay out the charts for a device's channels before its run starts (e.g. when it is selected),
        so the run start only clears curves instead of building plots on the GUI thread."""
        self._rebuild(self.live.groups_for(channels))

    def _rebuild(self, groups: list[tuple[str, list[ChannelSpec]]] | None = None) -> None:
        """Lay out one plot per present group. Runs on the GUI thread at run start, so it is kept cheap:
        pyqtgraph needs ~15 ms to create a PlotItem and ~15 ms to lay one out (a 4-chart rebuild stalled
        the GUI ~100 ms, see bench/gui_stalls.py). A new run with the same channels only clears curves;
        otherwise plots are taken from a cache filled once at construction."""
        if groups is None:
            groups = self.live.groups()
        signature = [(g, [s.key for s in specs]) for g, specs in groups]
        if signature == self._signature:
            self._clear_curves()
            return
        self._signature = signature
        self.view.ci.clear()
        self._charts = {}
        master: pg.PlotItem | None = None
        for row, (group, specs) in enumerate(groups):
            plot = self._plot_for(group)
            plot.clear()
            if plot.legend is not None:
                plot.legend.clear()
            self.view.addItem(plot, row=row, col=0)
            unit = specs[0].unit if specs else ""
            plot.setLabel("left", group_title(group), units=unit)
            last = row == len(groups) - 1
            plot.getAxis("bottom").setStyle(showValues=last)
            plot.setLabel("bottom", "time since start" if last else "", units="s" if last else None)
            if not last:
                plot.getAxis("bottom").showLabel(False)
            plot.setXLink(None if master is None else master)
            if master is None:
                master = plot
            vline = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen((200, 200, 200, 90)))
            vline.setZValue(50)
            plot.addItem(vline, ignoreBounds=True)
            chart = _Chart(group, plot, specs, vline)
            if group == "latency":
                self._build_latency(chart)
            else:
                self._build_lines(chart)
            self._charts[group] = chart
            plot.setXRange(0.0, self.window_s, padding=0)

    def _clear_curves(self) -> None:
        """Empty every curve and rebind it to the model's current rings; the layout stays."""
        for chart in self._charts.values():
            for c in chart.curves:
                c.ring = self.live.ring_for(c.key)
                c.drawn_total = -1
                c.item.clear()
                if c.scatter_color is not None:
                    self._set_density(c, False)
            chart.plot.setXRange(0.0, self.window_s, padding=0)

    def _plot_for(self, group: str) -> pg.PlotItem:
        plot = self._plot_cache.get(group)
        if plot is None:
            plot = pg.PlotItem()
            plot.setMenuEnabled(False)
            plot.disableAutoRange()
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")
            plot.showGrid(x=self.grid_button.isChecked(), y=self.grid_button.isChecked(), alpha=0.15)
            left = plot.getAxis("left")
            left.enableAutoSIPrefix(False)
            left.setWidth(54)
            plot.getAxis("bottom").enableAutoSIPrefix(False)
            plot.getViewBox().sigRangeChangedManually.connect(self._user_panned)
            self._plot_cache[group] = plot
        return plot

    def _build_latency(self, chart: _Chart) -> None:
        chart.plot.addLegend(offset=(4, 2), labelTextSize="7pt", colCount=5)
        for phase, color in _PHASE_STYLE.items():
            key = LATENCY_KEYS[phase]
            item = chart.plot.plot(pen=None, symbol="o", symbolSize=4, symbolPen=None,
                                   symbolBrush=pg.mkBrush(*color, 200), name=phase, skipFiniteCheck=True)
            self._tune(item)
            chart.curves.append(_Curve(item, self.live.ring_for(key), key, scatter_color=color))
        for key, name, color in ((P50_KEY, "p50", (102, 187, 106)), (P90_KEY, "p90", (239, 83, 80))):
            item = chart.plot.plot(pen=pg.mkPen(color, width=2), name=name, skipFiniteCheck=True)
            self._tune(item)
            chart.curves.append(_Curve(item, self.live.ring_for(key), key))

    def _build_lines(self, chart: _Chart) -> None:
        if len(chart.specs) > 1:
            chart.plot.addLegend(offset=(4, 2), labelTextSize="7pt", colCount=min(len(chart.specs), 8))
        n = max(len(chart.specs), 2)
        for i, spec in enumerate(chart.specs):
            # connect="finite" + skipFiniteCheck: a tick a probe could not read is a gap, not a zero,
            # and pyqtgraph does not rescan the array for NaN on every frame.
            item = chart.plot.plot(pen=pg.mkPen(pg.intColor(i, hues=n, sat=200), width=1.5),
                                   name=spec.label or spec.key, connect="finite", skipFiniteCheck=True)
            self._tune(item)
            chart.curves.append(_Curve(item, self.live.telemetry, spec.key))

    @staticmethod
    def _tune(item: pg.PlotDataItem) -> None:
        item.setDownsampling(auto=True, method="peak")  # PlotItem says mode=, the item method=
        item.setClipToView(True)

    # -- drawing -------------------------------------------------------------------------------
    def _push_curves(self) -> bool:
        drew = False
        x0 = self._visible_t()[0]
        for chart in self._charts.values():
            for c in chart.curves:
                if c.ring.total == c.drawn_total or c.key not in c.ring.channels:
                    continue
                c.drawn_total = c.ring.total
                t = c.ring.times()
                if c.scatter_color is not None:
                    self._set_density(c, len(t) - int(np.searchsorted(t, x0)) > DENSE_POINTS)
                c.item.setData(t, c.ring.column(c.key))
                self.set_data_calls += 1
                drew = True
        return drew

    @staticmethod
    def _set_density(c: _Curve, dense: bool) -> None:
        if dense == c.dense:
            return
        c.dense = dense
        if dense:
            c.item.setSymbol(None)
            c.item.setPen(pg.mkPen(*c.scatter_color, 160, width=1))
        else:
            c.item.setPen(None)
            c.item.setSymbol("o")

    def _visible_t(self) -> tuple[float, float]:
        if not self._charts:
            return 0.0, self.window_s
        (x0, x1), _ = self._charts["latency"].plot.viewRange()
        return x0, x1

    def _move_window(self) -> None:
        end = self.live.last_time()
        if end is None or not self._charts:
            return
        x0 = max(0.0, end - self.window_s)
        self._charts["latency"].plot.setXRange(x0, x0 + self.window_s, padding=0)

    def _update_y_ranges(self, t_min: float | None = None) -> None:
        if t_min is None:
            t_min = self._visible_t()[0]
        for chart in self._charts.values():
            r = self.live.y_range(chart.specs, t_min)
            if r is not None:
                chart.plot.setYRange(r[0], r[1], padding=0)

    # -- interaction ---------------------------------------------------------------------------
    def _user_panned(self, *_: object) -> None:
        self.set_follow(False)

    def _grid_toggled(self, on: bool) -> None:
        for plot in self._plot_cache.values():
            plot.showGrid(x=on, y=on, alpha=0.15)

    def _window_changed(self, _: int) -> None:
        self.window_s = float(self.window_box.currentData())
        if self.follow:
            self._move_window()
        self._last_yrange = 0.0

    def _mouse_moved(self, args: tuple[QPointF]) -> None:
        pos = args[0]
        for chart in self._charts.values():
            vb = chart.plot.getViewBox()
            if chart.plot.sceneBoundingRect().contains(pos):
                t = vb.mapSceneToView(pos).x()
                for other in self._charts.values():
                    other.vline.setPos(t)
                parts = [f"{label} {value:.4g}{unit and ' ' + unit}"
                         for label, value, unit in self.live.readout(chart.specs, t)]
                self.readout.setText(f"t={t:.2f}s  {group_title(chart.group)}: " + ",  ".join(parts))
                return
