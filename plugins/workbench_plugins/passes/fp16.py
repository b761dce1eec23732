"""fp16: halve weight size and use fp16 kernels where the target has them (most phone GPUs/NPUs)."""
from __future__ import annotations

import warnings

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper
from pydantic import Field

from workbench.api import Categorical, Pass, PassContext, PassOutput, PassParams, PassRefused, SearchSpace

from . import _graph

FP16_MAX = 65504.0
# Ops whose float inputs are sizes, scales, indices or reductions that lose meaning or overflow in fp16.
DEFAULT_BLOCK = ["Resize", "Upsample", "Range", "CumSum", "NonMaxSuppression", "TopK", "RoiAlign",
                 "RandomUniformLike", "Min", "Max", "ReduceSum", "ReduceSumSquare", "ReduceL2", "Pow"]


class Fp16Pass(Pass):
    """Convert float32 weights and compute to float16, keeping ops that must stay fp32 in fp32."""

    id = "fp16"
    title = "Float16"
    description = ("onnxconverter-common float16 conversion; BatchNorm is folded first so huge running "
                   "variances never reach fp16; initializers beyond fp16 range are reported.")

    class Params(PassParams):
        keep_io_types: bool = Field(True, description="Keep model inputs/outputs float32 (casts inside), so "
                                                      "callers feed the same arrays as before.")
        op_block_list: list[str] = Field(default_factory=lambda: list(DEFAULT_BLOCK),
                                         description="Op types that stay float32.")
        node_block_list: list[str] = Field(default_factory=list, description="Node names that stay float32.")
        fold_batchnorm: bool = Field(True, description="Fold BatchNormalization into Conv before converting.")
        overflow: str = Field("keep_fp32", pattern="^(keep_fp32|clamp|refuse)$",
                              description="Initializers with |value| > 65504: keep_fp32 (block their consumer "
                                          "nodes), clamp (to +-65504), or refuse.")

    precision = "fp16"
    search_space = SearchSpace(dims={"keep_io_types": Categorical(choices=[True, False])})

    def apply(self, model: onnx.ModelProto, params: PassParams, ctx: PassContext) -> PassOutput:
        p = self.Params.model_validate(params.model_dump())
        from onnxconverter_common import float16

        out, notes = _graph.prepared_copy(model, fold_bn=p.fold_batchnorm)
        _split_consumed_outputs(out.graph)
        fp32_bytes = _graph.tensor_bytes(out, [TensorProto.FLOAT])
        if fp32_bytes == 0:
            raise PassRefused(self.id, "model has no float32 initializers to convert")

        overflowing = _overflowing(out.graph)
        node_block = list(p.node_block_list)
        if overflowing:
            desc = ", ".join(f"{n} (max |x| {v:.3g})" for n, v in list(overflowing.items())[:5])
            if p.overflow == "refuse":
                raise PassRefused(self.id, f"{len(overflowing)} initializer(s) exceed fp16 range 65504: {desc}; "
                                           "use overflow=keep_fp32 or clamp")
            if p.overflow == "keep_fp32":
                cons = _graph.consumers(out.graph)
                blocked = sorted({n.name for name in overflowing for n in cons.get(name, [])})
                node_block += blocked
                notes.append(f"{len(overflowing)} initializer(s) exceed fp16 range ({desc}); kept their "
                             f"{len(blocked)} consumer node(s) in fp32")
            else:
                notes.append(f"{len(overflowing)} initializer(s) exceed fp16 range ({desc}); clamped to +-65504")
            ctx.warn(f"fp16: {len(overflowing)} initializer(s) exceed the fp16 range: {desc}")
        _unshare_mixed(out.graph, set(p.op_block_list), set(node_block))
        ctx.progress(0.3, 1.0, "converting to float16")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # it warns per clamped value; we report them above instead
                half = float16.convert_float_to_float16(
                    out, min_positive_val=5.96e-08, max_finite_val=FP16_MAX, keep_io_types=p.keep_io_types,
                    op_block_list=p.op_block_list, node_block_list=node_block or None)
        except Exception as err:  # noqa: BLE001
            raise PassRefused(self.id, f"float16 conversion failed: {str(err).strip()[:300]}") from err
        _graph.remove_unused_initializers(half.graph)
        _fix_casts(half.graph)
        weights = _graph.weight_names(half.graph)
        inits = _graph.initializer_map(half.graph)
        left = [w for w in weights if inits[w].data_type == TensorProto.FLOAT]
        done = [w for w in weights if inits[w].data_type == TensorProto.FLOAT16]
        if weights and not done:
            raise PassRefused(self.id, "no weight was converted to fp16 (all weight consumers are blocked: "
                                       f"{sorted({n.op_type for n in half.graph.node if n.name in node_block})})")
        if left:
            notes.append(f"{len(left)} of {len(weights)} weight tensors stay fp32 (blocked ops/nodes): "
                         + ", ".join(left[:5]))
        bad = [t.name for t in half.graph.initializer if t.data_type == TensorProto.FLOAT16
               and not np.all(np.isfinite(numpy_helper.to_array(t)))]
        if bad:
            raise PassRefused(self.id, f"fp16 initializers contain inf/nan: {', '.join(bad[:5])}")
        _graph.check_loads(half, self.id)
        metrics = {
            "weight_bytes_fp32": float(fp32_bytes),
            "weight_bytes_after": float(_graph.tensor_bytes(half)),
            "fp16_weights": float(len(done)),
            "fp32_weights_left": float(len(left)),
            "overflowing_initializers": float(len(overflowing)),
        }
        notes.append(f"weights {fp32_bytes / 1e6:.2f} MB fp32 -> {metrics['weight_bytes_after'] / 1e6:.2f} MB")
        return PassOutput(half, notes=notes, metrics=metrics)


def _overflowing(graph: onnx.GraphProto) -> dict[str, float]:
    out: dict[str, float] = {}
    for t in graph.initializer:
        if t.data_type == TensorProto.FLOAT:
            arr = numpy_helper.to_array(t)
            if arr.size:
                peak = float(np.max(np.abs(arr)))
                if peak > FP16_MAX:
                    out[t.name] = peak
    return out


def _split_consumed_outputs(graph: onnx.GraphProto) -> None:
    """Give graph outputs that other nodes also read their own Identity.

    With keep_io_types the converter casts such an output back to fp32 under its name, and the
    nodes reading it then get fp32 where it typed fp16 (ORT refuses to load the model).
    """
    outputs = {o.name for o in graph.output}
    read = {name for n in graph.node for name in n.input}
    for name in sorted(outputs & read):
        inner = f"{name}__fp16_inner"
        for node in graph.node:
            node.output[:] = [inner if o == name else o for o in node.output]
            node.input[:] = [inner if i == name else i for i in node.input]
        graph.node.append(onnx.helper.make_node("Identity", [inner], [name], name=f"{name}__output"))


def _fix_casts(graph: onnx.GraphProto) -> None:
    """Cast(to=float) nodes whose output the converter typed fp16 must cast to fp16 too."""
    types = {vi.name: vi.type.tensor_type.elem_type for vi in graph.value_info}
    for node in graph.node:
        if node.op_type == "Cast" and _graph.get_attr(node, "to") == TensorProto.FLOAT \
                and types.get(node.output[0]) == TensorProto.FLOAT16:
            _graph.set_int_attr(node, "to", TensorProto.FLOAT16)


def _unshare_mixed(graph: onnx.GraphProto, op_block: set[str], node_block: set[str]) -> None:
    """Float initializers read by both fp32-blocked and fp16 nodes get a private copy for the blocked ones.

    The converter converts (or keeps) one initializer for all its readers, so one side ends up with
    the wrong type and ORT refuses the model.
    """
    inits = _graph.initializer_map(graph)
    cons = _graph.consumers(graph)
    for name, init in list(inits.items()):
        if init.data_type != TensorProto.FLOAT:
            continue
        readers = cons.get(name, [])
        blocked = [n for n in readers if n.op_type in op_block or n.name in node_block]
        if blocked and len(blocked) < len(readers):
            copy_name = f"{name}__fp32"
            graph.initializer.append(numpy_helper.from_array(numpy_helper.to_array(init), copy_name))
            for node in blocked:
                node.input[:] = [copy_name if i == name else i for i in node.input]
