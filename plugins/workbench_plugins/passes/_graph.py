"""Graph utilities shared by the bundled passes (private: third-party plugins bring their own).

Every helper works on a model the caller already copied, so passes keep their promise of never
mutating the input model: call `copy_model` first, then edit the copy freely.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

# Ops whose weight input (index 1) is what a user means by "the model's weights".
WEIGHT_INPUTS: dict[str, tuple[int, ...]] = {
    "Conv": (1,),
    "ConvTranspose": (1,),
    "Gemm": (1,),
    "MatMul": (0, 1),
    "GRU": (1, 2),
    "LSTM": (1, 2),
    "RNN": (1, 2),
}


def copy_model(model: onnx.ModelProto) -> onnx.ModelProto:
    out = onnx.ModelProto()
    out.CopyFrom(model)
    return out


def opset_version(model: onnx.ModelProto) -> int:
    for imp in model.opset_import:
        if imp.domain in ("", "ai.onnx"):
            return int(imp.version)
    return 1


def name_nodes(graph: onnx.GraphProto) -> None:
    """Give unnamed nodes stable names: block lists, exclusions and notes need something to point at."""
    used = {n.name for n in graph.node if n.name}
    for i, node in enumerate(graph.node):
        if not node.name:
            name = f"{node.op_type}_{i}"
            while name in used:
                name += "_"
            node.name = name
            used.add(name)


def initializer_map(graph: onnx.GraphProto) -> dict[str, TensorProto]:
    return {t.name: t for t in graph.initializer}


def consumers(graph: onnx.GraphProto) -> dict[str, list[onnx.NodeProto]]:
    out: dict[str, list[onnx.NodeProto]] = defaultdict(list)
    for node in graph.node:
        for name in node.input:
            if name:
                out[name].append(node)
    return out


def producers(graph: onnx.GraphProto) -> dict[str, onnx.NodeProto]:
    return {name: node for node in graph.node for name in node.output if name}


def subgraph_references(graph: onnx.GraphProto) -> set[str]:
    """Names used inside If/Loop/Scan bodies: outer tensors they capture must keep their shape."""
    refs: set[str] = set()

    def walk(g: onnx.GraphProto) -> None:
        for node in g.node:
            for attr in node.attribute:
                subs = list(attr.graphs) + ([attr.g] if attr.type == onnx.AttributeProto.GRAPH else [])
                for sub in subs:
                    for inner in sub.node:
                        refs.update(n for n in inner.input if n)
                    walk(sub)

    walk(graph)
    return refs


def constants_to_initializers(model: onnx.ModelProto) -> int:
    """Turn top-level `Constant` nodes into initializers (in place); returns how many.

    Exported models often carry weights as Constant nodes; quantizers and pruners only see
    initializers, so without this they would silently leave those weights in fp32.
    """
    graph = model.graph
    keep: list[onnx.NodeProto] = []
    new_inits: list[TensorProto] = []
    graph_outputs = {o.name for o in graph.output}
    for node in graph.node:
        if node.op_type != "Constant" or node.domain not in ("", "ai.onnx") or node.output[0] in graph_outputs:
            keep.append(node)
            continue
        attr = node.attribute[0]
        if attr.name == "value":
            arr = numpy_helper.to_array(attr.t)
        elif attr.name == "value_float":
            arr = np.array(attr.f, dtype=np.float32)
        elif attr.name == "value_floats":
            arr = np.array(list(attr.floats), dtype=np.float32)
        elif attr.name == "value_int":
            arr = np.array(attr.i, dtype=np.int64)
        elif attr.name == "value_ints":
            arr = np.array(list(attr.ints), dtype=np.int64)
        else:  # sparse_value / strings: leave as they are
            keep.append(node)
            continue
        new_inits.append(numpy_helper.from_array(arr, node.output[0]))
    if not new_inits:
        return 0
    del graph.node[:]
    graph.node.extend(keep)
    graph.initializer.extend(new_inits)
    # Initializers need not be graph inputs since IR 4; older models list them there - fine either way.
    return len(new_inits)


def upgrade_opset(model: onnx.ModelProto, target: int) -> onnx.ModelProto:
    """Convert the default-domain opset to `target` (onnx.version_converter); returns a new model."""
    from onnx import version_converter

    converted = version_converter.convert_version(model, target)
    # The converter keeps ir_version; ORT wants at least the IR that introduced the opset.
    converted.ir_version = max(converted.ir_version, 7)
    return converted


def strip_value_info(model: onnx.ModelProto) -> None:
    """Drop intermediate shapes: after a pass changes channel counts they would be lies ORT rejects."""
    del model.graph.value_info[:]


def set_initializer(graph: onnx.GraphProto, name: str, arr: np.ndarray) -> None:
    for i, t in enumerate(graph.initializer):
        if t.name == name:
            graph.initializer[i].CopyFrom(numpy_helper.from_array(arr, name))
            return
    graph.initializer.append(numpy_helper.from_array(arr, name))


def use_counts(graph: onnx.GraphProto) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for node in graph.node:
        for name in node.input:
            if name:
                counts[name] += 1
    for name in subgraph_references(graph):
        counts[name] += 1
    for out in graph.output:
        counts[out.name] += 1
    return counts


def get_attr(node: onnx.NodeProto, name: str, default=None):
    for attr in node.attribute:
        if attr.name == name:
            return helper.get_attribute_value(attr)
    return default


def set_int_attr(node: onnx.NodeProto, name: str, value: int) -> None:
    for attr in node.attribute:
        if attr.name == name:
            attr.i = value
            return
    node.attribute.append(helper.make_attribute(name, value))


def weight_names(graph: onnx.GraphProto, op_types: Iterable[str] = WEIGHT_INPUTS) -> list[str]:
    """Initializer names that are weights (ndim >= 2) of the given op types, in graph order, unique."""
    inits = initializer_map(graph)
    wanted = set(op_types)
    seen: list[str] = []
    for node in graph.node:
        if node.op_type not in wanted:
            continue
        for idx in WEIGHT_INPUTS.get(node.op_type, (1,)):
            if idx < len(node.input):
                name = node.input[idx]
                t = inits.get(name)
                if t is not None and len(t.dims) >= 2 and name not in seen:
                    seen.append(name)
    return seen


def tensor_bytes(model: onnx.ModelProto, dtypes: Iterable[int] | None = None) -> int:
    """Bytes held by initializers (optionally only those of the given TensorProto data types)."""
    wanted = set(dtypes) if dtypes is not None else None
    total = 0
    for t in model.graph.initializer:
        if wanted is None or t.data_type in wanted:
            size = int(np.prod(t.dims)) if len(t.dims) else 1
            total += size * helper.tensor_dtype_to_np_dtype(t.data_type).itemsize
    return total


def fold_batchnorm(model: onnx.ModelProto) -> tuple[int, list[str]]:
    """Fold inference-mode BatchNormalization into the Conv before it (in place, exact math in float64).

    Returns (number folded, reasons for BNs left alone). Folding first means huge running variances
    (seen in the wild above 65504) never reach fp16 and quantizers see one fused weight.
    """
    graph = model.graph
    inits = initializer_map(graph)
    prod = producers(graph)
    counts = use_counts(graph)
    graph_outputs = {o.name for o in graph.output}
    skipped: list[str] = []
    removed: set[str] = set()
    rename: dict[str, str] = {}
    folded = 0
    for bn in graph.node:
        if bn.op_type != "BatchNormalization":
            continue
        label = bn.name or bn.output[0]
        conv = prod.get(bn.input[0])
        if conv is None or conv.op_type != "Conv":
            skipped.append(f"{label}: not after a Conv")
            continue
        if len([o for o in bn.output if o]) != 1 or get_attr(bn, "training_mode", 0):
            skipped.append(f"{label}: training-mode BatchNormalization")
            continue
        if counts.get(conv.output[0], 0) != 1 or conv.output[0] in graph_outputs:
            skipped.append(f"{label}: Conv output also used elsewhere")
            continue
        params = [inits.get(n) for n in bn.input[1:5]]
        weight = inits.get(conv.input[1])
        bias = inits.get(conv.input[2]) if len(conv.input) > 2 and conv.input[2] else None
        if weight is None or any(p is None for p in params) or (len(conv.input) > 2 and conv.input[2] and bias is None):
            skipped.append(f"{label}: Conv/BN parameters are not constant")
            continue
        scale, beta, mean, var = (numpy_helper.to_array(p).astype(np.float64) for p in params)
        eps = float(get_attr(bn, "epsilon", 1e-5))
        w = numpy_helper.to_array(weight)
        factor = scale / np.sqrt(var + eps)
        new_w = (w.astype(np.float64) * factor.reshape(-1, *([1] * (w.ndim - 1)))).astype(w.dtype)
        b = numpy_helper.to_array(bias).astype(np.float64) if bias is not None else np.zeros(w.shape[0])
        new_b = ((b - mean) * factor + beta).astype(w.dtype)
        w_name = conv.input[1] if counts.get(conv.input[1], 0) == 1 else f"{conv.input[1]}__bnfold_{folded}"
        b_name = f"{(conv.name or conv.output[0])}__bnfold_bias"
        set_initializer(graph, w_name, new_w)
        set_initializer(graph, b_name, new_b)
        conv.input[1] = w_name
        if len(conv.input) > 2:
            conv.input[2] = b_name
        else:
            conv.input.append(b_name)
        rename[conv.output[0]] = bn.output[0]
        conv.output[0] = bn.output[0]
        removed.add(id(bn))
        folded += 1
    if folded:
        keep = [n for n in graph.node if id(n) not in removed]
        del graph.node[:]
        graph.node.extend(keep)
        remove_unused_initializers(graph)
    return folded, skipped


def remove_unused_initializers(graph: onnx.GraphProto) -> None:
    counts = use_counts(graph)
    keep = [t for t in graph.initializer if counts.get(t.name, 0) > 0]
    if len(keep) != len(graph.initializer):
        removed = {t.name for t in graph.initializer} - {t.name for t in keep}
        del graph.initializer[:]
        graph.initializer.extend(keep)
        inputs = [i for i in graph.input if i.name not in removed]
        del graph.input[:]
        graph.input.extend(inputs)


def check_loads(model: onnx.ModelProto, pass_id: str) -> None:
    """Refuse rather than emit a variant onnxruntime cannot even load."""
    import onnxruntime as ort

    from workbench.api import PassRefused

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.log_severity_level = 3
    try:
        ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    except Exception as err:  # noqa: BLE001 - ORT raises several unrelated types
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise PassRefused(pass_id, f"result does not load in onnxruntime: {first[:300]}") from err


def ort_offline_optimize(model: onnx.ModelProto, level: str, out_path, pass_id: str) -> onnx.ModelProto:
    """Let onnxruntime rewrite the graph and save it (SessionOptions.optimized_model_filepath)."""
    import onnxruntime as ort

    from workbench.api import PassRefused

    levels = {
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }
    opts = ort.SessionOptions()
    opts.graph_optimization_level = levels[level]
    opts.optimized_model_filepath = str(out_path)
    opts.log_severity_level = 3
    try:
        ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    except Exception as err:  # noqa: BLE001
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise PassRefused(pass_id, f"onnxruntime could not load the model to optimize it: {first[:300]}") from err
    return onnx.load(str(out_path))


def op_histogram(model: onnx.ModelProto) -> dict[str, int]:
    hist: dict[str, int] = defaultdict(int)
    for node in model.graph.node:
        hist[node.op_type] += 1
    return dict(hist)


def conv_macs(model: onnx.ModelProto, hw: int = 224) -> int:
    """Multiply-accumulates of Conv and Gemm at batch 1 (dynamic H/W = hw), from inferred shapes."""
    from . import _data

    m = copy_model(model)
    strip_value_info(m)
    specs = {s.name: s.shape for s in _data.input_specs(m, hw=hw)}
    for inp in m.graph.input:
        if inp.name in specs:
            for d, v in zip(inp.type.tensor_type.shape.dim, specs[inp.name]):
                d.dim_value = v
    m = onnx.shape_inference.infer_shapes(m, data_prop=True)
    shapes = {vi.name: [d.dim_value for d in vi.type.tensor_type.shape.dim]
              for vi in list(m.graph.value_info) + list(m.graph.output)}
    inits = initializer_map(m.graph)
    total = 0
    for node in m.graph.node:
        if node.op_type in ("Conv", "Gemm") and node.input[1] in inits:
            out = shapes.get(node.output[0])
            if not out or not all(out):
                continue
            w = list(inits[node.input[1]].dims)
            per_out = int(np.prod(w[1:])) if node.op_type == "Conv" else (
                w[1] if get_attr(node, "transB", 0) else w[0])
            total += int(np.prod(out)) * per_out
    return total


def prepared_copy(model: onnx.ModelProto, fold_bn: bool, name: bool = True) -> tuple[onnx.ModelProto, list[str]]:
    """The common start of weight-rewriting passes: a copy with named nodes, Constant-node weights moved to
    initializers (else they would silently keep fp32 or escape pruning) and, optionally, BatchNorm folded
    into the Conv before it. Returns the copy and notes saying what was done."""
    out = copy_model(model)
    if name:
        name_nodes(out.graph)
    notes: list[str] = []
    converted = constants_to_initializers(out)
    if converted:
        notes.append(f"converted {converted} Constant nodes to initializers")
    if fold_bn:
        folded, _ = fold_batchnorm(out)
        if folded:
            notes.append(f"folded {folded} BatchNormalization into Conv")
    return out, notes


# An entry of a small integer tensor built from shapes: a known int, or (tensor, axis) = "that tensor's size there".
ShapeEntry = int | tuple[str, int]


class ShapeValues:
    """Symbolic values of the small int tensors models build from `Shape` (Resize sizes, Reshape targets).

    Exporters compute sizes like Concat(Shape(x)[0:2], Shape(y)[2:4]); a pass that changes a dimension must
    know which entries read it. Follows Shape, Gather, Slice, Concat, Unsqueeze, Squeeze, Cast and Identity
    over constant indices; any other op's output stays unknown (absent from `values`).
    """

    OPS = {"Shape", "Gather", "Slice", "Concat", "Unsqueeze", "Squeeze", "Cast", "Identity"}

    def __init__(self, graph: onnx.GraphProto, rank_of) -> None:
        self.rank_of = rank_of  # callable: tensor name -> rank or None
        self.values: dict[str, list[ShapeEntry]] = {}
        for t in graph.initializer:
            if t.data_type in (TensorProto.INT64, TensorProto.INT32) and len(t.dims) <= 1 and int(np.prod(t.dims)) <= 64:
                self.values[t.name] = [int(v) for v in numpy_helper.to_array(t).reshape(-1)]

    def step(self, node: onnx.NodeProto) -> bool:
        """Evaluate `node` if it is a shape op over known values; True when its output value is now known."""
        if node.op_type not in self.OPS or not node.output or node.domain not in ("", "ai.onnx"):
            return False
        value = self._eval(node)
        if value is None:
            return False
        self.values[node.output[0]] = value
        return True

    def _eval(self, node: onnx.NodeProto) -> list[ShapeEntry] | None:
        ins = [self.values.get(n) if n else None for n in node.input]
        op = node.op_type
        if op == "Shape":
            rank = self.rank_of(node.input[0])
            start, end = get_attr(node, "start", 0), get_attr(node, "end", None)
            if rank is None and (start < 0 or end is None or end < 0):
                return None
            if rank is not None:
                start = max(0, start + rank if start < 0 else start)
                end = rank if end is None else min(rank, end + rank if end < 0 else end)
            return [(node.input[0], k) for k in range(start, end)]
        if op == "Concat":
            if get_attr(node, "axis", 0) not in (0, -1) or any(v is None for v in ins):
                return None
            return [e for v in ins for e in v]
        if op in ("Unsqueeze", "Squeeze", "Cast", "Identity"):
            if ins[0] is None or (op == "Cast" and get_attr(node, "to") not in (TensorProto.INT64, TensorProto.INT32)):
                return None
            return list(ins[0])
        if op == "Gather":
            if get_attr(node, "axis", 0) != 0 or len(ins) < 2 or ins[0] is None or ins[1] is None:
                return None
            idx = ins[1]
            if not all(isinstance(i, int) and -len(ins[0]) <= i < len(ins[0]) for i in idx):
                return None
            return [ins[0][i] for i in idx]
        if op == "Slice":
            if len(ins) < 3 or any(v is None for v in ins[:3]) or any(v is None for v in ins[3:5] if v is not None):
                return None
            axes = ins[3] if len(ins) > 3 and node.input[3] else [0]
            steps = ins[4] if len(ins) > 4 and node.input[4] else [1]
            if axes not in ([0], [-1]) or len(ins[1]) != 1 or len(ins[2]) != 1 or len(steps) != 1 or steps[0] == 0:
                return None
            if not all(isinstance(v, int) for v in (*ins[1], *ins[2], *steps)):
                return None
            return ins[0][slice(ins[1][0], ins[2][0], steps[0])]
        return None
