"""Forms for the real bundled passes, built from their Params schemas, round-trip into Params."""
from __future__ import annotations

import pytest

from workbench.core.passes.registry import InvalidParams, get_pass
from workbench.core.viewmodels.pass_form import collect, display_value, form_fields, pass_form_fields


def test_kinds_from_real_pass_schemas() -> None:
    fields = {f.name: f for f in form_fields(get_pass("prune-magnitude").params_schema())}
    assert fields["sparsity"].kind == "float" and fields["sparsity"].minimum == 0.0
    assert fields["sparsity"].maximum == 1.0
    assert fields["scope"].kind == "enum" and set(fields["scope"].choices) == {"global", "per_layer"}
    assert fields["op_types"].kind == "list"
    shape = {f.name: f for f in form_fields(get_pass("fix-shape").params_schema())}
    assert shape["batch"].kind == "int" and shape["batch"].nullable and shape["batch"].default == 1
    assert {f.kind for f in form_fields(get_pass("fp16").params_schema())} >= {"bool", "list"}


def test_collect_validates_and_names_bad_values() -> None:
    cls = get_pass("prune-magnitude")
    fields = form_fields(cls.params_schema())
    p = collect(cls, fields, {"sparsity": "0.7", "scope": "global", "op_types": "Conv, Gemm"})
    assert p.sparsity == 0.7 and p.scope == "global" and p.op_types == ["Conv", "Gemm"]
    with pytest.raises(InvalidParams, match="prune-magnitude: sparsity: 'lots' is not a valid float"):
        collect(cls, fields, {"sparsity": "lots"})
    with pytest.raises(InvalidParams, match="prune-magnitude: sparsity"):
        collect(cls, fields, {"sparsity": "1.5"})  # outside the schema's range: pydantic's message
    shape_cls = get_pass("fix-shape")
    sf = form_fields(shape_cls.params_schema())
    assert collect(shape_cls, sf, {"batch": ""}).batch is None  # blank nullable -> None ("leave")
    full = {x.name: x for x in pass_form_fields(cls)}
    assert full["op_types"].default and "Conv" in full["op_types"].default  # from default_factory
    f = next(x for x in fields if x.name == "op_types")
    assert display_value(f, ["Conv", "Gemm"]) == "Conv, Gemm"
