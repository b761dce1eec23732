"""Layers tab logic: filter/sort the per-layer table, top-N, op-type breakdown, and a two-run diff.

Layer names are those of ONNX Runtime's optimized graph, so a diff matches layers by name and lists
the ones only one side has (a pass that fused or removed nodes shows up there, not as a zero).
"""
from __future__ import annotations

from dataclasses import dataclass

from workbench.core.types import LayerTiming

COLUMNS = ("name", "op_type", "mean_us", "p50_us", "p90_us", "share", "count", "total_us", "provider")


@dataclass
class LayerDiffRow:
    name: str
    op_type: str
    a_us: float | None
    b_us: float | None

    @property
    def delta_us(self) -> float | None:
        return None if self.a_us is None or self.b_us is None else self.b_us - self.a_us

    @property
    def ratio(self) -> float | None:
        return None if not self.a_us or self.b_us is None else self.b_us / self.a_us


class LayersViewModel:
    def __init__(self) -> None:
        self.layers: list[LayerTiming] = []
        self.filter_text = ""
        self.sort_key = "mean_us"
        self.descending = True

    def set_layers(self, layers: list[LayerTiming]) -> None:
        self.layers = list(layers)

    def rows(self) -> list[LayerTiming]:
        """Layers matching the filter (case-insensitive substring of name or op type), sorted."""
        needle = self.filter_text.strip().lower()
        rows = [lt for lt in self.layers if not needle or needle in lt.name.lower() or needle in lt.op_type.lower()]
        if self.sort_key not in COLUMNS:
            raise ValueError(f"unknown layer column {self.sort_key!r} (choose {', '.join(COLUMNS)})")
        return sorted(rows, key=lambda lt: getattr(lt, self.sort_key), reverse=self.descending)

    def top(self, n: int = 15) -> list[LayerTiming]:
        return sorted(self.layers, key=lambda lt: -lt.mean_us)[:n]

    def op_breakdown(self) -> list[dict]:
        """Per op type: nodes, summed mean time per run (us) and share, largest first."""
        agg: dict[str, dict] = {}
        for lt in self.layers:
            a = agg.setdefault(lt.op_type, {"op_type": lt.op_type, "nodes": 0, "mean_us": 0.0, "share": 0.0})
            a["nodes"] += 1
            a["mean_us"] += lt.mean_us
            a["share"] += lt.share
        return sorted(agg.values(), key=lambda a: -a["mean_us"])


def diff_layers(a: list[LayerTiming], b: list[LayerTiming]) -> list[LayerDiffRow]:
    """Match by layer name; rows ordered by the largest absolute change, one-sided rows last."""
    amap = {lt.name: lt for lt in a}
    bmap = {lt.name: lt for lt in b}
    rows = []
    for name in list(amap) + [n for n in bmap if n not in amap]:
        la, lb = amap.get(name), bmap.get(name)
        op = (la or lb).op_type  # type: ignore[union-attr]
        rows.append(LayerDiffRow(name, op, la.mean_us if la else None, lb.mean_us if lb else None))
    return sorted(rows, key=lambda r: (r.delta_us is None, -abs(r.delta_us or 0.0)))
