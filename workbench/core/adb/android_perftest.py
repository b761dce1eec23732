"""The summary `onnxruntime_perf_test` prints at the end of a run -> PerfTestSummary.

The Android runner drives that binary, so this summary is the fallback latency record when its
profile JSON cannot be pulled. Lines differ across ORT versions ("Avg CPU usage: 74 %" vs "Total CPU
usage: 382 %", a repeated machine-readable "Peak working set size:50905088"); all are accepted.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from workbench.core.adb.android_text import lines, to_float

_SECONDS_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9 ]*?)\s*:\s*([-+0-9.eE]+)\s*([A-Za-zµ%]*)\s*$")
_PERCENTILE = re.compile(r"^p(\d+)\s+latency$")


@dataclass
class PerfTestSummary:
    """All times in milliseconds, memory in bytes; None where this ORT version did not print it."""

    session_creation_ms: float | None = None
    first_inference_ms: float | None = None
    total_inference_ms: float | None = None
    requests: int | None = None
    average_ms: float | None = None
    total_run_ms: float | None = None
    inferences_per_second: float | None = None
    cpu_usage_pct: float | None = None
    peak_working_set_bytes: int | None = None
    min_ms: float | None = None
    max_ms: float | None = None
    percentiles_ms: dict[str, float] = field(default_factory=dict)  # "p50", "p90", "p95", "p99", "p999"
    problems: list[str] = field(default_factory=list)

    @property
    def p50_ms(self) -> float | None:
        return self.percentiles_ms.get("p50")

    @property
    def p99_ms(self) -> float | None:
        return self.percentiles_ms.get("p99")


_MS_FIELDS = {
    "session creation time cost": "session_creation_ms",
    "first inference time cost": "first_inference_ms",
    "total inference time cost": "total_inference_ms",
    "average inference time cost": "average_ms",
    "total inference run time": "total_run_ms",
    "min latency": "min_ms",
    "max latency": "max_ms",
}


def parse_perf_test(text: str) -> PerfTestSummary:
    """Read the summary lines; everything else perf_test prints (EP logs, warnings) is ignored."""
    out = PerfTestSummary()
    for line in lines(text):
        m = _LINE.match(line)
        if not m:
            continue
        key, value, unit = m.group(1).strip().lower(), to_float(m.group(2)), m.group(3)
        if value is None:
            continue
        if key in _MS_FIELDS or _PERCENTILE.match(key):
            scale = _SECONDS_UNITS.get(unit.lower() if unit != "µs" else unit)
            if scale is None:
                out.problems.append(f"perf_test: '{key}' has unit {unit!r}, expected s/ms/us")
                continue
            ms = value * scale * 1000.0
            p = _PERCENTILE.match(key)
            if p:
                out.percentiles_ms[f"p{p.group(1)}"] = ms
            else:
                setattr(out, _MS_FIELDS[key], ms)
        elif key == "total inference requests" or (key == "runs" and out.requests is None):
            out.requests = int(value)
        elif key == "number of inferences per second":
            out.inferences_per_second = value
        elif key in ("avg cpu usage", "total cpu usage") and out.cpu_usage_pct is None:
            out.cpu_usage_pct = value
        elif key == "peak working set size" and unit.lower() in ("", "bytes"):
            out.peak_working_set_bytes = int(value)
    if out.average_ms is None and not out.percentiles_ms:
        out.problems.append("perf_test: no latency summary (run failed or output truncated)")
    return out
