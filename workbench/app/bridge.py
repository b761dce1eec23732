"""Carries core events from worker threads to the GUI thread.

Core calls `bridge(event)` on whatever thread produced it. High-rate events (samples, iterations)
go straight into the Qt-free `LiveRunModel` queue and are drawn by the chart's frame timer: no signal
per sample, so a 1 kHz source costs the event loop nothing extra. Everything else becomes one of the
`sig_*` signals below; they are emitted from the worker thread and delivered on the GUI thread
because the receivers live there (Qt's queued connection; `connect(..., Qt.QueuedConnection)` is
used explicitly by `connect_queued`).
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, Qt, Signal

from workbench.core.events import (
    ChannelsKnown,
    Event,
    Iteration,
    LayersReady,
    Log,
    Progress,
    RunFinished,
    RunStarted,
    SampleEvent,
)
from workbench.core.viewmodels.live import LiveRunModel


class EventBridge(QObject):
    """An `Emit` for core (call it with events) that re-emits them as Qt signals."""

    sig_run_started = Signal(object)
    """A run began. Argument: `RunStarted` (run id, device serial, model, device t0)."""

    sig_channels_known = Signal(object)
    """The run's telemetry channels are known. Argument: `ChannelsKnown`; absent probes are not listed."""

    sig_progress = Signal(object)
    """Coarse progress for the progress bar. Argument: `Progress` (stage, done, total or None, message)."""

    sig_log = Signal(object)
    """A message for the status bar / log. Argument: `Log` (level, message, detail)."""

    sig_layers_ready = Signal(object)
    """Per-layer timings of the profiled pass are available. Argument: `LayersReady`."""

    sig_run_finished = Signal(object)
    """The run ended (done, failed or cancelled). Argument: `RunFinished` with its `BenchmarkResult`."""

    def __init__(self, live: LiveRunModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.live = live

    def __call__(self, event: Event) -> None:
        """Core's `emit`: safe from any thread."""
        if isinstance(event, (SampleEvent, Iteration)):
            self.live.handle(event)
            return
        if isinstance(event, RunStarted):
            self.live.handle(event)
            self.sig_run_started.emit(event)
        elif isinstance(event, ChannelsKnown):
            self.live.handle(event)
            self.sig_channels_known.emit(event)
        elif isinstance(event, Progress):
            self.sig_progress.emit(event)
        elif isinstance(event, Log):
            self.sig_log.emit(event)
        elif isinstance(event, LayersReady):
            self.sig_layers_ready.emit(event)
        elif isinstance(event, RunFinished):
            self.sig_run_finished.emit(event)


def connect_queued(signal: Signal, slot: Callable[..., object]) -> None:
    """Connect so the slot always runs in its receiver's thread, even if the emit happens elsewhere."""
    signal.connect(slot, Qt.ConnectionType.QueuedConnection)
