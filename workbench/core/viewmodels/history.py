"""History tab logic: every run in the store as table rows, newest first."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HEADERS = ("id", "started", "device", "model", "label", "status", "p50 ms", "iterations", "samples")


@dataclass
class HistoryRow:
    run_id: int
    cells: tuple[str, ...]
    status: str


def history_rows(runs: list[dict[str, Any]]) -> list[HistoryRow]:
    rows = []
    for r in runs:
        started = dt.datetime.fromtimestamp(r["started_at"]).strftime("%Y-%m-%d %H:%M:%S") if r.get("started_at") else ""
        p50 = f"{r['p50_ms']:.3f}" if isinstance(r.get("p50_ms"), (int, float)) else ""
        cells = (str(r["id"]), started, r.get("device", ""), Path(r.get("model", "")).name, r.get("label") or "",
                 r.get("status", ""), p50, str(r.get("iterations", "")), str(r.get("samples", "")))
        rows.append(HistoryRow(int(r["id"]), cells, r.get("status", "")))
    return rows
