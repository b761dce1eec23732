"""The ring keeps the newest N rows contiguous and in order, whatever was appended before."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from workbench.core.viewmodels.ring import RingBuffer


@given(cap=st.integers(1, 40), n=st.integers(0, 200))
@settings(max_examples=60, deadline=None)
def test_last_n_rows_contiguous_and_ordered(cap: int, n: int) -> None:
    ring = RingBuffer(cap, ["a"])
    for k in range(n):
        ring.append(float(k), {"a": k * 2.0})
    expect_t = np.arange(max(0, n - cap), n, dtype=float)
    t = ring.times()
    assert t.base is not None or len(t) == 0  # a view, not a copy
    np.testing.assert_array_equal(t, expect_t)
    np.testing.assert_array_equal(ring.column("a"), expect_t * 2)
    assert len(ring) == min(n, cap) and ring.total == n


@given(cap=st.integers(1, 30), chunks=st.lists(st.integers(0, 50), max_size=6))
@settings(max_examples=60, deadline=None)
def test_extend_matches_append(cap: int, chunks: list[int]) -> None:
    a, b = RingBuffer(cap, ["x"]), RingBuffer(cap, ["x"])
    k = 0
    for m in chunks:
        t = np.arange(k, k + m, dtype=float)
        a.extend(t, {"x": t + 0.5})
        for v in t:
            b.append(v, {"x": v + 0.5})
        k += m
    np.testing.assert_array_equal(a.times(), b.times())
    np.testing.assert_array_equal(a.column("x"), b.column("x"))


def test_missing_values_are_nan_not_zero() -> None:
    ring = RingBuffer(4)
    ring.append(0.0, {"a": 1.0})
    ring.append(1.0, {"b": 2.0})  # b appears late, a missing this tick
    assert np.isnan(ring.column("a")[1]) and np.isnan(ring.column("b")[0])
    assert ring.range_since("a", 0.0) == (1.0, 1.0)


def test_range_since_and_value_at() -> None:
    ring = RingBuffer(10, ["v"])
    for k in range(25):
        ring.append(k * 0.1, {"v": float(k)})
    assert ring.range_since("v", 2.0) == (20.0, 24.0)
    assert ring.value_at("v", 2.04) == 20.0 and ring.value_at("v", 2.06) == 21.0
    assert ring.value_at("v", 99.0) == 24.0 and ring.value_at("v", -5.0) == 15.0
    assert ring.range_since("v", 100.0) is None


def test_bad_input() -> None:
    with pytest.raises(ValueError):
        RingBuffer(0)
    ring = RingBuffer(3)
    with pytest.raises(ValueError, match="channel 'a' has 1 values for 2"):
        ring.extend(np.array([0.0, 1.0]), {"a": np.array([1.0])})
