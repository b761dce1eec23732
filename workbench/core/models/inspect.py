"""What is inside an ONNX file: the facts a user checks before pushing it to a phone or tuning it.

The report is plain data (JSON-serializable) so the CLI, the GUI and profiles can all show or store it.
"""
from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import onnx
from onnx import AttributeProto, ModelProto, TensorProto

from workbench.core.models.load import check_external_data, load_model
from workbench.core.passes.onnx_helpers import iter_graphs

CONTROL_FLOW_OPS = frozenset({"If", "Loop", "Scan"})
# A location is reported as the one place holding the weights when it holds at least this share of them;
# a few shape constants in Constant nodes should not turn an initializer model into "mixed".
DOMINANT_SHARE = 0.95
_NUMPY_NAMES = {TensorProto.FLOAT: "float32", TensorProto.DOUBLE: "float64"}


@dataclass
class TensorInfo:
    """One graph input or output. `shape` is None when the rank is unknown."""

    name: str
    dtype: str
    shape: list[int | str | None] | None
    dynamic_axes: list[int] = field(default_factory=list)

    @property
    def is_dynamic(self) -> bool:
        return self.shape is None or bool(self.dynamic_axes)


@dataclass
class ModelReport:
    """Summary of one ONNX file. Node counts and the op histogram include If/Loop/Scan subgraphs."""

    path: str
    file_size_bytes: int
    ir_version: int
    producer_name: str
    producer_version: str
    model_version: int
    graph_name: str
    doc_string: str
    opset_imports: dict[str, int]
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    node_count: int                  # all nodes, subgraphs included
    main_graph_node_count: int
    subgraph_count: int
    op_histogram: dict[str, int]     # "Conv", or "com.microsoft:FusedConv" outside the default domain
    initializer_params: int          # elements in initializers (all graphs, sparse ones by stored values)
    constant_node_params: int        # elements held by Constant nodes (all graphs)
    weights_location: str            # "initializers" | "constant nodes" | "mixed" | "external data" | "none"
    external_data_files: list[str]
    has_control_flow: bool
    control_flow_ops: list[str]
    metadata_props: dict[str, str]

    @property
    def parameter_count(self) -> int:
        return self.initializer_params + self.constant_node_params

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["parameter_count"] = self.parameter_count
        return data

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)


def inspect_model(path: str | Path) -> ModelReport:
    """Validate (same checks as load_model, external data not read) and summarize the model at `path`."""
    p = Path(path)
    model = load_model(p, load_external_data=False)
    external_files = check_external_data(p, model)
    init_params, const_params = count_parameters(model)
    ops = op_histogram(model)
    graphs = list(iter_graphs(model))
    control = sorted(op for op in ops if op in CONTROL_FLOW_OPS)
    initializer_names = {t.name for t in model.graph.initializer}
    return ModelReport(
        path=str(p),
        file_size_bytes=p.stat().st_size,
        ir_version=model.ir_version,
        producer_name=model.producer_name,
        producer_version=model.producer_version,
        model_version=model.model_version,
        graph_name=model.graph.name,
        doc_string=model.doc_string,
        opset_imports={(imp.domain or "ai.onnx"): imp.version for imp in model.opset_import},
        # Old exporters (IR < 4) list every initializer as a graph input too; those are weights, not inputs.
        inputs=[tensor_info(v) for v in model.graph.input if v.name not in initializer_names],
        outputs=[tensor_info(v) for v in model.graph.output],
        node_count=sum(ops.values()),
        main_graph_node_count=len(model.graph.node),
        subgraph_count=len(graphs) - 1,
        op_histogram=ops,
        initializer_params=init_params,
        constant_node_params=const_params,
        weights_location=weights_location(init_params, const_params, bool(external_files)),
        external_data_files=external_files,
        has_control_flow=len(graphs) > 1 or bool(control),
        control_flow_ops=control,
        metadata_props={prop.key: prop.value for prop in model.metadata_props},
    )


def type_name(tp: onnx.TypeProto) -> str:
    """numpy-style names for tensors ("float32", "int64"), and sequence<...>/map<...>/optional<...>."""
    kind = tp.WhichOneof("value")
    if kind in ("tensor_type", "sparse_tensor_type"):
        elem = getattr(tp, kind).elem_type
        name = _NUMPY_NAMES.get(elem) or TensorProto.DataType.Name(elem).lower()
        return name if kind == "tensor_type" else f"sparse<{name}>"
    if kind == "sequence_type":
        return f"sequence<{type_name(tp.sequence_type.elem_type)}>"
    if kind == "optional_type":
        return f"optional<{type_name(tp.optional_type.elem_type)}>"
    if kind == "map_type":
        key = TensorProto.DataType.Name(tp.map_type.key_type).lower()
        return f"map<{key},{type_name(tp.map_type.value_type)}>"
    return "unknown"


def tensor_info(value: onnx.ValueInfoProto) -> TensorInfo:
    tp = value.type
    kind = tp.WhichOneof("value")
    shape: list[int | str | None] | None = None
    if kind in ("tensor_type", "sparse_tensor_type") and getattr(tp, kind).HasField("shape"):
        shape = []
        for dim in getattr(tp, kind).shape.dim:
            which = dim.WhichOneof("value")
            shape.append(dim.dim_value if which == "dim_value" else dim.dim_param if which == "dim_param" else None)
    dynamic = [i for i, d in enumerate(shape or []) if not isinstance(d, int)]
    return TensorInfo(name=value.name, dtype=type_name(tp), shape=shape, dynamic_axes=dynamic)


def op_histogram(model: ModelProto) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for graph in iter_graphs(model):
        for node in graph.node:
            domain = node.domain if node.domain not in ("", "ai.onnx") else ""
            counts[f"{domain}:{node.op_type}" if domain else node.op_type] += 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _tensor_elements(t: TensorProto) -> int:
    return math.prod(t.dims)  # dims describe the data wherever it is stored (raw, typed fields, external)


def _constant_elements(node: onnx.NodeProto) -> int:
    total = 0
    for attr in node.attribute:
        if attr.type == AttributeProto.TENSOR:
            total += _tensor_elements(attr.t)
        elif attr.type == AttributeProto.SPARSE_TENSOR:
            total += _tensor_elements(attr.sparse_tensor.values)
        elif attr.type in (AttributeProto.FLOAT, AttributeProto.INT, AttributeProto.STRING):
            total += 1
        elif attr.type == AttributeProto.FLOATS:
            total += len(attr.floats)
        elif attr.type == AttributeProto.INTS:
            total += len(attr.ints)
        elif attr.type == AttributeProto.STRINGS:
            total += len(attr.strings)
    return total


def count_parameters(model: ModelProto) -> tuple[int, int]:
    """(elements in initializers, elements in Constant nodes), over every graph."""
    init = const = 0
    for graph in iter_graphs(model):
        init += sum(_tensor_elements(t) for t in graph.initializer)
        init += sum(_tensor_elements(s.values) for s in graph.sparse_initializer)
        const += sum(_constant_elements(n) for n in graph.node
                     if n.op_type == "Constant" and n.domain in ("", "ai.onnx"))
    return init, const


def weights_location(init_params: int, const_params: int, external: bool) -> str:
    if external:
        return "external data"
    total = init_params + const_params
    if total == 0:
        return "none"
    if init_params / total >= DOMINANT_SHARE:
        return "initializers"
    if const_params / total >= DOMINANT_SHARE:
        return "constant nodes"
    return "mixed"
