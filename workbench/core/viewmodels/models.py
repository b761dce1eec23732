"""Models dock logic: opening ONNX files (dialog, drop, recent list) and the variant tree.

Opening validates the file (exists, is an ONNX model) so the user sees one line naming the file and
the problem; the tree lists each root with the variants derived from it (pass + params).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from workbench.core.errors import ModelError
from workbench.core.models.diagnose import sniff_foreign

MAX_RECENT = 10


@dataclass
class VariantNode:
    """One row of the variant tree; `path` is what a run would benchmark."""

    id: str
    label: str
    path: Path
    detail: str = ""
    children: list["VariantNode"] = field(default_factory=list)
    latency: str = ""  # newest p50/p90 per device ("local 4.12/5.03 ms"), "" when never run


def check_model_path(path: str | Path) -> Path:
    """A path the runner can use, or ModelError saying what is wrong with it."""
    p = Path(path).expanduser()
    if not p.exists():
        raise ModelError(p, "no such file")
    if p.is_dir():
        raise ModelError(p, "is a folder, expected an .onnx file")
    if p.suffix.lower() != ".onnx":
        raise ModelError(p, f"not an ONNX model (extension {p.suffix or 'none'}, expected .onnx)")
    try:
        with p.open("rb") as f:
            head = f.read(4096)
    except OSError as exc:
        raise ModelError(p, f"cannot read ({exc.strerror})") from exc
    if not head:
        raise ModelError(p, "file is empty")
    foreign = sniff_foreign(head)  # same words as `workbench inspect`; the full load runs on a worker
    if foreign:
        raise ModelError(p, foreign)
    return p.resolve()


class ModelsViewModel:
    def __init__(self, recent: list[str] | None = None) -> None:
        self.recent: list[str] = [r for r in (recent or []) if r][:MAX_RECENT]
        self.current: Path | None = None
        self.tree: list[VariantNode] = []

    def open(self, path: str | Path) -> Path:
        p = check_model_path(path)
        self.current = p
        self.recent = [str(p)] + [r for r in self.recent if r != str(p)]
        del self.recent[MAX_RECENT:]
        return p

    def dropped(self, paths: list[str]) -> Path:
        """The first .onnx among dropped files; ModelError naming the first file if none is one."""
        if not paths:
            raise ModelError("(nothing)", "no file was dropped")
        onnx_paths = [p for p in paths if p.lower().endswith(".onnx")]
        return self.open(onnx_paths[0] if onnx_paths else paths[0])

    def select(self, path: Path) -> None:
        self.current = Path(path)

    def set_variants(self, variants: list, measured: dict[str, list] | None = None) -> None:
        """Build the tree from `Variant` records (roots and derived, any order); `measured` maps a variant
        id to its newest run per device (`passes.measured.last_latencies`)."""
        measured = measured or {}
        nodes: dict[str, VariantNode] = {}
        for v in variants:
            if v.is_root:
                label = v.name or Path(v.source).name
                detail = f"{v.size / 1e6:.2f} MB  {v.source}"
            else:
                params = ", ".join(f"{k}={val}" for k, val in sorted(v.params.items()))
                label = f"{v.pass_id}" + (f" ({params})" if params else "")
                fid = fidelity_text(v.fidelity)
                detail = f"{v.size / 1e6:.2f} MB" + (f"  {fid}" if fid else "")
            # A root is benchmarked from the user's own file when it still exists (paths they recognise).
            path = Path(v.source) if v.is_root and v.source and Path(v.source).is_file() else Path(v.path)
            nodes[v.id] = VariantNode(v.id, label, path, detail, latency=latency_text(measured.get(v.id, [])))
        self.tree = []
        for v in variants:
            node = nodes[v.id]
            parent = nodes.get(v.parent_id) if v.parent_id else None
            (parent.children if parent else self.tree).append(node)
        if self.current is not None:
            known = {str(n.path) for n in _walk(self.tree)}
            if str(self.current) not in known:
                self.tree.insert(0, VariantNode("file", self.current.name, self.current, str(self.current)))


def fidelity_summary(fidelity: dict) -> dict:
    """Worst-output figures against the root (cosine, snr_db, top1...), {} when not measured."""
    vs_root = (fidelity or {}).get("vs_root")
    if not isinstance(vs_root, dict):
        return {}
    summary = vs_root.get("summary")
    if isinstance(summary, dict):
        return summary
    from workbench.core.passes.fidelity import summarize  # older records kept only per-output figures

    try:
        return summarize(vs_root.get("outputs", vs_root))
    except (KeyError, TypeError, ValueError):
        return {}


def fidelity_text(fidelity: dict) -> str:
    """'cos 0.99998  SNR 48.1 dB  top1 1.00' for a tree cell or status line; why, when not measured."""
    if (fidelity or {}).get("error"):
        return f"fidelity not measured: {fidelity['error']}"
    s = fidelity_summary(fidelity)
    parts = []
    if isinstance(s.get("cosine"), (int, float)):
        parts.append(f"cos {s['cosine']:.6f}")
    if isinstance(s.get("snr_db"), (int, float)):
        parts.append(f"SNR {s['snr_db']:.1f} dB")
    if isinstance(s.get("top1"), (int, float)):
        parts.append(f"top1 {s['top1']:.2f}")
    return "  ".join(parts)


def latency_text(measured: list) -> str:
    """Newest p50/p90 per device, e.g. 'local 4.12/5.03 ms  pixel7 9.80/11.2 ms'."""
    return "  ".join(f"{m.device} {m.p50_ms:.3g}/{m.p90_ms:.3g} ms" for m in measured)


def _walk(nodes: list[VariantNode]):
    for n in nodes:
        yield n
        yield from _walk(n.children)
