"""Parse ONNX Runtime's profile JSON (the same format on every runner) into per-layer timings.

ORT writes one `model_run` Session event per run and, per node, `<node>_kernel_time` Node events (plus
fence events we ignore). Node names are those of the *optimized* graph (fused Conv+Relu etc.), so the
table shows what really executed. Runs are separated by `model_run` windows; warm-up runs are skipped.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any, Iterable

from workbench.core.stats import percentile
from workbench.core.types import LayerTiming


@dataclass
class NodeEvent:
    run: int  # index among the kept (post-warm-up) runs
    name: str
    op_type: str
    provider: str
    ts_us: float  # relative to profiling start
    dur_us: float


@dataclass
class ParsedProfile:
    run_durations_us: list[float]
    run_starts_us: list[float]
    node_events: list[NodeEvent]
    layers: list[LayerTiming]

    @property
    def layer_sums_us(self) -> list[float]:
        sums = [0.0] * len(self.run_durations_us)
        for ev in self.node_events:
            sums[ev.run] += ev.dur_us
        return sums


def _events(raw: Any) -> list[dict[str, Any]]:
    if isinstance(raw, dict):
        raw = raw.get("traceEvents", [])
    if not isinstance(raw, list):
        raise ValueError("profile is not a list of trace events")
    return [e for e in raw if isinstance(e, dict)]


def parse_profile(raw: Any, skip_runs: int = 0) -> ParsedProfile:
    """Turn ORT profile events into per-run node events and aggregated per-layer timings."""
    events = _events(raw)
    runs = sorted(
        (float(e["ts"]), float(e["dur"]))
        for e in events
        if e.get("cat") == "Session" and e.get("name") == "model_run" and "ts" in e and "dur" in e
    )
    runs = runs[skip_runs:]
    starts = [r[0] for r in runs]
    node_events: list[NodeEvent] = []
    for e in events:
        if e.get("cat") != "Node" or not str(e.get("name", "")).endswith("_kernel_time"):
            continue
        ts, dur = float(e.get("ts", 0.0)), float(e.get("dur", 0.0))
        k = bisect.bisect_right(starts, ts) - 1
        if k < 0 or ts > starts[k] + runs[k][1]:
            continue  # belongs to a skipped warm-up run (or to no run at all)
        args = e.get("args", {}) or {}
        name = str(e["name"])[: -len("_kernel_time")]
        node_events.append(NodeEvent(k, name, str(args.get("op_name", "?")),
                                     str(args.get("provider", "?")), ts, dur))
    layers = aggregate_layers(node_events, len(runs))
    return ParsedProfile([r[1] for r in runs], starts, node_events, layers)


def aggregate_layers(node_events: Iterable[NodeEvent], n_runs: int) -> list[LayerTiming]:
    """Per node: mean/p50/p90 of its per-run time (a node run twice in one run, e.g. in a Loop, is summed)."""
    per_node: dict[str, dict[int, float]] = {}
    meta: dict[str, tuple[str, str]] = {}
    order: dict[str, float] = {}
    for ev in node_events:
        per_node.setdefault(ev.name, {})
        per_node[ev.name][ev.run] = per_node[ev.name].get(ev.run, 0.0) + ev.dur_us
        meta.setdefault(ev.name, (ev.op_type, ev.provider))
        order.setdefault(ev.name, ev.ts_us)
    total_mean = sum(sum(v.values()) for v in per_node.values()) / max(n_runs, 1)
    layers = []
    for name, by_run in per_node.items():
        values = [by_run.get(r, 0.0) for r in range(max(n_runs, 1))]
        mean = sum(values) / len(values)
        layers.append(LayerTiming(
            name=name, op_type=meta[name][0], provider=meta[name][1], count=len(by_run),
            mean_us=mean, p50_us=percentile(values, 50), p90_us=percentile(values, 90),
            total_us=sum(values), share=(mean / total_mean) if total_mean > 0 else 0.0,
        ))
    layers.sort(key=lambda lt: order[lt.name])
    return layers


def first_run_ts_us(raw: Any) -> float | None:
    """Start of the first `model_run` (warm-up included), to map profile time onto the device clock."""
    starts = [float(e["ts"]) for e in _events(raw)
              if e.get("cat") == "Session" and e.get("name") == "model_run" and "ts" in e]
    return min(starts) if starts else None
