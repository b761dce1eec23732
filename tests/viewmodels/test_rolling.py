"""RollingPercentiles against numpy's percentile over the same window."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.core.viewmodels.rolling import RollingPercentiles


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 1e4, allow_nan=False), min_size=1, max_size=120), st.integers(1, 40))
def test_matches_numpy_over_the_last_n(values: list[float], size: int) -> None:
    r = RollingPercentiles(size)
    for i, v in enumerate(values):
        r.add(v)
        window = values[max(0, i + 1 - size): i + 1]
        assert len(r) == len(window)
        for q in (0, 50, 90, 100):
            assert r.percentile(q) == pytest.approx(float(np.percentile(window, q)), rel=1e-9, abs=1e-9)


def test_empty_and_bad_size_are_errors() -> None:
    with pytest.raises(ValueError, match="no values"):
        RollingPercentiles(3).percentile(50)
    with pytest.raises(ValueError, match=">= 1"):
        RollingPercentiles(0)
    r = RollingPercentiles(2)
    r.add(1.0)
    r.clear()
    assert len(r) == 0
