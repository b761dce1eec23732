"""GUI-thread stalls during a full local run with live charts (the user-visible cost of our threading).

A 5 ms QTimer on the GUI thread records how late each tick fires; any work done on the GUI thread
(drawing, slots, a stray blocking call) shows up as lateness. The window runs a real benchmark of the
demo model on this machine (per-layer profiling on) through core's run_benchmark, with live charts.
Prints tick count, p50/p99/max lateness (targets: p99 < 50 ms, max < 100 ms), and for the worst ticks
where the GUI thread's time went, from Linux's per-thread /proc/thread-self/schedstat: on a CPU (our own
GUI-thread work), runnable but waiting for a CPU (the scheduler: other processes on a shared VM), or
neither (asleep or blocked: waiting for the GIL that another of our threads holds). With --trace, a
sampler thread also reads the GUI thread's Python stack every ~1 ms and each worst tick lists what the
GUI thread was in (our or pyqtgraph's function, or "native: ..." for Qt's own C++ work under the event
loop, e.g. painting). Usage:
    QT_QPA_PLATFORM=offscreen python bench/gui_stalls.py [--seconds 10] [--model mobilenet_se] [--trace]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--model", default="mobilenet_se")
    ap.add_argument("--trace", action="store_true", help="sample the GUI thread's stack for the worst ticks")
    args = ap.parse_args()

    from PySide6.QtCore import QSettings, QTimer

    from workbench.app import create_app
    from workbench.app.main_window import MainWindow
    from workbench.core.devices.registry import list_devices
    from workbench.core.models import demo_model_path

    app = create_app()
    tmp = Path(tempfile.mkdtemp(prefix="gui-stalls-"))
    w = MainWindow(tmp / "ws", settings=QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat),
                   device_lister=lambda: list_devices(include_adb=False))
    w.resize(1500, 950)
    w.show()
    while w.run_panel.device.count() == 0:
        app.processEvents()
    w.open_model(demo_model_path(args.model))
    w.run_panel.seconds.setValue(args.seconds)
    w.run_panel.runs.setValue(0)  # until the duration ends
    w.run_panel.layers.setChecked(True)
    idle_until = time.perf_counter() + 1.0  # a user takes a moment to press Start: let startup work finish
    while w.tasks.pending or time.perf_counter() < idle_until:
        app.processEvents()
        time.sleep(0.001)

    late: list[float] = []
    tick_at: list[float] = []  # perf_counter of each recorded tick (the gap before it is late[i] + 5 ms)
    profiled_from: list[int | None] = [None]  # first tick after the per-layer profiled pass drew an iteration
    split: list[tuple[float, float]] = []  # per tick: GUI thread ms on a CPU, ms runnable-but-waiting
    last = [time.perf_counter(), *_schedstat()]
    recording = [False]

    def tick() -> None:
        now = time.perf_counter()
        cpu, wait = _schedstat()
        if recording[0]:
            late.append(max(0.0, (now - last[0]) * 1000 - 5.0))
            tick_at.append(now)
            if profiled_from[0] is None and len(w.live.latency["profiled"]):
                profiled_from[0] = len(late) - 1
            split.append(((cpu - last[1]) / 1e6, (wait - last[2]) / 1e6))
        last[:] = [now, cpu, wait]

    probe = QTimer()
    probe.setInterval(5)
    probe.timeout.connect(tick)
    finished = []
    w.bridge.sig_run_finished.connect(lambda ev: finished.append(ev.result))
    sampler = _StackSampler(threading.get_ident()) if args.trace else None
    if sampler is not None:
        sampler.start()
    probe.start()
    recording[0] = True
    t_call = time.perf_counter()
    w.start_run()
    start_call_ms = (time.perf_counter() - t_call) * 1000
    while not finished:
        app.processEvents()
        time.sleep(0.0005)
    recording[0] = False
    probe.stop()
    if sampler is not None:
        sampler.stop()
    result = finished[0]
    frames, set_data = w.chart.frames, w.chart.set_data_calls
    w.close()
    a = np.array(late)
    p50, p99 = np.percentile(a, [50, 99])
    print(f"run #{result.run_id} {result.status.value}: {result.latency.count if result.latency else 0} iterations, "
          f"{len(result.layers)} layers; chart frames {frames}, setData {set_data}")
    print(f"start_run() itself took {start_call_ms:.1f} ms on the GUI thread")
    print(f"5 ms probe ticks: {len(a)}; lateness p50 {p50:.1f} ms  p99 {p99:.1f} ms  max {a.max():.1f} ms")
    print(f"targets p99 < 50 ms: {'ok' if p99 < 50 else 'MISSED'};  max < 100 ms: {'ok' if a.max() < 100 else 'MISSED'}")
    print(f"machine load average during the run: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs "
          "(a shared VM: stalls beyond our own GUI-thread work are the scheduler's)")
    worst = list(np.argsort(a)[-5:][::-1])
    print("worst ticks (index: ms):", ", ".join(f"{i}: {a[i]:.0f}" for i in worst))
    if profiled_from[0] is not None:
        tail = a[profiled_from[0]:]
        print(f"from the profiled pass's first drawn iteration to the end (tick {profiled_from[0]}, "
              f"{len(tail)} ticks): p99 {np.percentile(tail, 99):.1f} ms  max {tail.max():.1f} ms")
        worst += [profiled_from[0] + int(j) for j in np.argsort(tail)[-3:][::-1] if profiled_from[0] + j not in worst]
    print("  where the GUI thread was during each (ms): on CPU / waiting for a CPU / blocked or asleep")
    for i in worst:
        cpu, wait = split[i]
        gap = a[i] + 5.0
        print(f"  tick {i} ({100 * i / len(a):.0f}% into the run): {gap:.0f} ms = {cpu:.0f} / {wait:.0f} / "
              f"{max(0.0, gap - cpu - wait):.0f}")
        if sampler is not None:
            seen = sampler.between(tick_at[i] - gap / 1000, tick_at[i])
            total = sum(seen.values()) or 1
            for where, n in seen.most_common(4):
                print(f"      {100 * n / total:3.0f}%  {where}")


class _StackSampler(threading.Thread):
    """Reads one thread's Python stack every ~1 ms: (time, innermost workbench/pyqtgraph frame)."""

    def __init__(self, ident: int) -> None:
        super().__init__(name="stack-sampler", daemon=True)
        self.target = ident
        self.samples: list[tuple[float, str]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(0.001):
            frame = sys._current_frames().get(self.target)
            self.samples.append((time.perf_counter(), _where(frame)))

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def between(self, t0: float, t1: float) -> Counter:
        return Counter(w for t, w in self.samples if t0 <= t <= t1)


def _where(frame) -> str:
    """'pkg/module.py:func <- caller' for the innermost frames in our code or pyqtgraph; frames only in
    this script (its processEvents loop or tick) mean the thread is in Qt's C++ (events, layout, paint)."""
    chain = []
    while frame is not None:
        path = frame.f_code.co_filename
        if ("workbench" in path or "pyqtgraph" in path) and "bench/" not in path:
            chain.append(f"{'/'.join(Path(path).parts[-2:])}:{frame.f_code.co_name}")
        elif not chain and Path(path).name == "gui_stalls.py":
            return f"native: Qt under {frame.f_code.co_name}() (line {frame.f_lineno})"
        frame = frame.f_back
        if len(chain) == 3:
            break
    return " <- ".join(chain) or "?"


def _schedstat() -> tuple[int, int]:
    """This thread's ns on a CPU and ns runnable-but-waiting (Linux); zeros elsewhere."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            on_cpu, waiting, _ = f.read().split()
        return int(on_cpu), int(waiting)
    except (OSError, ValueError):
        return 0, 0


if __name__ == "__main__":
    main()
