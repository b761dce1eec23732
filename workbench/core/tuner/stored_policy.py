"""A thermal switching policy derived from stored runs of a heavy and a light variant.

One place for what `workbench thresholds` and the Tuner tab both do: pick the thermal channel, join
temperature and latency, derive switch/switch-back points, and wrap them as a profile's ThermalSwitch.
"""
from __future__ import annotations

import numpy as np

from workbench.core.errors import WorkbenchError
from workbench.core.profiles.model import ThermalSwitch
from workbench.core.store import RunStore
from workbench.core.tuner.steady import thermal_key
from workbench.core.tuner.thresholds import ThermalThreshold, derive_thermal_switch, join_trace

NO_THERMAL = "this device reports no thermal channel: thermal thresholds cannot be derived from its runs"


def _trace(store: RunStore, run_id: int, key: str | None) -> tuple[str, np.ndarray, np.ndarray]:
    store.run_row(run_id)  # "no run N" rather than "no thermal channel" for a mistyped id
    t, series = store.samples(run_id)
    key = key or thermal_key(series)
    if key is None or key not in series:
        raise WorkbenchError(f"run {run_id}: {NO_THERMAL}" + (f" (asked for {key})" if key else ""))
    # thermal status is a level: hold the last reading, never interpolate between levels
    return key, join_trace(t, series[key], store.iterations(run_id), hold="status" in key), series[key]


def thermal_policy_from_runs(store: RunStore, heavy_run: int, light_run: int | None, budget_p90_ms: float, *,
                             channel: str | None = None, heavy: str = "heavy",
                             light: str = "light") -> tuple[ThermalSwitch, ThermalThreshold]:
    """The policy (with latency curves for replay) and the derivation behind it (crossings, noise, warnings)."""
    key, heavy_trace, sensor = _trace(store, heavy_run, channel)
    light_trace = _trace(store, light_run, key)[1] if light_run is not None else None
    th = derive_thermal_switch(heavy_trace, light_trace, budget_p90_ms, sample_temps=sensor[np.isfinite(sensor)],
                               discrete="status" in key)
    curves = {heavy: th.heavy_curve.points(), **({light: th.light_curve.points()} if th.light_curve else {})}
    policy = ThermalSwitch(channel=key, unit="status" if "status" in key else "C", heavy=heavy, light=light,
                           switch_at=round(th.switch_at, 2), switch_back_at=round(th.switch_back_at, 2),
                           budget_p90_ms=budget_p90_ms, latency_curves=curves)
    return policy, th
