"""The cooldown gate: before a measured run, wait until the device is back near its idle temperature.

A phone that just ran a benchmark is hot and throttles; measuring the next variant right away compares a
cool run with a hot one. The idle baseline is the coolest start temperature of this device's earlier runs
(or, with no history, the current reading, which then passes at once).
"""
from __future__ import annotations

import threading
import time
from typing import Callable

from workbench.core.events import Emit, Progress
from workbench.core.types import Sample


def wait_for_cooldown(latest: Callable[[], Sample | None], baseline: dict[str, float], margin_c: float,
                      timeout_s: float, cancel: threading.Event, emit: Emit,
                      poll_s: float = 0.5, first_sample_s: float = 3.0) -> dict[str, object]:
    """Block until every thermal channel is within `margin_c` of `baseline` (or timeout/cancel).
    Returns what happened, for the run's conditions."""
    start = time.monotonic()
    while latest() is None and time.monotonic() - start < first_sample_s and not cancel.is_set():
        cancel.wait(0.02)  # telemetry has just started: judge on a real reading, not on none
    excess = _excess(latest(), baseline)
    if excess is None:
        return {"applied": False, "reason": "no thermal channels on this device"}
    while excess > margin_c:
        waited = time.monotonic() - start
        if waited >= timeout_s or cancel.is_set():
            return {"applied": True, "reached": False, "waited_s": round(waited, 1), "excess_c": round(excess, 2)}
        emit(Progress("cooldown", waited, timeout_s, f"cooling down: {excess:.1f} °C above idle"))
        cancel.wait(poll_s)
        excess = _excess(latest(), baseline)
        if excess is None:
            break
    return {"applied": True, "reached": True, "waited_s": round(time.monotonic() - start, 1)}


def _excess(sample: Sample | None, baseline: dict[str, float]) -> float | None:
    """How far the hottest thermal channel is above its baseline (None without thermal channels)."""
    if sample is None:
        return None
    temps = {k: v for k, v in sample.values.items() if k.startswith("thermal.") and k != "thermal.status"}
    if not temps:
        return None
    return max(v - baseline.get(k, v) for k, v in temps.items())
