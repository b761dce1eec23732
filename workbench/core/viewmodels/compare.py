"""Compare tab logic: 2-4 stored runs side by side (metrics with deltas/ratios vs the first), CDFs, and
each run's telemetry on one time axis (seconds since the run's start).

Beyond the run's own result, a compared run is judged by what it costs and what it gives up: energy per
inference (mean device power x p50, where the device reports its own draw), the model file's size, and
the fidelity of the variant it ran (from the VariantStore, when the file is a variant).
`load_compare` reads all of that on a worker thread; the rest is pure.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from workbench.core.errors import WorkbenchError
from workbench.core.types import BenchmarkResult, ChannelSpec, IterationEvent
from workbench.core.viewmodels.live import chart_group, group_title

if TYPE_CHECKING:
    from workbench.core.passes.variants import Variant, VariantStore
    from workbench.core.store import RunStore
    from workbench.core.tuner.power import PowerEstimate

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
class RunExtras:
    """What a run's result does not hold: its power/energy, model file and variant fidelity."""

    power_w: float | None = None
    power_note: str = ""  # why power is unknown, or what was left out
    energy_mj: float | None = None  # mean power (W) x p50 (ms) = mJ per inference
    file_mb: float | None = None
    variant: str = ""  # "fp16 3fa9c01d2e" / "root 3fa9..." / "" when the file is no variant
    fidelity: dict[str, Any] = field(default_factory=dict)  # worst-output summary vs the root (cosine, snr_db, top1)

    @staticmethod
    def of(result: BenchmarkResult, power: "PowerEstimate | None", file_mb: float | None,
           variant: "Variant | None") -> "RunExtras":
        p50 = result.latency.p50_ms if result.latency else None
        watts = power.watts if power is not None else None
        fidelity: dict[str, Any] = {}
        label = ""
        if variant is not None:
            label = f"{variant.pass_id or 'root'} {variant.short}"
            fidelity = dict(((variant.fidelity or {}).get("vs_root") or {}).get("summary") or {})
        return RunExtras(power_w=watts, power_note=power.reason if power is not None else "",
                         energy_mj=(watts * p50) if (watts is not None and p50 is not None) else None,
                         file_mb=file_mb, variant=label, fidelity=fidelity)


#: (label, unit, getter on RunExtras, lower_is_better) - appended after METRICS
EXTRA_METRICS: list[tuple[str, str, Callable[[RunExtras], float | None], bool]] = [
    ("energy / inference", "mJ", lambda e: e.energy_mj, True),
    ("mean power", "W", lambda e: e.power_w, True),
    ("model file", "MB", lambda e: e.file_mb, True),
    ("fidelity: cosine vs root", "", lambda e: e.fidelity.get("cosine"), False),
    ("fidelity: SNR vs root", "dB", lambda e: e.fidelity.get("snr_db"), False),
    ("fidelity: top-1 agreement", "", lambda e: e.fidelity.get("top1"), False),
]


@dataclass
class RunTrace:
    """One run's telemetry and latencies with times in seconds since the run's start."""

    run_id: int
    channels: list[ChannelSpec]
    t: np.ndarray
    values: dict[str, np.ndarray]
    iterations: list[IterationEvent]


@dataclass
class CompareData:
    results: list[BenchmarkResult]
    latencies: list[list[float]]  # measured iterations per run, for the CDFs
    extras: list[RunExtras]
    traces: list[RunTrace]


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


def metric_rows(results: list[BenchmarkResult], extras: list[RunExtras] | None = None) -> list[MetricRow]:
    """One row per metric known for at least one run; the best of 2+ known values is marked."""
    rows = []
    table: list[tuple[str, str, list[Any], bool]] = [
        (label, unit, [get(r) for r in results], lower) for label, unit, get, lower in METRICS]
    if extras is not None:
        table += [(label, unit, [get(e) for e in extras], lower) for label, unit, get, lower in EXTRA_METRICS]
    for label, unit, values, lower in table:
        values = [None if v is None else float(v) for v in values]
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


def run_t0(t: np.ndarray, iterations: Sequence[IterationEvent]) -> float:
    """A stored run's start on the device clock: its first telemetry tick or first iteration, whichever
    came first (the store keeps no separate start stamp on the device clock)."""
    starts = ([float(t[0])] if len(t) else []) + ([min(it.t_start for it in iterations)] if iterations else [])
    return min(starts) if starts else 0.0


def variant_of(model: str | Path, variants: Sequence["Variant"]) -> "Variant | None":
    """The variant whose file a run profiled: same path (workspace file), else same bytes (sha256)."""
    from workbench.core.passes.variants import sha256_file

    path = Path(model)
    resolved = str(path.resolve())
    for v in variants:
        if str(Path(v.path).resolve()) == resolved:
            return v
    if not path.is_file():
        return None
    sha = sha256_file(path)
    return next((v for v in variants if v.sha256 == sha), None)


def load_compare(store: "RunStore", ids: list[int], variants: "VariantStore | None" = None) -> CompareData:
    """Everything the Compare tab shows for these runs (blocking: call it on a worker thread)."""
    from workbench.core.tuner.power import mean_power

    known = variants.all() if variants is not None else []
    results, lats, extras, traces = [], [], [], []
    for run_id in ids:
        r = store.get_result(run_id)
        iters = store.iterations(run_id)
        t, values = store.samples(run_id)
        channels = store.channels(run_id)
        power = mean_power(t, values, channels, iters)
        path = Path(r.model)
        variant = variant_of(path, known) if known else None
        size = path.stat().st_size if path.is_file() else (variant.size if variant is not None else None)
        t0 = run_t0(t, iters)
        results.append(r)
        lats.append([it.latency_ms for it in iters if it.phase == "measure"])
        extras.append(RunExtras.of(r, power, size / 2**20 if size is not None else None, variant))
        traces.append(RunTrace(run_id, channels, np.asarray(t, float) - t0, values,
                               [IterationEvent(it.index, it.phase, it.t_start - t0, it.latency_ms) for it in iters]))
    return CompareData(results, lats, extras, traces)


def trace_groups(traces: Sequence[RunTrace]) -> list[tuple[str, str, list[ChannelSpec]]]:
    """(group, title, channels) to chart, in the Live tab's order: only channels with at least one reading
    in at least one compared run, so a probe absent on every device (no thermal zones here) is not drawn."""
    from workbench.core.viewmodels.live import GROUP_TITLES

    specs: dict[str, ChannelSpec] = {}
    for tr in traces:
        for c in tr.channels:
            col = tr.values.get(c.key)
            if c.unit != "flag" and col is not None and np.isfinite(col).any():
                specs.setdefault(c.key, c)
    by_group: dict[str, list[ChannelSpec]] = {}
    for spec in specs.values():
        by_group.setdefault(chart_group(spec), []).append(spec)
    order = list(GROUP_TITLES)
    names = sorted(by_group, key=lambda g: (order.index(g) if g in order else len(order), g))
    return [(g, group_title(g), by_group[g]) for g in names]


#: Short chart names for the Compare tab's stacked traces (rotated axis titles must fit a short chart).
SHORT_TITLES = {"latency": "latency", "cpu_load": "CPU load", "cpu_freq": "CPU freq", "thermal": "temperature",
                "power": "power", "memory_runner": "runner mem", "memory_system": "system mem"}


def short_title(group: str) -> str:
    return SHORT_TITLES.get(group, group.replace("_", " "))


def caption_notes(names: list[str], extras: list[RunExtras]) -> list[str]:
    """Lines under the Compare caption: which variant each run ran, and why energy is missing - a reason
    shared by every run is said once."""
    lines = []
    variants = [f"{n}: {e.variant}" for n, e in zip(names, extras) if e.variant]
    if variants:
        lines.append("variants - " + ";  ".join(variants))
    missing = [(n, e.power_note) for n, e in zip(names, extras) if e.power_w is None and e.power_note]
    if missing and len({r for _, r in missing}) == 1 and len(missing) == len(extras):
        lines.append(f"no energy figures: {missing[0][1]}")
    else:
        lines += [f"{n}: no energy figure ({r})" for n, r in missing]
    return lines
