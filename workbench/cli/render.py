"""Rich rendering of results and device reports, shared by `profile`, `show` and `info`."""
from __future__ import annotations

import datetime as dt
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

from workbench.core.devices.base import DeviceInfo
from workbench.core.types import BenchmarkResult, RunStatus

STATUS_STYLE = {RunStatus.DONE: "green", RunStatus.FAILED: "red", RunStatus.CANCELLED: "yellow",
                RunStatus.INTERRUPTED: "magenta", RunStatus.RUNNING: "cyan"}


def fmt(v: Any, spec: str = ".2f", none: str = "-") -> str:
    if v is None or (isinstance(v, float) and v != v):
        return none
    return format(v, spec) if isinstance(v, (int, float)) else str(v)


def render_result(console: Console, r: BenchmarkResult, top: int = 25) -> None:
    style = STATUS_STYLE.get(r.status, "white")
    head = f"run {r.run_id}  [{style}]{r.status.value}[/]  {r.model}  on {r.device}"
    parts: list[Any] = []
    if r.error:
        parts.append(f"[red]{r.error}[/]")
    if r.latency:
        lat = r.latency
        t = Table(title="Latency, profiling OFF (ms)", title_justify="left", show_edge=False)
        for col in ("runs", "p50", "p90", "p99", "mean", "std", "CV", "min", "max"):
            t.add_column(col, justify="right")
        t.add_row(str(lat.count), fmt(lat.p50_ms, ".3f"), fmt(lat.p90_ms, ".3f"), fmt(lat.p99_ms, ".3f"),
                  fmt(lat.mean_ms, ".3f"), fmt(lat.std_ms, ".3f"), fmt(lat.cv * 100, ".1f") + "%",
                  fmt(lat.min_ms, ".3f"), fmt(lat.max_ms, ".3f"))
        parts.append(t)
        parts.append(f"First run {fmt(r.first_run_ms, '.3f')} ms, session load {fmt(r.session_load_ms, '.1f')} ms")
    if r.profiled:
        p = r.profiled
        parts.append(
            f"Profiled pass ({p.runs} runs, profiling ON): model_run mean {p.run_mean_ms:.3f} ms, "
            f"per-layer sum {p.layer_sum_ms:.3f} ms ({p.coverage * 100:.1f}% of the profiled run), "
            f"profiling overhead vs unprofiled p50 {fmt(p.overhead_pct, '+.1f')}%"
        )
    if r.layers:
        t = Table(title=f"Layers (top {min(top, len(r.layers))} of {len(r.layers)} by mean, optimized-graph names)",
                  title_justify="left", show_edge=False)
        for col, just in (("node", "left"), ("op", "left"), ("provider", "left"), ("mean µs", "right"),
                          ("p50 µs", "right"), ("p90 µs", "right"), ("share", "right")):
            t.add_column(col, justify=just)
        for lt in sorted(r.layers, key=lambda x: -x.mean_us)[:top]:
            t.add_row(lt.name, lt.op_type, lt.provider.replace("ExecutionProvider", ""), fmt(lt.mean_us, ".1f"),
                      fmt(lt.p50_us, ".1f"), fmt(lt.p90_us, ".1f"), fmt(lt.share * 100, ".1f") + "%")
        parts.append(t)
        t = Table(title="By op type", title_justify="left", show_edge=False)
        for col in ("op", "nodes", "mean µs / run", "share"):
            t.add_column(col, justify="right" if col != "op" else "left")
        for row in r.op_summary():
            t.add_row(row["op_type"], str(row["nodes"]), fmt(row["mean_us"], ".1f"), fmt(row["share"] * 100, ".1f") + "%")
        parts.append(t)
    m, c = r.memory, r.conditions
    if r.status != RunStatus.RUNNING:
        parts.append(
            f"Memory (runner process): peak RSS {fmt(m.peak_rss_mb, '.1f')} MB, peak PSS {fmt(m.peak_pss_mb, '.1f')} MB, "
            f"peak USS {fmt(m.peak_uss_mb, '.1f')} MB, RSS after load {fmt(m.rss_after_load_mb, '.1f')} MB"
        )
    if c:
        temps = c.get("temp_start_c")
        parts.append(
            f"Conditions: threads {fmt(c.get('threads'), 'd', 'default')}, spin {fmt(c.get('spin'), '', 'default')}, "
            f"affinity {fmt(c.get('affinity'), '', 'none')}, load avg before {fmt(_round(c.get('loadavg_before')))}, "
            f"CPU load during run {fmt(c.get('cpu_load_mean_pct'), '.0f')}%, "
            f"temperature start/end {_temps(temps)} / {_temps(c.get('temp_end_c'))}, "
            f"{c.get('samples', 0)} telemetry samples @ {fmt(c.get('telemetry_hz'), 'g')} Hz"
        )
    if r.inputs:
        parts.append("Inputs: " + "; ".join(f"{k} {v.get('dtype')}{v.get('shape')} ({v.get('source')})"
                                           for k, v in r.inputs.items()))
    console.rule(head, align="left")
    for part in parts:
        console.print(part)


def _round(v: Any) -> Any:
    return tuple(round(x, 2) for x in v) if isinstance(v, (list, tuple)) else v


def _temps(temps: dict[str, float] | None) -> str:
    if not temps:
        return "n/a (no thermal sensors)"
    return ", ".join(f"{k.split('.', 1)[-1]} {v:.1f}°C" for k, v in temps.items())


def render_info(console: Console, info: DeviceInfo) -> None:
    parts: list[Any] = []
    for section, fields in info.sections.items():
        t = Table(title=section, title_justify="left", show_header=False, show_edge=False)
        t.add_column("key", style="bold")
        t.add_column("value")
        for k, v in fields.items():
            t.add_row(str(k), _short(v))
        parts.append(t)
    if info.absent:
        parts.append("[yellow]Not exposed on this device:[/]\n" + "\n".join(f"  - {a}" for a in info.absent))
    console.print(Panel(Group(*parts), title=f"{info.serial} ({info.kind})", title_align="left"))


def _short(v: Any) -> str:
    if isinstance(v, dict):
        if not v:
            return "-"
        return "; ".join(f"{k}: {_short(x)}" for k, x in v.items() if x is not None) or "-"
    if isinstance(v, (list, tuple)):
        return ", ".join(_short(x) for x in v) if v else "-"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def when(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else "-"
