"""fold-constants and fold-batchnorm: precompute what does not depend on the inputs."""
from __future__ import annotations

from typing import Literal

import onnx
from pydantic import Field

from workbench.api import Pass, PassContext, PassOutput, PassParams, PassRefused

from . import _graph


class FoldConstantsPass(Pass):
    """Constant folding, so the device does not recompute shape arithmetic and constant subgraphs."""

    id = "fold-constants"
    title = "Fold constants"
    description = "Precompute every subgraph that depends only on constants (onnxruntime basic level or onnxslim)."

    class Params(PassParams):
        engine: Literal["onnxruntime", "onnxslim"] = Field(
            "onnxruntime",
            description="onnxruntime: offline basic optimization (also fuses Conv+BN/Add, drops Identity); "
            "onnxslim: constant folding only, no fusions.",
        )

    def apply(self, model: onnx.ModelProto, params: PassParams, ctx: PassContext) -> PassOutput:
        p = self.Params.model_validate(params.model_dump() if isinstance(params, PassParams) else params)
        before = len(model.graph.node)
        if p.engine == "onnxruntime":
            out = _graph.ort_offline_optimize(model, "basic", ctx.work_dir / "fold_constants.onnx", self.id)
        else:
            import onnxslim

            try:
                out = onnxslim.slim(_graph.copy_model(model), no_shape_infer=True,
                                    skip_optimizations=["graph_fusion", "subexpression_elimination", "weight_tying"])
            except Exception as err:  # noqa: BLE001
                raise PassRefused(self.id, f"onnxslim constant folding failed: {str(err)[:300]}") from err
        after = len(out.graph.node)
        _graph.check_loads(out, self.id)
        return PassOutput(out, notes=[f"{p.engine}: {before} -> {after} nodes"],
                          metrics={"nodes_before": before, "nodes_after": after})


class FoldBatchNormPass(Pass):
    """Exact Conv+BatchNormalization folding, done here so its effect is visible and checkable."""

    id = "fold-batchnorm"
    title = "Fold BatchNorm into Conv"
    description = ("Fold inference BatchNormalization into the preceding Conv (float64 math); "
                   "Constant-node weights are turned into initializers first.")

    class Params(PassParams):
        pass

    def apply(self, model: onnx.ModelProto, params: PassParams, ctx: PassContext) -> PassOutput:
        out = _graph.copy_model(model)
        converted = _graph.constants_to_initializers(out)
        total = sum(1 for n in out.graph.node if n.op_type == "BatchNormalization")
        if total == 0:
            raise PassRefused(self.id, "model has no BatchNormalization nodes to fold")
        folded, skipped = _graph.fold_batchnorm(out)
        if folded == 0:
            raise PassRefused(self.id, f"no BatchNormalization could be folded ({skipped[0]})")
        _graph.strip_value_info(out)
        notes = [f"folded {folded} of {total} BatchNormalization into Conv"]
        if converted:
            notes.append(f"converted {converted} Constant nodes to initializers")
        notes += [f"left: {s}" for s in skipped[:10]]
        _graph.check_loads(out, self.id)
        return PassOutput(out, notes=notes, metrics={"bn_folded": folded, "bn_left": total - folded})
