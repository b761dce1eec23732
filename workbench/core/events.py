"""Events a run emits while it happens; the store, the CLI and the GUI all consume the same stream.

A producer calls `emit(event)`; consumers are plain callables. The GUI turns each event into a Qt
signal on its side; core never knows about Qt.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Union

from workbench.core.types import BenchmarkResult, ChannelSpec, IterationEvent, LayerTiming, Sample


@dataclass
class RunStarted:
    run_id: int
    device: str
    model: str
    t0: float  # device monotonic seconds at start


@dataclass
class ChannelsKnown:
    """The telemetry channels this run will produce (absent probes are simply not listed)."""

    run_id: int
    channels: list[ChannelSpec]


@dataclass
class SampleEvent:
    run_id: int
    sample: Sample


@dataclass
class Iteration:
    run_id: int
    iteration: IterationEvent


@dataclass
class LayersReady:
    run_id: int
    layers: list[LayerTiming]


@dataclass
class Progress:
    """Coarse progress for bars: `done` of `total` units of `stage` (total None = indeterminate)."""

    stage: str
    done: float
    total: float | None
    message: str = ""


@dataclass
class Log:
    level: str  # info | warning | error
    message: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunFinished:
    run_id: int
    result: BenchmarkResult


Event = Union[RunStarted, ChannelsKnown, SampleEvent, Iteration, LayersReady, Progress, Log, RunFinished]
Emit = Callable[[Event], None]
