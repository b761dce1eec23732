"""ort-optimize: save the graph onnxruntime builds at load time, so the device skips that work."""
from __future__ import annotations

from typing import Literal

import onnx
from pydantic import Field

from workbench.api import Categorical, Pass, PassContext, PassOutput, PassParams, SearchSpace

from . import _graph


class OrtOptimizePass(Pass):
    """Offline onnxruntime graph optimization (SessionOptions.optimized_model_filepath)."""

    id = "ort-optimize"
    title = "onnxruntime offline optimization"
    description = ("Apply onnxruntime's graph optimizations offline. 'extended' may add com.microsoft ops "
                   "(runs only on onnxruntime); 'all' adds layout changes tuned to THIS machine's CPU.")

    class Params(PassParams):
        level: Literal["basic", "extended", "all"] = Field(
            "extended", description="basic: folding and safe fusions; extended: ORT-only fused ops; "
            "all: also hardware-specific layouts (NCHWc) - the result may only run on the same hardware.")

    search_space = SearchSpace(dims={"level": Categorical(choices=["basic", "extended", "all"])})

    def apply(self, model: onnx.ModelProto, params: PassParams, ctx: PassContext) -> PassOutput:
        p = self.Params.model_validate(params.model_dump())
        before = _graph.op_histogram(model)
        out = _graph.ort_offline_optimize(model, p.level, ctx.work_dir / f"ort_{p.level}.onnx", self.id)
        after = _graph.op_histogram(out)
        notes = [f"level {p.level}: {sum(before.values())} -> {sum(after.values())} nodes"]
        domains = sorted({n.domain for n in out.graph.node if n.domain not in ("", "ai.onnx")})
        if domains:
            notes.append(f"uses onnxruntime-only op domains {domains}: run it with onnxruntime only")
        if p.level == "all":
            notes.append("level 'all' applies layout optimizations for this machine's CPU; the file may "
                         "only run on the same hardware - build it on the target for phones")
        _graph.check_loads(out, self.id)
        return PassOutput(out, notes=notes, metrics={"nodes_before": sum(before.values()),
                                                      "nodes_after": sum(after.values())})
