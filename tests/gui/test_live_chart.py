"""The live chart stack: built from the channels present, fed from a worker thread, drawn per frame."""
from __future__ import annotations

import numpy as np

from tests.gui.feeder import channels, start_feeder
from workbench.app.bridge import EventBridge
from workbench.app.charts.live_chart import LiveChart
from workbench.core.events import ChannelsKnown, RunStarted, SampleEvent
from workbench.core.types import ChannelSpec, Sample
from workbench.core.viewmodels.live import LiveRunModel


def _chart(qtbot, **kw) -> tuple[LiveChart, EventBridge]:
    live = LiveRunModel(capacity=5000)
    chart = LiveChart(live, **kw)
    qtbot.addWidget(chart)
    chart.resize(900, 700)
    chart.show()
    return chart, EventBridge(live)


def test_only_present_groups_get_charts(qtbot) -> None:
    chart, bridge = _chart(qtbot)
    assert chart.group_names() == ["latency"]
    bridge(RunStarted(1, "local", "m", 0.0))
    bridge(ChannelsKnown(1, [ChannelSpec("cpu.load.0", "%", "cpu_load"), ChannelSpec("mem.rss", "MB", "memory")]))
    chart.frame()
    assert chart.group_names() == ["latency", "cpu_load", "memory_system"]


def test_worker_thread_feed_reaches_curves_and_window_follows(qtbot) -> None:
    chart, bridge = _chart(qtbot, window_s=10.0)
    chart.start()
    th, _stop = start_feeder(bridge, samples=300, t_step=0.1)
    th.join(10)
    qtbot.waitUntil(lambda: chart.live.telemetry.total == 300 and chart.set_data_calls > 0, timeout=5000)
    qtbot.wait(100)
    chart.stop()
    assert len(chart.group_names()) == 7  # memory is split into runner and system charts
    curve = chart._charts["cpu_load"].curves[0].item
    x, y = curve.getOriginalDataset()
    assert len(x) == 300 and np.isclose(x[-1], 29.9)
    (x0, x1), _ = chart.plot_item("memory_system").viewRange()  # x-linked to the latency chart
    assert np.isclose(x1 - x0, 10.0) and np.isclose(x1, 29.9)
    _, (y0, y1) = chart.plot_item("cpu_freq").viewRange()
    lo, hi = chart.live.telemetry.range_since("cpu.freq.4", x0)
    assert y0 < 1600 and y1 >= hi  # data min/max, not autorange of the whole run


def test_pause_stops_following_and_gaps_are_not_zeros(qtbot) -> None:
    chart, bridge = _chart(qtbot, window_s=10.0)
    bridge(RunStarted(1, "local", "m", 0.0))
    bridge(ChannelsKnown(1, [ChannelSpec("power.total", "W", "power")]))
    for k in range(50):
        bridge(SampleEvent(1, Sample(k * 0.5, {"power.total": 2.0} if k != 10 else {})))
    chart.frame()
    qtbot.wait(20)  # let the layout settle so x-linked views have their final widths
    chart.set_follow(False)
    chart.plot_item("latency").setXRange(0, 5, padding=0)
    for k in range(50, 80):
        bridge(SampleEvent(1, Sample(k * 0.5, {"power.total": 2.0})))
    chart.frame()
    (x0, x1), _ = chart.plot_item("power").viewRange()
    assert np.allclose((x0, x1), (0.0, 5.0))
    x, y = chart._charts["power"].curves[0].item.getOriginalDataset()
    assert np.isnan(y[10]) and np.nanmin(y) == 2.0
    chart.set_follow(True)
    (x0, x1), _ = chart.plot_item("power").viewRange()
    assert np.isclose(x1, 79 * 0.5)


def test_crosshair_readout_and_png(qtbot, tmp_path) -> None:
    chart, bridge = _chart(qtbot)
    bridge(RunStarted(1, "local", "m", 0.0))
    bridge(ChannelsKnown(1, channels()))
    from tests.gui.feeder import sample_values

    for k in range(100):
        bridge(SampleEvent(1, Sample(k * 0.1, sample_values(k * 0.1))))
    chart.frame()
    plot = chart.plot_item("thermal")
    scene_pt = plot.getViewBox().mapViewToScene(plot.getViewBox().viewRect().center())
    chart._mouse_moved((scene_pt,))
    assert "Temperatures" in chart.readout.text() and "soc" in chart.readout.text()
    out = chart.save_png(tmp_path / "c.png")
    assert out.stat().st_size > 5000


def test_primed_layout_is_reused_by_the_run_and_next_runs(qtbot) -> None:
    chart, bridge = _chart(qtbot)
    specs = [ChannelSpec("cpu.load.0", "%", "cpu_load"), ChannelSpec("mem.rss", "MB", "memory")]
    chart.prime(specs)
    plots = {g: chart.plot_item(g) for g in chart.group_names()}
    curves = [c.item for c in chart._charts["memory_system"].curves]
    for run_id in (1, 2):
        bridge(RunStarted(run_id, "local", "m", 0.0))
        bridge(ChannelsKnown(run_id, specs))
        bridge(SampleEvent(run_id, Sample(1.0, {"cpu.load.0": 3.0, "mem.rss": 9.0})))
        chart.frame()
        assert {g: chart.plot_item(g) for g in chart.group_names()} == plots
        assert [c.item for c in chart._charts["memory_system"].curves] == curves  # cleared and refilled, not rebuilt
        x, y = curves[0].getOriginalDataset()
        assert list(x) == [1.0] and list(y) == [9.0]
    bridge(RunStarted(3, "local", "m", 0.0))
    bridge(ChannelsKnown(3, specs[:1]))
    chart.frame()
    assert chart.group_names() == ["latency", "cpu_load"]
    assert chart.plot_item("cpu_load") is plots["cpu_load"]  # a changed layout still reuses cached plots
