"""Load an ONNX file, or fail with one line that names the file and what is wrong with it.

Every command and pass starts here, so a wrong path, a truncated download or an op the runtime has never
heard of is reported before any device work starts, never as a protobuf or C++ traceback.
Checks run cheapest first: file -> protobuf -> external data -> operators -> onnx.checker.
"""
from __future__ import annotations

import functools
import os
import re
from pathlib import Path

import onnx
import onnx.defs
from google.protobuf.message import DecodeError
from onnx import ModelProto, TensorProto

from workbench.core.errors import ModelError
from workbench.core.models.diagnose import describe_not_a_model, describe_unparsable
from workbench.core.passes.onnx_helpers import iter_graphs

ONNX_DOMAINS = {"ai.onnx": "", "ai.onnx.ml": "ai.onnx.ml", "ai.onnx.preview.training": "ai.onnx.preview.training"}
_MAX_PROBLEM_CHARS = 300


def load_model(path: str | Path, load_external_data: bool = True) -> ModelProto:
    """Read and validate `path`; raises ModelError(path, one-line problem) for anything unusable."""
    p = Path(path)
    data = read_model_bytes(p)
    model = parse_model(p, data)
    external = check_external_data(p, model)
    check_operators(p, model)
    if external and load_external_data:
        _load_external(p, model)
    run_checker(p, model, by_path=bool(external) and not load_external_data)
    return model


def read_model_bytes(p: Path) -> bytes:
    if not p.exists():
        parent = p.parent if str(p.parent) not in ("", ".") else Path.cwd()
        where = "" if parent.is_dir() else f" (folder {parent} does not exist either)"
        raise ModelError(p, f"file not found{where}")
    if p.is_dir():
        inside = sorted(x.name for x in p.glob("*.onnx"))[:3]
        hint = f" (it contains {', '.join(inside)})" if inside else ""
        raise ModelError(p, f"is a directory, expected an .onnx file{hint}")
    try:
        data = p.read_bytes()
    except PermissionError:
        raise ModelError(p, "cannot read the file (permission denied)") from None
    except OSError as exc:
        raise ModelError(p, f"cannot read the file ({exc.strerror or exc})") from None
    if not data:
        raise ModelError(p, "empty file (0 bytes)")
    return data


def parse_model(p: Path, data: bytes) -> ModelProto:
    model = ModelProto()
    try:
        model.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError):
        raise ModelError(p, describe_unparsable(data)) from None
    if not model.HasField("graph"):
        raise ModelError(p, describe_not_a_model(data))
    return model


def external_tensors(model: ModelProto) -> list[TensorProto]:
    """Tensors whose bytes live in side files, in every graph (Constant nodes included)."""
    found = []
    for g in iter_graphs(model):
        tensors = list(g.initializer)
        for node in g.node:
            tensors.extend(a.t for a in node.attribute if a.type == onnx.AttributeProto.TENSOR)
        found.extend(t for t in tensors if t.data_location == TensorProto.EXTERNAL)
    return found


def check_external_data(p: Path, model: ModelProto) -> list[str]:
    """Check every external-data reference resolves to enough bytes; return the side files' names."""
    files: dict[str, int] = {}
    for tensor in external_tensors(model):
        info = {e.key: e.value for e in tensor.external_data}
        location = info.get("location", "")
        if not location:
            raise ModelError(p, f"tensor '{tensor.name}' is marked as external data but names no file")
        if os.path.isabs(location) or ".." in Path(location).parts:
            raise ModelError(p, f"external data location '{location}' of tensor '{tensor.name}' points outside "
                                "the model's folder (refused)")
        side = p.parent / location
        if not side.is_file():
            raise ModelError(p, f"external data file '{location}' not found next to the model "
                                f"(needed by tensor '{tensor.name}'; copy it into {p.resolve().parent})")
        size = files.setdefault(location, side.stat().st_size)
        offset, length = int(info.get("offset", 0) or 0), info.get("length")
        end = offset + int(length) if length else None
        if offset > size or (end is not None and end > size):
            raise ModelError(p, f"external data file '{location}' is too short (tensor '{tensor.name}' needs bytes "
                                f"{offset}..{end if end is not None else '?'}, file has {size})")
    return sorted(files)


def _load_external(p: Path, model: ModelProto) -> None:
    try:
        onnx.external_data_helper.load_external_data_for_model(model, str(p.parent))
    except (OSError, ValueError) as exc:
        raise ModelError(p, f"cannot read external data ({_one_line(str(exc))})") from None


def _node_label(graph: onnx.GraphProto, index: int, node: onnx.NodeProto, main: onnx.GraphProto) -> str:
    label = f"node '{node.name}'" if node.name else f"unnamed node #{index}"
    return label if graph is main else f"{label} in subgraph '{graph.name}'"


def check_operators(p: Path, model: ModelProto) -> None:
    """Every node's op must exist for its domain at the imported opset (ONNX) or in onnxruntime's registry."""
    opsets = {(imp.domain or "ai.onnx"): imp.version for imp in model.opset_import}
    local_functions = {(f.domain, f.name) for f in model.functions}
    for graph in iter_graphs(model):
        for index, node in enumerate(graph.node):
            if (node.domain, node.op_type) in local_functions:
                continue
            domain = node.domain or "ai.onnx"
            where = _node_label(graph, index, node, model.graph)
            if domain not in opsets:
                raise ModelError(p, f"operator '{node.op_type}' at {where} uses domain '{domain}' but the model "
                                    "imports no opset for it")
            problem = _operator_problem(node.op_type, domain, opsets[domain])
            if problem:
                raise ModelError(p, f"{problem} at {where}")


def _operator_problem(op: str, domain: str, version: int) -> str | None:
    if domain in ONNX_DOMAINS:
        schema_domain = ONNX_DOMAINS[domain]
        try:
            onnx.defs.get_schema(op, version, schema_domain)
            return None
        except onnx.defs.SchemaError:
            pass
        if onnx.defs.has(op, schema_domain):
            first = min(s.since_version for s in onnx.defs.get_all_schemas_with_history()
                        if s.name == op and s.domain == schema_domain)
            return f"operator '{op}' needs {domain} opset >= {first} but the model imports opset {version}"
        return f"unknown operator '{op}' (domain {domain}, opset {version})"
    known = _onnxruntime_ops()
    if domain in known:
        if op in known[domain]:
            return None
        return f"unknown operator '{op}' (onnxruntime domain {domain}, opset {version})"
    if known == {} and domain.startswith("com.microsoft"):
        return None  # this onnxruntime build does not list its schemas; let the runtime decide
    return (f"unknown operator '{op}' (custom domain '{domain}', opset {version}; not an ONNX or onnxruntime op, "
            "it needs a custom-op library)")


@functools.cache
def _onnxruntime_ops() -> dict[str, frozenset[str]]:
    """Contrib/internal op names per domain from the installed onnxruntime ({} if it cannot tell us)."""
    try:
        from onnxruntime.capi import onnxruntime_pybind11_state as ort_c

        schemas = ort_c.get_all_operator_schema()
    except (ImportError, AttributeError, RuntimeError):
        return {}
    by_domain: dict[str, set[str]] = {}
    for schema in schemas:
        if schema.domain not in ("", *ONNX_DOMAINS):
            by_domain.setdefault(schema.domain, set()).add(schema.name)
    return {d: frozenset(names) for d, names in by_domain.items()}


def run_checker(p: Path, model: ModelProto, by_path: bool = False) -> None:
    """onnx.checker (structure, types, SSA); by path when external data was not loaded into the proto."""
    try:
        onnx.checker.check_model(str(p) if by_path else model)
    except (onnx.checker.ValidationError, ValueError, RuntimeError) as exc:
        raise ModelError(p, f"fails the ONNX checker: {_checker_line(str(exc))}") from None


def _checker_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return "no details given"
    head = lines[0]
    context = next((ln.split("==> Context:", 1)[1].strip() for ln in lines if "==> Context:" in ln), "")
    return _one_line(f"{head} ({context})" if context else head)


def _one_line(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= _MAX_PROBLEM_CHARS else text[:_MAX_PROBLEM_CHARS - 1] + "…"
