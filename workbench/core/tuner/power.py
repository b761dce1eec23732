"""Mean device power over a trial's measure window, from stored telemetry, for energy per inference.

Only readings that are the device's own draw count:
- the battery, and only on ticks where its `<key>.external` flag is 0 (or the flag is absent): on USB or
  a charger the battery reports net current, and charging gives negative watts that would meet any
  energy budget for free;
- else RAPL top-level domains: `psys` (the whole platform) alone when present, otherwise the sum of
  the `package*` domains. Sub-domains (core, uncore, dram) are parts of a package, and per-rail power
  (`power.rail.*`) covers parts of the phone: summing or picking one of those is not a total.
Only ticks between the first measured iteration's start and the last one's end count: prepare,
warm-up and cool-down draw differently from steady inference.
When no source qualifies the estimate has no watts and says why, so a trial can report it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from workbench.core.store import RunStore
from workbench.core.types import ChannelSpec, IterationEvent

_BATTERY = re.compile(r"^power\.battery(\.[A-Za-z0-9_-]+)?$")
_RAPL_PACKAGE = re.compile(r"^power\.rapl\.package")
_RAPL_PSYS = re.compile(r"^power\.rapl\.psys")


@dataclass(frozen=True)
class PowerEstimate:
    """`watts` is None when unknown; `reason` then says why (and otherwise notes what was left out)."""

    watts: float | None
    sources: tuple[str, ...] = ()
    samples: int = 0
    reason: str = ""

    def to_json(self) -> dict[str, object]:
        if self.watts is None:
            return {"unknown": self.reason}
        return {"watts": self.watts, "sources": list(self.sources), "samples": self.samples,
                **({"note": self.reason} if self.reason else {})}


def measure_window(iterations: Sequence[IterationEvent]) -> tuple[float, float] | None:
    """(first measured iteration's start, last one's end) on the device clock; None without any."""
    its = [it for it in iterations if it.phase == "measure"]
    if not its:
        return None
    first = min(its, key=lambda it: it.t_start)
    last = max(its, key=lambda it: it.t_start)
    return first.t_start, last.t_start + last.latency_ms / 1000.0


def _is_subdomain(c: ChannelSpec) -> bool:
    # the power probe labels sub-domains "part of <package>"; a separate group is used for them too
    return "part of" in c.label


def total_sources(channels: Sequence[ChannelSpec]) -> tuple[list[str], list[str], list[str]]:
    """(battery keys, RAPL keys to sum, other W channels ignored) among the `power` group's W channels."""
    watts = [c for c in channels if c.group == "power" and c.unit == "W" and c.key.startswith("power.")]
    batteries = [c.key for c in watts if _BATTERY.match(c.key) and not c.key.endswith(".external")]
    psys = [c.key for c in watts if _RAPL_PSYS.match(c.key) and not _is_subdomain(c)]
    packages = [c.key for c in watts if _RAPL_PACKAGE.match(c.key) and not _is_subdomain(c)]
    rapl = psys[:1] or packages
    ignored = [c.key for c in watts if c.key not in batteries and c.key not in rapl]
    return batteries, rapl, ignored


def _ticks(t: np.ndarray, series: dict[str, np.ndarray], keys: list[str], window: tuple[float, float],
           flags: list[str]) -> tuple[np.ndarray, int]:
    """Per-tick sum of `keys` on ticks inside `window` where every key is finite and no flag is set;
    also the number of in-window ticks dropped because a flag was set."""
    inside = (t >= window[0]) & (t <= window[1])
    have = np.all([np.isfinite(series[k]) for k in keys], axis=0) & inside
    flagged = np.zeros_like(have)
    for f in flags:
        flagged |= np.nan_to_num(series[f], nan=0.0) != 0.0
    ok = have & ~flagged
    return np.sum([series[k][ok] for k in keys], axis=0), int(np.count_nonzero(have & flagged))


def mean_power(t: np.ndarray, series: dict[str, np.ndarray], channels: Sequence[ChannelSpec],
               iterations: Sequence[IterationEvent]) -> PowerEstimate:
    """Mean total device power (W) over the measure window; see the module doc for what counts."""
    batteries, rapl, ignored = total_sources([c for c in channels if c.key in series])
    if not batteries and not rapl:
        if ignored:
            return PowerEstimate(None, reason=f"only partial power channels ({', '.join(ignored)}): rails and "
                                              f"sub-domains are parts of the draw, not a total")
        return PowerEstimate(None, reason="the device reports no power telemetry")
    window = measure_window(iterations)
    if window is None:
        return PowerEstimate(None, reason="the run has no measured iterations")
    t = np.asarray(t, float)
    span = f"the {window[1] - window[0]:.2f} s measure window"
    reasons: list[str] = []
    if batteries:
        flags = [f"{k}.external" for k in batteries if f"{k}.external" in series]
        vals, on_external = _ticks(t, series, batteries, window, flags)
        if vals.size:
            note = f"{on_external} battery sample(s) on external power left out" if on_external else ""
            return PowerEstimate(float(vals.mean()), tuple(batteries), int(vals.size), note)
        reasons.append(f"the battery was charging or on external power throughout {span} (its readings are "
                       f"not the device's draw)" if on_external else f"no battery sample inside {span}")
    if rapl:
        vals, _ = _ticks(t, series, rapl, window, [])
        if vals.size:
            note = "; ".join(reasons)
            return PowerEstimate(float(vals.mean()), tuple(rapl), int(vals.size),
                                 f"RAPL used instead: {note}" if note else "")
        reasons.append(f"no RAPL sample inside {span}")
    hint = " (run longer or raise the telemetry rate)" if any(r.startswith("no ") for r in reasons) else ""
    return PowerEstimate(None, reason="; ".join(reasons) + hint)


def run_power(store: RunStore, run_id: int) -> PowerEstimate:
    """`mean_power` of a stored run."""
    t, series = store.samples(run_id)
    return mean_power(t, series, store.channels(run_id), store.iterations(run_id))
