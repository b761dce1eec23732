"""What every device kind (local, adb, ...) offers to the benchmark, the CLI and the GUI.

A device knows how to put a model where its runner can read it, how to start that runner, and how to
stream telemetry from its own clock. Everything above it (benchmark, store, views) is device-blind.
"""
from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from workbench.core.types import BenchmarkJob, ChannelSpec, DeviceState, IterationEvent, Sample

ProgressFn = Callable[[float, float | None], None]  # (done, total) in bytes or units


@dataclass
class DeviceInfo:
    """A device report in sections (`device`, `cpu`, `memory`, `thermal`, `power`, `probes`...).

    `absent` names what this device does not expose (e.g. "thermal zones: /sys/class/thermal has none"),
    so a report says so instead of failing or printing zeros.
    """

    serial: str
    kind: str
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    absent: list[str] = field(default_factory=list)

    def fingerprint(self) -> dict[str, Any]:
        """The stable identity a tuning profile records (model, SoC, ABI, OS)."""
        dev = self.sections.get("device", {})
        keys = ("model", "manufacturer", "soc", "abi", "os", "os_release", "cpu_model", "cores")
        fp = {k: dev[k] for k in keys if k in dev}
        fp["kind"] = self.kind
        return fp


@dataclass
class RunnerOutput:
    """What a runner brings back from the device, before statistics are computed."""

    iterations: list[IterationEvent]
    session_load_ms: float | None
    profile_events: list[dict[str, Any]]  # ORT profile JSON ("traceEvents"-style list), empty if no --layers
    inputs: dict[str, dict[str, Any]]  # name -> {shape, dtype, source}
    runner_pid: int | None
    max_rss_mb: float | None  # kernel's peak RSS of the runner (ru_maxrss), if reported
    rss_after_load_mb: float | None
    outputs_digest: str
    runtime: dict[str, Any] = field(default_factory=dict)  # ort version, providers, threads actually used


class TelemetrySource(ABC):
    """Samples probes on the device's clock and calls `on_sample` from its own thread."""

    @abstractmethod
    def channels(self) -> list[ChannelSpec]:
        """Channels this source will report; absent probes are not listed."""

    @abstractmethod
    def start(self, on_sample: Callable[[Sample], None]) -> None: ...

    @abstractmethod
    def watch_pid(self, pid: int | None) -> None:
        """Also sample this process's memory (the runner), or stop doing so with None."""

    @abstractmethod
    def stop(self) -> None:
        """Stop sampling; returns after the last `on_sample` call has returned."""

    def problems(self) -> list[str]:
        """What went wrong while sampling (disabled probes, denied files, a dropped stream), one line each;
        the run records them so a gap in a chart has its reason next to it."""
        return []


class Device(ABC):
    """A target that can run ONNX models: this machine, or an adbd peer."""

    serial: str
    kind: str

    @abstractmethod
    def state(self) -> DeviceState: ...

    @abstractmethod
    def info(self) -> DeviceInfo: ...

    @abstractmethod
    def clock(self) -> float:
        """Now, in seconds, on the clock that iteration and sample timestamps use."""

    @abstractmethod
    def prepare(self, model: Path, progress: ProgressFn | None = None) -> str:
        """Make `model` available to the runner (push if needed, keyed by sha256); return its device path."""

    @abstractmethod
    def run(
        self,
        job: BenchmarkJob,
        device_model_path: str,
        on_iteration: Callable[[IterationEvent], None],
        on_pid: Callable[[int], None],
        cancel: threading.Event,
    ) -> RunnerOutput:
        """Execute warmup + iterations (+ profiled pass) in a separate process; raise RunFailed/RunCancelled."""

    @abstractmethod
    def telemetry(self, rate_hz: float) -> TelemetrySource: ...

    def channel_specs(self) -> list[ChannelSpec]:
        """The channels a run on this device would report, leaving nothing running behind.

        For laying out charts before a run (device selection). A TelemetrySource's `channels()` may
        start sampling (an adb device's on-device loop), so this default stops the source it opened;
        device kinds override it with something cheaper.
        """
        source = self.telemetry(10.0)
        try:
            return source.channels()
        finally:
            source.stop()
