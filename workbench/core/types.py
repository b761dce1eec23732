"""Plain data exchanged between devices, runners, telemetry, the store, the CLI and the GUI.

These are deliberately dumb dataclasses: they cross thread and process boundaries, go into SQLite
and JSON, and are what plugins see through `workbench.api`.
"""
from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


class RunStatus(str, enum.Enum):
    """Life cycle of a stored run. `interrupted` is assigned on the next start to runs whose owner died."""

    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"


class DeviceState(str, enum.Enum):
    """States as adb names them, plus `local` machines, which are always `device`."""

    DEVICE = "device"
    OFFLINE = "offline"
    UNAUTHORIZED = "unauthorized"
    NO_PERMISSIONS = "no permissions"
    CONNECTING = "connecting"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ChannelSpec:
    """One telemetry series. `key` is dotted: group.name[.index], e.g. `cpu.load.3`, `thermal.soc`."""

    key: str
    unit: str  # "%", "MHz", "C", "W", "MB", "mA", "V", ...
    group: str  # chart it belongs to: cpu_load, cpu_freq, thermal, power, memory, ...
    label: str = ""


@dataclass
class Sample:
    """One telemetry tick. `t` is seconds on the device's monotonic clock (same clock as iterations)."""

    t: float
    values: dict[str, float]


@dataclass
class IterationEvent:
    """One model run. `phase` is `warmup`, `measure` (profiling off), `profile-warmup` (first runs of the
    profiling session, excluded from layer statistics) or `profiled` (profiling on)."""

    index: int
    phase: str
    t_start: float  # device monotonic seconds
    latency_ms: float


@dataclass
class LayerTiming:
    """Per-node timing aggregated over the profiled runs (names are those of the optimized graph)."""

    name: str
    op_type: str
    provider: str
    count: int
    mean_us: float
    p50_us: float
    p90_us: float
    total_us: float
    share: float  # of the summed per-layer time, 0..1


@dataclass
class LatencyStats:
    count: int
    mean_ms: float
    std_ms: float
    cv: float
    min_ms: float
    max_ms: float
    p50_ms: float
    p90_ms: float
    p99_ms: float


@dataclass
class ProfiledSummary:
    """What the separate profiled pass measured, so nobody confuses it with real latency."""

    runs: int
    run_mean_ms: float  # ORT's model_run durations with profiling on
    run_p50_ms: float
    layer_sum_ms: float  # mean over runs of the sum of node kernel times
    coverage: float  # layer_sum / run (0..1)
    overhead_pct: float  # (profiled p50 / unprofiled p50 - 1) * 100


@dataclass
class MemoryStats:
    """Peak memory of the runner process in MB; None where the OS does not tell."""

    peak_rss_mb: float | None = None
    peak_pss_mb: float | None = None
    peak_uss_mb: float | None = None
    rss_after_load_mb: float | None = None


@dataclass
class BenchmarkJob:
    """Everything a runner needs to execute warmup + N iterations of one model on one device."""

    model_path: Path
    warmup: int = 5
    runs: int | None = 50
    seconds: float | None = None  # when set, run until this many seconds have passed (runs is then a cap)
    threads: int | None = None  # intra-op threads; None = runtime default
    shapes: dict[str, list[int]] = field(default_factory=dict)  # for dynamic axes
    inputs: dict[str, Path] = field(default_factory=dict)  # .npy files
    spin: bool | None = None  # intra-op thread spinning; None = runtime default
    layers: bool = False  # also do a separate profiled pass
    layer_runs: int | None = None  # profiled iterations; default min(runs, 20)
    affinity: list[int] | None = None  # CPU ids
    seed: int = 0
    telemetry_hz: float = 10.0
    cooldown_c: float | None = None  # before measuring, wait until temps are within this of the idle baseline
    cooldown_timeout_s: float = 120.0
    runner: str = "ort-python"
    providers: list[str] = field(default_factory=lambda: ["CPUExecutionProvider"])
    label: str = ""  # free text: variant name etc.

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["model_path"] = str(self.model_path)
        d["inputs"] = {k: str(v) for k, v in self.inputs.items()}
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "BenchmarkJob":
        d = dict(d)
        d["model_path"] = Path(d["model_path"])
        d["inputs"] = {k: Path(v) for k, v in d.get("inputs", {}).items()}
        return cls(**d)


@dataclass
class BenchmarkResult:
    """The summary of one run, as stored and as printed by `workbench show`."""

    run_id: int
    status: RunStatus
    device: str
    model: str
    latency: LatencyStats | None = None
    first_run_ms: float | None = None
    session_load_ms: float | None = None
    layers: list[LayerTiming] = field(default_factory=list)
    profiled: ProfiledSummary | None = None
    memory: MemoryStats = field(default_factory=MemoryStats)
    conditions: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {shape, dtype, source}
    outputs_digest: str = ""
    error: str = ""

    def op_summary(self) -> list[dict[str, Any]]:
        """Per-op-type totals: op_type, count (nodes), total_us (per run), share."""
        agg: dict[str, dict[str, Any]] = {}
        for layer in self.layers:
            a = agg.setdefault(layer.op_type, {"op_type": layer.op_type, "nodes": 0, "mean_us": 0.0, "share": 0.0})
            a["nodes"] += 1
            a["mean_us"] += layer.mean_us
            a["share"] += layer.share
        return sorted(agg.values(), key=lambda a: -a["mean_us"])
