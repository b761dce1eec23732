"""Percentiles of the last N values, updated per value in microseconds.

Why not `np.percentile` per iteration: it costs ~70 us a call (more than the drawing of a frame at
1 kHz iteration rates), and its first call imports numpy.ma lazily (~50 ms), which landed on the GUI
thread at every app's first run start (bench/gui_stalls.py). A sorted window with bisect is O(N) in C.
"""
from __future__ import annotations

import bisect
from collections import deque


class RollingPercentiles:
    """The last `size` values in arrival order and sorted; percentiles match numpy's 'linear' method."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"rolling window size must be >= 1, got {size}")
        self.size = size
        self._order: deque[float] = deque()
        self._sorted: list[float] = []

    def __len__(self) -> int:
        return len(self._order)

    def add(self, value: float) -> None:
        if len(self._order) == self.size:
            old = self._order.popleft()
            del self._sorted[bisect.bisect_left(self._sorted, old)]
        self._order.append(value)
        bisect.insort(self._sorted, value)

    def clear(self) -> None:
        self._order.clear()
        self._sorted.clear()

    def percentile(self, q: float) -> float:
        """q in [0, 100]; linear interpolation between closest ranks (numpy's default)."""
        s = self._sorted
        if not s:
            raise ValueError("no values in the rolling window")
        pos = (len(s) - 1) * q / 100.0
        lo = int(pos)
        hi = min(lo + 1, len(s) - 1)
        return s[lo] + (s[hi] - s[lo]) * (pos - lo)
