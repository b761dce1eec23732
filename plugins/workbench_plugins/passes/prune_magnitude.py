"""prune-magnitude: zero the smallest weights. Smaller when compressed, NOT faster on dense CPU kernels."""
from __future__ import annotations

import zlib
from typing import Literal

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper
from pydantic import Field

from workbench.api import FloatRange, Pass, PassContext, PassOutput, PassParams, PassRefused, SearchSpace

from . import _graph


class PruneMagnitudePass(Pass):
    """Unstructured magnitude pruning to a target sparsity (globally or per layer)."""

    id = "prune-magnitude"
    title = "Magnitude pruning (unstructured)"
    description = ("Zero the smallest-magnitude weights of Conv/Gemm/MatMul. Shrinks the compressed download; "
                   "dense CPU/GPU kernels run no faster. Usually followed by fine-tuning.")

    class Params(PassParams):
        sparsity: float = Field(0.5, ge=0.0, lt=1.0, description="Fraction of weights set to zero.")
        scope: Literal["global", "per_layer"] = Field(
            "per_layer", description="per_layer: each tensor reaches the sparsity; global: one threshold over "
                                     "all weights (small layers may lose more or less).")
        op_types: list[str] = Field(default_factory=lambda: ["Conv", "Gemm", "MatMul"],
                                    description="Ops whose weight initializers are pruned.")
        min_elements: int = Field(64, ge=1, description="Skip weights smaller than this (first/last layers, "
                                                        "depthwise kernels are often tiny and sensitive).")

    search_space = SearchSpace(dims={"sparsity": FloatRange(low=0.1, high=0.9)})

    def apply(self, model: onnx.ModelProto, params: PassParams, ctx: PassContext) -> PassOutput:
        p = self.Params.model_validate(params.model_dump())
        out, notes = _graph.prepared_copy(model, fold_bn=False, name=False)
        inits = _graph.initializer_map(out.graph)
        names = [n for n in _graph.weight_names(out.graph, p.op_types)
                 if inits[n].data_type in (TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE)
                 and int(np.prod(inits[n].dims)) >= p.min_elements]
        if not names:
            raise PassRefused(self.id, f"no float {'/'.join(p.op_types)} weights with >= {p.min_elements} elements")
        arrays = {n: numpy_helper.to_array(inits[n]) for n in names}
        threshold = None
        if p.scope == "global":
            flat = np.concatenate([np.abs(a).ravel() for a in arrays.values()])
            k = int(round(p.sparsity * flat.size))
            threshold = np.partition(flat, k - 1)[k - 1] if k > 0 else -1.0
        zeros = total = 0
        for i, (name, arr) in enumerate(arrays.items()):
            ctx.check_cancelled(self.id)
            ctx.progress(i, len(arrays), f"pruning {name}")
            mag = np.abs(arr).ravel()
            mask = np.ones(arr.size, dtype=bool)
            if p.scope == "global":
                mask = mag > threshold
            else:
                k = int(round(p.sparsity * arr.size))
                if k > 0:
                    # argsort with a stable kind: ties are broken by position, so the output is deterministic.
                    mask[np.argsort(mag, kind="stable")[:k]] = False
            pruned = np.where(mask.reshape(arr.shape), arr, np.zeros_like(arr))
            _graph.set_initializer(out.graph, name, pruned)
            zeros += int(np.count_nonzero(pruned == 0))
            total += arr.size
        dense_before = model.ByteSize()
        comp_before = len(zlib.compress(model.SerializeToString(), 6))
        comp_after = len(zlib.compress(out.SerializeToString(), 6))
        achieved = zeros / total
        notes += [
            f"{len(arrays)} weight tensors, achieved sparsity {achieved:.1%} ({p.scope})",
            f"compressed (zlib) {comp_before / 1e6:.2f} MB -> {comp_after / 1e6:.2f} MB; dense file size unchanged",
            "dense CPU/GPU kernels gain no speed from zeros: benefit is download size (and sparse runtimes)",
        ]
        _graph.check_loads(out, self.id)
        return PassOutput(out, notes=notes, metrics={
            "sparsity": achieved, "dense_bytes": float(out.ByteSize()), "dense_bytes_before": float(dense_before),
            "compressed_bytes": float(comp_after), "compressed_bytes_before": float(comp_before)})
