"""Latency statistics, computed the same way for every device and every view."""
from __future__ import annotations

import math
from typing import Sequence

from workbench.core.types import LatencyStats


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), without needing numpy in hot paths."""
    if not values:
        return math.nan
    data = sorted(values)
    pos = (len(data) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def latency_stats(latencies_ms: Sequence[float]) -> LatencyStats | None:
    if not latencies_ms:
        return None
    n = len(latencies_ms)
    mean = sum(latencies_ms) / n
    std = math.sqrt(sum((x - mean) ** 2 for x in latencies_ms) / (n - 1)) if n > 1 else 0.0
    return LatencyStats(
        count=n, mean_ms=mean, std_ms=std, cv=(std / mean) if mean > 0 else 0.0,
        min_ms=min(latencies_ms), max_ms=max(latencies_ms),
        p50_ms=percentile(latencies_ms, 50), p90_ms=percentile(latencies_ms, 90),
        p99_ms=percentile(latencies_ms, 99),
    )
