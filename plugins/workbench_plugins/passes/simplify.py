"""simplify: onnxslim's graph clean-up (constant folding, fusions, dead nodes, shared weights)."""
from __future__ import annotations

import onnx
from pydantic import Field

from workbench.api import Pass, PassContext, PassOutput, PassParams, PassRefused

from . import _graph

_OPTIMIZATIONS = ["constant_folding", "graph_fusion", "dead_node_elimination", "subexpression_elimination",
                  "weight_tying"]


class SimplifyPass(Pass):
    """Exported graphs carry shape arithmetic and duplicate subgraphs that cost time on a phone."""

    id = "simplify"
    title = "Simplify (onnxslim)"
    description = "onnxslim.slim: constant folding, operator fusion, dead-node and common-subexpression removal."

    class Params(PassParams):
        skip_optimizations: list[str] = Field(
            default_factory=list,
            description=f"onnxslim optimizations to skip, any of: {', '.join(_OPTIMIZATIONS)}.",
        )
        shape_inference: bool = Field(True, description="Run onnxslim's shape inference between rounds.")

    def apply(self, model: onnx.ModelProto, params: PassParams, ctx: PassContext) -> PassOutput:
        p = self.Params.model_validate(params.model_dump())
        unknown = [o for o in p.skip_optimizations if o not in _OPTIMIZATIONS]
        if unknown:
            raise PassRefused(self.id, f"unknown optimization(s) {unknown}; choose from {_OPTIMIZATIONS}")
        import onnxslim

        before = len(model.graph.node)
        try:
            out = onnxslim.slim(_graph.copy_model(model), skip_optimizations=p.skip_optimizations or None,
                                no_shape_infer=not p.shape_inference)
        except Exception as err:  # noqa: BLE001 - onnxslim raises whatever its passes raise
            raise PassRefused(self.id, f"onnxslim failed: {str(err).strip()[:300]}") from err
        if out is None:
            raise PassRefused(self.id, "onnxslim returned no model")
        _graph.check_loads(out, self.id)
        after = len(out.graph.node)
        return PassOutput(out, notes=[f"{before} -> {after} nodes"],
                          metrics={"nodes_before": before, "nodes_after": after})
