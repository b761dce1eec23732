"""Last measured latency of each variant per device, read from the run store.

The run store keys a run by the absolute path of the file that was profiled, and knows nothing about
variants. A run belongs to a variant when its path is the variant's file in the workspace, or when
the file it profiled has the variant's bytes (same sha256): the user's original model profiled from
its own folder, or a variant file copied elsewhere. A file modified after the run started may no
longer hold the bytes that ran, so such runs are not matched by content.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.passes.variants import Variant, sha256_file
from workbench.core.store import RunStore
from workbench.core.types import RunStatus

_ALL_RUNS = 1_000_000


@dataclass
class MeasuredLatency:
    """The newest finished run of one variant on one device."""

    device: str
    run_id: int
    p50_ms: float
    p90_ms: float
    started_at: float
    label: str = ""
    model: str = ""
    matched_by: str = "path"  # "path" (the workspace file) or "sha256" (same bytes elsewhere)
    threads: int | None = None
    shapes: dict[str, list[int]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class _ContentIndex:
    """sha256 of files that runs profiled, computed once per file and only when still trustworthy."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[float, str] | None] = {}

    def sha_at(self, path: str, started_at: float) -> str | None:
        if path not in self._cache:
            p = Path(path)
            try:
                st = p.stat()
                self._cache[path] = (st.st_mtime, sha256_file(p)) if p.is_file() else None
            except OSError:
                self._cache[path] = None
        entry = self._cache[path]
        if entry is None or entry[0] > started_at:  # changed after the run: its bytes then are unknown
            return None
        return entry[1]


def last_latencies(runs: RunStore, variants: list[Variant]) -> dict[str, list[MeasuredLatency]]:
    """variant id -> newest finished run per device (sorted by device); variants never run map to []."""
    by_path = {str(Path(v.path).resolve()): v for v in variants}
    by_sha: dict[str, list[Variant]] = {}
    for v in variants:
        by_sha.setdefault(v.sha256, []).append(v)
    out: dict[str, dict[str, MeasuredLatency]] = {v.id: {} for v in variants}
    index = _ContentIndex()
    for row in runs.list_runs(limit=_ALL_RUNS):  # newest first: the first hit per (variant, device) wins
        if row["status"] != RunStatus.DONE.value or row["p50_ms"] is None:
            continue
        hits, how = _match(row, by_path, by_sha, index)
        todo = [v for v in hits if row["device"] not in out[v.id]]
        if not todo:
            continue
        m = _measured(runs, row, how)
        if m is None:
            continue
        for v in todo:
            out[v.id][row["device"]] = m
    return {vid: [per[d] for d in sorted(per)] for vid, per in out.items()}


def _match(row: dict[str, Any], by_path: dict[str, Variant], by_sha: dict[str, list[Variant]],
           index: _ContentIndex) -> tuple[list[Variant], str]:
    model = str(row["model"])
    v = by_path.get(model) or by_path.get(str(Path(model).resolve()))
    if v is not None:
        # the workspace file is content-addressed: every variant with these bytes ran too
        return by_sha.get(v.sha256, [v]), "path"
    sha = index.sha_at(model, float(row["started_at"]))
    return (by_sha.get(sha, []), "sha256") if sha else ([], "")


def _measured(runs: RunStore, row: dict[str, Any], how: str) -> MeasuredLatency | None:
    full = runs.run_row(int(row["id"]))
    result = json.loads(full["result_json"]) if full["result_json"] else {}
    lat = result.get("latency") or {}
    if lat.get("p50_ms") is None or lat.get("p90_ms") is None:
        return None
    job = json.loads(full["job_json"]) if full["job_json"] else {}
    return MeasuredLatency(device=row["device"], run_id=int(row["id"]), p50_ms=float(lat["p50_ms"]),
                           p90_ms=float(lat["p90_ms"]), started_at=float(row["started_at"]), label=row["label"] or "",
                           model=str(row["model"]), matched_by=how, threads=job.get("threads"),
                           shapes=job.get("shapes") or {})
