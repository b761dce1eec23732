"""Fixed-size numpy ring of time series, laid out so the newest N samples are one contiguous view.

Every sample is written twice, at `i` and `i + N` of a `2N` array. The last N samples are then always
`buf[i : i + N]`: no copy, no `np.roll`, no concatenation per redraw, however many hours were fed.
This is what lets a chart call `setData` 30 times a second on hours of data (see pyqtgraph's
scrollingPlots example). Memory is bounded by N, never by run length.
"""
from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np


class RingBuffer:
    """A shared time column plus one float64 column per channel; missing values are NaN."""

    def __init__(self, capacity: int, channels: Iterable[str] = ()) -> None:
        if capacity < 1:
            raise ValueError(f"ring capacity must be >= 1, got {capacity}")
        self.capacity = int(capacity)
        self._t = np.full(2 * self.capacity, np.nan)
        self._cols: dict[str, np.ndarray] = {}
        self._count = 0  # samples ever appended
        for key in channels:
            self.add_channel(key)

    # -- shape ---------------------------------------------------------------------------------
    @property
    def channels(self) -> list[str]:
        return list(self._cols)

    def add_channel(self, key: str) -> None:
        """Add a column; earlier rows read as NaN for it (a probe that appeared late is not zero)."""
        if key not in self._cols:
            self._cols[key] = np.full(2 * self.capacity, np.nan)

    def __len__(self) -> int:
        return min(self._count, self.capacity)

    @property
    def total(self) -> int:
        """Samples appended since creation or `clear`, including those already overwritten."""
        return self._count

    def clear(self) -> None:
        self._count = 0
        self._t.fill(np.nan)
        for col in self._cols.values():
            col.fill(np.nan)

    # -- writing -------------------------------------------------------------------------------
    def append(self, t: float, values: Mapping[str, float]) -> None:
        """Write one row; unknown keys add a channel, channels absent from `values` get NaN."""
        n = self.capacity
        i = self._count % n
        self._t[i] = self._t[i + n] = t
        for key in values:
            if key not in self._cols:
                self.add_channel(key)
        for key, col in self._cols.items():
            v = values.get(key, np.nan)
            col[i] = col[i + n] = v
        self._count += 1

    def extend(self, t: np.ndarray, values: Mapping[str, np.ndarray]) -> None:
        """Write many rows at once (vectorised); used by bulk loads such as reopening a stored run."""
        t = np.asarray(t, dtype=float)
        m = len(t)
        if m == 0:
            return
        for key, arr in values.items():
            if len(arr) != m:
                raise ValueError(f"channel {key!r} has {len(arr)} values for {m} timestamps")
            self.add_channel(key)
        n = self.capacity
        if m > n:  # only the newest n rows can survive; skip writing the rest
            skip = m - n
            self._count += skip
            t = t[skip:]
            values = {k: np.asarray(v, dtype=float)[skip:] for k, v in values.items()}
            m = n
        idx = (self._count + np.arange(m)) % n
        self._t[idx] = t
        self._t[idx + n] = t
        for key, col in self._cols.items():
            v = np.asarray(values[key], dtype=float) if key in values else np.nan
            col[idx] = v
            col[idx + n] = v
        self._count += m

    # -- reading -------------------------------------------------------------------------------
    def _window(self) -> slice:
        if self._count <= self.capacity:
            return slice(0, self._count)
        i = self._count % self.capacity
        return slice(i, i + self.capacity)

    def times(self) -> np.ndarray:
        """Oldest-to-newest timestamps: a view into the ring, valid until the next write."""
        return self._t[self._window()]

    def column(self, key: str) -> np.ndarray:
        """Oldest-to-newest values of one channel (a view; NaN where it was not reported)."""
        return self._cols[key][self._window()]

    def last_time(self) -> float | None:
        if self._count == 0:
            return None
        return float(self._t[(self._count - 1) % self.capacity])

    def range_since(self, key: str, t_min: float) -> tuple[float, float] | None:
        """(min, max) of a channel over rows with t >= t_min, ignoring NaN; None if nothing there."""
        t = self.times()
        if len(t) == 0:
            return None
        start = int(np.searchsorted(t, t_min, side="left"))  # times are appended in order
        vals = self.column(key)[start:]
        vals = vals[np.isfinite(vals)]
        if len(vals) == 0:
            return None
        return float(vals.min()), float(vals.max())

    def value_at(self, key: str, t: float) -> float | None:
        """The channel's value at the row nearest to `t` (crosshair read-out); None if empty/NaN."""
        times = self.times()
        if len(times) == 0:
            return None
        j = int(np.searchsorted(times, t))
        if j >= len(times):
            j = len(times) - 1
        elif j > 0 and abs(times[j - 1] - t) <= abs(times[j] - t):
            j -= 1
        v = float(self.column(key)[j])
        return v if np.isfinite(v) else None
