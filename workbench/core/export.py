"""Write a stored run out as CSV, JSON, or a Chrome/Perfetto trace.

The trace puts iterations and per-layer kernel events as slices and every telemetry channel as a counter
track on one timeline (device clock, microseconds), so Perfetto shows a hot layer next to the temperature.
"""
from __future__ import annotations

import csv
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from workbench.core.errors import WorkbenchError
from workbench.core.store import RunStore

FORMATS = ("csv", "json", "trace")


def run_document(store: RunStore, run_id: int) -> dict[str, Any]:
    """Everything stored about a run, as one JSON-able document."""
    result = store.get_result(run_id)
    t, series = store.samples(run_id)
    job = store.job(run_id)
    return {
        "run": asdict(result) | {"status": result.status.value},
        "job": job.to_json() if job else None,
        "channels": [asdict(c) for c in store.channels(run_id)],
        "iterations": [asdict(it) for it in store.iterations(run_id)],
        "samples": {"t": t.tolist(), **{k: [None if v != v else v for v in arr.tolist()] for k, arr in series.items()}},
    }


def export_run(store: RunStore, run_id: int, fmt: str, out: Path) -> list[Path]:
    """Write the run to `out` (a file; CSV writes `<stem>.iterations.csv` etc. beside it). Returns paths written."""
    if fmt not in FORMATS:
        raise WorkbenchError(f"unknown export format {fmt!r} (choose {', '.join(FORMATS)})")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        out.write_text(json.dumps(run_document(store, run_id), indent=1, default=str))
        return [out]
    if fmt == "trace":
        out.write_text(json.dumps(chrome_trace(store, run_id)))
        return [out]
    return _export_csv(store, run_id, out)


def _export_csv(store: RunStore, run_id: int, out: Path) -> list[Path]:
    stem = out.with_suffix("")
    paths = []
    p = stem.with_name(stem.name + ".iterations.csv")
    with p.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["index", "phase", "t_start_s", "latency_ms"])
        for it in store.iterations(run_id):
            w.writerow([it.index, it.phase, f"{it.t_start:.6f}", f"{it.latency_ms:.4f}"])
    paths.append(p)
    t, series = store.samples(run_id)
    p = stem.with_name(stem.name + ".samples.csv")
    with p.open("w", newline="") as f:
        w = csv.writer(f)
        keys = list(series)
        w.writerow(["t_s", *keys])
        for i, ti in enumerate(t):
            w.writerow([f"{ti:.6f}", *("" if series[k][i] != series[k][i] else f"{series[k][i]:.4f}" for k in keys)])
    paths.append(p)
    layers = store.layers(run_id)
    if layers:
        p = stem.with_name(stem.name + ".layers.csv")
        with p.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["name", "op_type", "provider", "count", "mean_us", "p50_us", "p90_us", "share"])
            for lt in layers:
                w.writerow([lt.name, lt.op_type, lt.provider, lt.count, f"{lt.mean_us:.2f}", f"{lt.p50_us:.2f}",
                            f"{lt.p90_us:.2f}", f"{lt.share:.4f}"])
        paths.append(p)
    return paths


def chrome_trace(store: RunStore, run_id: int) -> dict[str, Any]:
    """Trace Event Format (JSON object form), openable in Perfetto UI and chrome://tracing."""
    row = store.run_row(run_id)
    events: list[dict[str, Any]] = [
        {"ph": "M", "pid": 1, "name": "process_name", "args": {"name": f"run {run_id} on {row['device']}"}},
        {"ph": "M", "pid": 1, "tid": 1, "name": "thread_name", "args": {"name": "iterations"}},
        {"ph": "M", "pid": 1, "tid": 2, "name": "thread_name", "args": {"name": "layers (profiled)"}},
    ]
    for it in store.iterations(run_id):
        events.append({"ph": "X", "pid": 1, "tid": 1, "name": f"{it.phase} #{it.index}", "cat": it.phase,
                       "ts": it.t_start * 1e6, "dur": it.latency_ms * 1e3, "args": {"latency_ms": it.latency_ms}})
    for run, name, op_type, t, dur_us in store.layer_events(run_id):
        events.append({"ph": "X", "pid": 1, "tid": 2, "name": name, "cat": op_type, "ts": t * 1e6, "dur": dur_us,
                       "args": {"op_type": op_type, "profiled_run": run}})
    units = {c.key: c.unit for c in store.channels(run_id)}
    for sample in store.iter_samples(run_id):
        for key, value in sample.values.items():
            unit = units.get(key, "")
            events.append({"ph": "C", "pid": 1, "name": f"{key} ({unit})" if unit else key, "ts": sample.t * 1e6,
                           "args": {"value": value}})
    return {"traceEvents": events, "displayTimeUnit": "ms",
            "metadata": {"workbench_run": run_id, "model": row["model"], "device": row["device"]}}
