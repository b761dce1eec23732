"""Small ONNX graph helpers that passes, variants, fidelity and FLOP counting all need.

They live in core (core must not import the plugin API) and are re-exported as
`workbench.api.onnx_helpers`, so bundled and third-party passes share them without touching core.
Every helper works on all graphs of a model, subgraphs of If/Loop/Scan included, because a pass that
only rewrites the main graph leaves fp32 weights or Constant nodes hiding inside control flow.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
from onnx import GraphProto, ModelProto, TensorProto, helper, numpy_helper

from workbench.core.errors import WorkbenchError

FLOAT_TYPES = {TensorProto.FLOAT, TensorProto.DOUBLE}
LOW_PRECISION_TYPES = {
    TensorProto.FLOAT16, TensorProto.BFLOAT16, TensorProto.INT8, TensorProto.UINT8,
    TensorProto.INT4, TensorProto.UINT4, TensorProto.INT16, TensorProto.UINT16,
}


def load_model(path: str | Path, load_external_data: bool = True) -> ModelProto:
    """Load an ONNX file or raise ModelError naming the file and the problem: the same checks and words
    as `workbench inspect` (one loader for the CLI, the GUI, passes and plugins)."""
    from workbench.core.models.load import load_model as checked_load  # lazy: that module imports this one

    return checked_load(path, load_external_data=load_external_data)


def model_bytes(model: ModelProto) -> bytes:
    """Serialize deterministically: same model message, same bytes (no timestamps are ever added)."""
    return model.SerializeToString(deterministic=True)


def iter_graphs(model_or_graph: ModelProto | GraphProto) -> Iterator[GraphProto]:
    """Yield the main graph and every subgraph (If/Loop/Scan bodies), depth first."""
    root = model_or_graph.graph if isinstance(model_or_graph, ModelProto) else model_or_graph
    stack = [root]
    while stack:
        g = stack.pop()
        yield g
        for node in g.node:
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.GRAPH:
                    stack.append(attr.g)
                elif attr.type == onnx.AttributeProto.GRAPHS:
                    stack.extend(attr.graphs)


def iter_nodes(model: ModelProto) -> Iterator[tuple[GraphProto, onnx.NodeProto]]:
    """Every (graph, node) pair in the model, subgraphs included."""
    for g in iter_graphs(model):
        for node in g.node:
            yield g, node


def iter_weights(model: ModelProto) -> Iterator[TensorProto]:
    """All stored tensors: initializers and Constant-node values, in every graph."""
    for g in iter_graphs(model):
        yield from g.initializer
        for node in g.node:
            if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
                for attr in node.attribute:
                    if attr.name == "value" and attr.type == onnx.AttributeProto.TENSOR:
                        yield attr.t


def opset_version(model: ModelProto, domain: str = "") -> int | None:
    """The model's opset for `domain` ('' = default ONNX domain), or None when it does not import it."""
    for imp in model.opset_import:
        if imp.domain in (domain, "ai.onnx" if domain == "" else domain):
            return imp.version
    return None


def upgrade_opset(model: ModelProto, target: int) -> ModelProto:
    """Return a copy at opset >= `target` (unchanged copy if already there); WorkbenchError if ONNX can't."""
    current = opset_version(model) or 1
    out = ModelProto()
    out.CopyFrom(model)
    if current >= target:
        return out
    try:
        from onnx import version_converter

        return version_converter.convert_version(out, target)
    except Exception as exc:  # noqa: BLE001
        raise WorkbenchError(f"cannot upgrade opset {current} -> {target}: {str(exc).splitlines()[0]}") from exc


def _constant_value(node: onnx.NodeProto) -> TensorProto | None:
    name = node.output[0]
    for attr in node.attribute:
        value = helper.get_attribute_value(attr)
        if attr.name == "value":
            t = TensorProto()
            t.CopyFrom(value)
            t.name = name
            return t
        if attr.name in ("value_float", "value_floats"):
            return numpy_helper.from_array(np.asarray(value, dtype=np.float32), name)
        if attr.name in ("value_int", "value_ints"):
            return numpy_helper.from_array(np.asarray(value, dtype=np.int64), name)
    return None  # sparse_value / string constants stay as nodes


def constants_to_initializers(model: ModelProto) -> ModelProto:
    """Copy of `model` where Constant nodes become initializers of their graph.

    Quantizers and converters only look at initializers; weights exported as Constant nodes
    (PyTorch does this) would otherwise stay fp32 while the pass reports success.
    """
    out = ModelProto()
    out.CopyFrom(model)
    for g in iter_graphs(out):
        keep = []
        for node in g.node:
            t = _constant_value(node) if node.op_type == "Constant" and node.domain in ("", "ai.onnx") else None
            if t is None:
                keep.append(node)
            else:
                g.initializer.append(t)
        if len(keep) != len(g.node):
            del g.node[:]
            g.node.extend(keep)
    return out


# The name the issue used; same function.
model_to_initializers = constants_to_initializers


def weight_dtype_bytes(model: ModelProto) -> dict[str, int]:
    """Bytes of stored weights per element type name (e.g. {'FLOAT': 4_000_000, 'INT8': 1_000_000})."""
    totals: dict[str, int] = {}
    for t in iter_weights(model):
        n = int(np.prod(t.dims)) if len(t.dims) else 1
        itemsize = helper.tensor_dtype_to_np_dtype(t.data_type).itemsize if t.data_type != TensorProto.STRING else 0
        name = TensorProto.DataType.Name(t.data_type)
        totals[name] = totals.get(name, 0) + n * itemsize
    return totals


def has_low_precision_weights(model: ModelProto, min_elements: int = 16) -> bool:
    """True when at least one weight of >= `min_elements` elements is stored below fp32 (fp16/int8/...)."""
    for t in iter_weights(model):
        n = int(np.prod(t.dims)) if len(t.dims) else 1
        if n >= min_elements and t.data_type in LOW_PRECISION_TYPES:
            return True
    return False


def graph_inputs(model: ModelProto) -> list[onnx.ValueInfoProto]:
    """The real inputs of the main graph (initializers listed as inputs, as old exporters do, excluded)."""
    inits = {t.name for t in model.graph.initializer}
    return [i for i in model.graph.input if i.name not in inits]
