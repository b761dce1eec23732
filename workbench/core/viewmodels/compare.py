"""Compare tab logic: 2-4 stored runs side by side (metrics with deltas/ratios vs the first) and CDFs."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from workbench.core.errors import WorkbenchError
from workbench.core.types import BenchmarkResult

MAX_RUNS = 4

#: (label, unit, getter, lower_is_better)
METRICS: list[tuple[str, str, Callable[[BenchmarkResult], float | None], bool]] = [
    ("p50 latency", "ms", lambda r: r.latency.p50_ms if r.latency else None, True),
    ("p90 latency", "ms", lambda r: r.latency.p90_ms if r.latency else None, True),
    ("p99 latency", "ms", lambda r: r.latency.p99_ms if r.latency else None, True),
    ("mean latency", "ms", lambda r: r.latency.mean_ms if r.latency else None, True),
    ("cv", "", lambda r: r.latency.cv if r.latency else None, True),
    ("first run", "ms", lambda r: r.first_run_ms, True),
    ("session load", "ms", lambda r: r.session_load_ms, True),
    ("peak RSS", "MB", lambda r: r.memory.peak_rss_mb, True),
    ("layers", "", lambda r: float(len(r.layers)) if r.layers else None, False),
]


@dataclass
class MetricRow:
    label: str
    unit: str
    values: list[float | None]
    deltas: list[float | None]  # vs the first run
    ratios: list[float | None]
    best: int | None  # column index of the best value


def check_selection(run_ids: list[int]) -> list[int]:
    ids = list(dict.fromkeys(run_ids))
    if not 2 <= len(ids) <= MAX_RUNS:
        raise WorkbenchError(f"compare needs 2 to {MAX_RUNS} different runs, got {len(ids)}")
    return ids


def metric_rows(results: list[BenchmarkResult]) -> list[MetricRow]:
    rows = []
    for label, unit, get, lower in METRICS:
        values = [get(r) for r in results]
        if all(v is None for v in values):
            continue
        base = values[0]
        deltas = [None if v is None or base is None else v - base for v in values]
        ratios = [None if v is None or not base else v / base for v in values]
        present = [(v, i) for i, v in enumerate(values) if v is not None]
        best = (min(present) if lower else max(present))[1] if len(present) > 1 else None
        rows.append(MetricRow(label, unit, values, deltas, ratios, best))
    return rows


def cdf(latencies_ms: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """Sorted latencies and their cumulative fraction (0..1], for an empirical CDF step plot."""
    x = np.sort(np.asarray(latencies_ms, dtype=float))
    y = np.arange(1, len(x) + 1, dtype=float) / max(len(x), 1)
    return x, y
