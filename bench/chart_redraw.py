"""Redraw rate of the live chart stack with 16 series x 1 h of samples at 10 Hz (36k points each).

Compares the two ways of ranging a live plot:
  fixed   - what LiveChart does: a fixed 60 s x-window moved once per frame, y from data min/max at 4 Hz,
            items clip to view + peak-downsample, so each frame touches ~600 points per series;
  auto    - pyqtgraph's own auto-range on both axes (the whole hour is visible, peak downsampling still on),
            which rescans every point of every series on every setData.
Each frame appends one new sample to every series (as a live run does) and paints synchronously.
Prints frames per second for both and their ratio. Usage:
    QT_QPA_PLATFORM=offscreen python bench/chart_redraw.py [--frames 150] [--hours 1]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def build(hours: float):
    from workbench.app import create_app
    from workbench.app.charts.live_chart import LiveChart
    from workbench.core.events import ChannelsKnown, RunStarted
    from workbench.core.types import ChannelSpec
    from workbench.core.viewmodels.live import LiveRunModel

    create_app()
    n = int(hours * 3600 * 10)
    specs = [ChannelSpec(f"cpu.load.{i}", "%", "cpu_load", f"cpu{i}") for i in range(8)]
    specs += [ChannelSpec(f"cpu.freq.{p}", "MHz", "cpu_freq", f"policy{p}") for p in range(2)]
    specs += [ChannelSpec(f"thermal.z{z}", "C", "thermal", f"z{z}") for z in range(2)]
    specs += [ChannelSpec("power.total", "W", "power", "total")]
    specs += [ChannelSpec(f"mem.m{m}", "MB", "memory", f"m{m}") for m in range(3)]
    assert len(specs) == 16
    live = LiveRunModel(capacity=n)
    live.handle(RunStarted(1, "bench", "bench.onnx", 0.0))
    live.handle(ChannelsKnown(1, specs))
    live.drain()
    rng = np.random.default_rng(0)
    t = np.arange(n) / 10.0
    live.telemetry.extend(t, {s.key: 50 + 10 * np.sin(t / (30 + i)) + rng.normal(0, 2, n) for i, s in enumerate(specs)})
    chart = LiveChart(live, window_s=60.0)
    chart.resize(1400, 900)
    chart.show()
    chart.frame()
    return chart, live, specs, n


def measure(chart, live, specs, n: int, frames: int, mode: str) -> float:
    from PySide6.QtWidgets import QApplication

    from workbench.core.events import SampleEvent
    from workbench.core.types import Sample

    app = QApplication.instance()
    if mode == "auto":
        chart.set_follow(False)
        chart._yrange_every = float("inf")  # no data-driven y: pyqtgraph's auto-range does both axes
        for g in chart.group_names():
            chart.plot_item(g).enableAutoRange()
    else:
        chart._yrange_every = 0.25
        for g in chart.group_names():
            chart.plot_item(g).disableAutoRange()
        chart.set_follow(True)
    t_next = live.telemetry.last_time() + 0.1
    for _ in range(5):  # warm caches
        chart.frame()
        chart.view.repaint()
    app.processEvents()
    start = time.perf_counter()
    for k in range(frames):
        live.handle(SampleEvent(1, Sample(t_next, {s.key: 50.0 + k % 7 for s in specs})))
        t_next += 0.1
        chart.frame()
        chart.view.repaint()  # synchronous paint, so the cost of drawing is counted
    app.processEvents()
    return frames / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--hours", type=float, default=1.0)
    args = ap.parse_args()
    chart, live, specs, n = build(args.hours)
    fixed = measure(chart, live, specs, n, args.frames, "fixed")
    auto = measure(chart, live, specs, n, args.frames, "auto")
    fixed2 = measure(chart, live, specs, n, args.frames, "fixed")  # again, to see machine noise
    print(f"series: {len(specs)} x {n} points ({args.hours:g} h at 10 Hz); {args.frames} frames each; "
          f"setData per frame: {len(specs)}")
    print(f"fixed 60 s window : {fixed:6.1f} fps  (repeat {fixed2:6.1f} fps)")
    print(f"auto-range        : {auto:6.1f} fps")
    print(f"ratio fixed/auto  : {min(fixed, fixed2) / auto:6.2f}x")


if __name__ == "__main__":
    main()
