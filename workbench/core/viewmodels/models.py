"""Models dock logic: opening ONNX files (dialog, drop, recent list) and the variant tree.

Opening validates the file (exists, is an ONNX model) so the user sees one line naming the file and
the problem; the tree lists each root with the variants derived from it (pass + params).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from workbench.core.errors import ModelError

MAX_RECENT = 10


@dataclass
class VariantNode:
    """One row of the variant tree; `path` is what a run would benchmark."""

    id: str
    label: str
    path: Path
    detail: str = ""
    children: list["VariantNode"] = field(default_factory=list)


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
            head = f.read(1)
    except OSError as exc:
        raise ModelError(p, f"cannot read ({exc.strerror})") from exc
    if not head:
        raise ModelError(p, "file is empty")
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

    def set_variants(self, variants: list) -> None:
        """Build the tree from `Variant` records (roots and derived, any order)."""
        nodes: dict[str, VariantNode] = {}
        for v in variants:
            if v.is_root:
                label = v.name or Path(v.source).name
                detail = f"{v.size / 1e6:.2f} MB  {v.source}"
            else:
                params = ", ".join(f"{k}={val}" for k, val in sorted(v.params.items()))
                label = f"{v.pass_id}" + (f" ({params})" if params else "")
                cos = _cosine_vs_root(v.fidelity)
                detail = f"{v.size / 1e6:.2f} MB" + (f"  cos {cos:.5f}" if isinstance(cos, float) else "")
            # A root is benchmarked from the user's own file when it still exists (paths they recognise).
            path = Path(v.source) if v.is_root and v.source and Path(v.source).is_file() else Path(v.path)
            nodes[v.id] = VariantNode(v.id, label, path, detail)
        self.tree = []
        for v in variants:
            node = nodes[v.id]
            parent = nodes.get(v.parent_id) if v.parent_id else None
            (parent.children if parent else self.tree).append(node)
        if self.current is not None:
            known = {str(n.path) for n in _walk(self.tree)}
            if str(self.current) not in known:
                self.tree.insert(0, VariantNode("file", self.current.name, self.current, str(self.current)))


def _cosine_vs_root(fidelity: dict) -> float | None:
    """Worst-output cosine against the root model, if the variant's fidelity was measured."""
    from workbench.core.passes.fidelity import summarize

    try:
        cos = summarize(fidelity["vs_root"]).get("cosine")
    except (KeyError, TypeError, ValueError):
        return None
    return cos if isinstance(cos, float) else None


def _walk(nodes: list[VariantNode]):
    for n in nodes:
        yield n
        yield from _walk(n.children)
