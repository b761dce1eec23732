"""Count multiply-accumulates of Conv/Gemm/MatMul (and their quantized/fused forms) from shapes.

Channel pruning claims "fewer FLOPs"; this makes the claim checkable. Dynamic dims are first fixed
(batch 1, 224 spatial, 16 tokens, or caller-given shapes), then onnx shape inference gives every
tensor's shape; shapes it cannot derive are read from one onnxruntime run at that fixed shape.
Nodes whose shapes stay unknown are listed, not guessed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import ModelProto, shape_inference

from workbench.core.passes.fidelity import _elem_np, _resolve_shape, input_signature
from workbench.core.passes.onnx_helpers import graph_inputs, iter_graphs

# Quantized and onnxruntime-fused forms count like their float originals, so variants compare fairly.
CONV_OPS = {"Conv", "QLinearConv", "ConvInteger", "FusedConv", "NhwcConv"}
MATMUL_OPS = {"MatMul", "QLinearMatMul", "MatMulInteger", "FusedMatMul", "DynamicQuantizeMatMul", "MatMulIntegerToFloat"}
GEMM_OPS = {"Gemm", "QGemm", "FusedGemm"}


@dataclass
class FlopReport:
    macs: int = 0
    per_op: dict[str, int] = field(default_factory=dict)  # op_type -> MACs
    per_node: list[tuple[str, str, int]] = field(default_factory=list)  # (name, op_type, MACs)
    unknown: list[str] = field(default_factory=list)  # nodes whose shapes could not be inferred
    input_shapes: dict[str, list[int]] = field(default_factory=dict)

    @property
    def flops(self) -> int:
        """2 FLOPs per MAC (multiply + add), the usual convention."""
        return 2 * self.macs


def _fixed(model: ModelProto, shapes: dict[str, list[int]] | None) -> tuple[ModelProto, dict[str, list[int]]]:
    m = ModelProto()
    m.CopyFrom(model)
    symbols: dict[str, int] = {}
    chosen: dict[str, list[int]] = {}
    sig = {n: (et, dims) for n, et, dims in input_signature(m)}
    for vi in graph_inputs(m):
        et, dims = sig[vi.name]
        is_int = np.issubdtype(_elem_np(et), np.integer)
        shape = list(shapes[vi.name]) if shapes and vi.name in shapes else _resolve_shape(vi.name, dims, is_int, symbols)
        chosen[vi.name] = shape
        tshape = vi.type.tensor_type.shape
        tshape.ClearField("dim")
        for v in shape:
            tshape.dim.add().dim_value = int(v)
    return m, chosen


def _shape_table(model: ModelProto) -> dict[str, list[int] | None]:
    table: dict[str, list[int] | None] = {}
    for g in iter_graphs(model):
        for t in g.initializer:
            table[t.name] = list(t.dims)
        for vi in list(g.input) + list(g.value_info) + list(g.output):
            tt = vi.type.tensor_type
            if not tt.HasField("shape"):
                continue
            dims = [d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim]
            table[vi.name] = None if any(d is None for d in dims) else dims
        for node in g.node:
            if node.op_type == "Constant":
                for a in node.attribute:
                    if a.name == "value":
                        table[node.output[0]] = list(a.t.dims)
    return table


def _attr(node: onnx.NodeProto, name: str, default: int) -> int:
    for a in node.attribute:
        if a.name == name:
            return int(a.i)
    return default


def _node_macs(node: onnx.NodeProto, shapes: dict[str, list[int] | None]) -> int | None:
    op = node.op_type
    if op in CONV_OPS:
        w_idx = 3 if op == "QLinearConv" else 1
        w, y = shapes.get(node.input[w_idx]), shapes.get(node.output[0])
        if not w or not y:
            return None
        # y = [N, Cout, *spatial]; w = [Cout, Cin/group, *kernel]: each output element costs Cin/g * prod(k)
        return int(np.prod(y, dtype=np.int64) * np.prod(w[1:], dtype=np.int64))
    if op in GEMM_OPS:
        a, y = shapes.get(node.input[0]), shapes.get(node.output[0])
        if not a or not y or len(a) != 2:
            return None
        k = a[0] if _attr(node, "transA", 0) else a[1]
        return int(y[0] * y[1] * k)
    if op in MATMUL_OPS:
        a, y = shapes.get(node.input[0]), shapes.get(node.output[0])
        if not a or y is None:
            return None
        k = a[-2] if op == "FusedMatMul" and _attr(node, "transA", 0) and len(a) >= 2 else a[-1]
        return int(np.prod(y, dtype=np.int64) * k) if y else int(k)
    return 0


COUNTED = CONV_OPS | MATMUL_OPS | GEMM_OPS


def _needed(model: ModelProto) -> list[str]:
    """Main-graph tensors whose shapes the counted ops need (activation input and output)."""
    names = []
    for node in model.graph.node:
        if node.op_type in COUNTED:
            names += [node.input[0], node.output[0]]
    return names


def _runtime_shapes(model: ModelProto, shapes: dict[str, list[int]], names: list[str]) -> dict[str, list[int]]:
    """Shapes that static inference could not derive (Reshape from computed shapes, custom ops), read by
    running the model once in onnxruntime with those tensors exposed as extra outputs."""
    import onnxruntime as ort

    from workbench.core.passes.fidelity import generate_inputs

    m = ModelProto()
    m.CopyFrom(model)
    have = {o.name for o in m.graph.output}
    for n in dict.fromkeys(names):
        if n and n not in have:
            m.graph.output.append(onnx.ValueInfoProto(name=n))
    so = ort.SessionOptions()
    so.log_severity_level = 4
    so.intra_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # keep every tensor
    try:
        sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
        feed = generate_inputs(model, samples=1, shapes=shapes)[0]
        outs = sess.run(None, feed)
    except Exception:  # noqa: BLE001 - leave those nodes as unknown rather than guess
        return {}
    return {o.name: list(v.shape) for o, v in zip(sess.get_outputs(), outs) if hasattr(v, "shape")}


def count_macs(model: ModelProto, shapes: dict[str, list[int]] | None = None) -> FlopReport:
    """MACs of the compute-heavy ops at a fixed input shape (see module docstring for the defaults)."""
    fixed, chosen = _fixed(model, shapes)
    try:
        inferred = shape_inference.infer_shapes(fixed, data_prop=True)
    except Exception:  # noqa: BLE001 - custom ops can stop inference; count what we can
        inferred = fixed
    table = _shape_table(inferred)
    missing = [n for n in _needed(inferred) if table.get(n) is None]
    if missing:
        table.update(_runtime_shapes(fixed, chosen, missing))
    rep = FlopReport(input_shapes=chosen)
    for g in iter_graphs(inferred):
        for node in g.node:
            if node.op_type not in COUNTED:
                continue
            macs = _node_macs(node, table)
            label = node.name or node.output[0]
            if macs is None:
                rep.unknown.append(label)
                continue
            rep.macs += macs
            rep.per_op[node.op_type] = rep.per_op.get(node.op_type, 0) + macs
            rep.per_node.append((label, node.op_type, macs))
    return rep
