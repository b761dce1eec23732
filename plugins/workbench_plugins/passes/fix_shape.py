"""fix-shape: pin dynamic input dims (batch, H, W, named dims) so mobile runtimes can plan memory once."""
from __future__ import annotations

import onnx
from pydantic import Field

from workbench.api import IntRange, Pass, PassContext, PassOutput, PassParams, PassRefused, SearchSpace

from . import _graph


class FixShapePass(Pass):
    """Pinned shapes let NNAPI/XNNPACK and ORT's planner pre-allocate; dynamic ones force re-planning."""

    id = "fix-shape"
    title = "Fix input shapes"
    description = ("Pin dynamic axes of the inputs (batch, height/width of 4-D NCHW inputs, or any named dim) "
                   "and re-run shape inference.")

    class Params(PassParams):
        batch: int | None = Field(1, ge=1, description="Value for a dynamic axis 0 of every input (None: leave).")
        height: int | None = Field(None, ge=1, description="Value for a dynamic axis 2 of 4-D inputs.")
        width: int | None = Field(None, ge=1, description="Value for a dynamic axis 3 of 4-D inputs.")
        dims: dict[str, int] = Field(default_factory=dict,
                                     description="Named dynamic dims (dim_param) to pin, e.g. {'seq': 128}.")
        other: int | None = Field(None, ge=1, description="Value for every other dynamic dim (e.g. sequence length).")
        pin_remaining: bool = Field(
            True, description="Refuse if any input dim is still dynamic afterwards (so the output is fully static).")

    search_space = SearchSpace(dims={"height": IntRange(low=96, high=512, step=32),
                                     "width": IntRange(low=96, high=512, step=32)})

    def apply(self, model: onnx.ModelProto, params: PassParams, ctx: PassContext) -> PassOutput:
        p = self.Params.model_validate(params.model_dump())
        out = _graph.copy_model(model)
        graph = out.graph
        init_names = {t.name for t in graph.initializer}
        inputs = [i for i in graph.input if i.name not in init_names]
        named = {d.dim_param for i in inputs for d in i.type.tensor_type.shape.dim if d.dim_param}
        for name in p.dims:
            if name not in named:
                raise PassRefused(self.id, f"dim '{name}' is not a dynamic dim of any input "
                                           f"(dynamic dims: {sorted(named) or 'none'})")
        wanted = {"batch": (p.batch, None), "height": (p.height, 2), "width": (p.width, 3)}
        used = {k: False for k in wanted}
        pinned = 0
        notes: list[str] = []
        # Pin every occurrence of a dim_param consistently: the same symbol means the same size.
        symbol_values: dict[str, int] = dict(p.dims)
        for inp in inputs:
            dims = inp.type.tensor_type.shape.dim
            for axis, d in enumerate(dims):
                if d.HasField("dim_value") and d.dim_value > 0:
                    continue
                for key, (value, want_axis) in wanted.items():
                    if value is None:
                        continue
                    if (key == "batch" and axis == 0) or (len(dims) == 4 and axis == want_axis):
                        used[key] = True
                        if d.dim_param:
                            symbol_values.setdefault(d.dim_param, value)
                        else:
                            d.dim_value = value
                            pinned += 1
        for key, (value, _) in wanted.items():
            if value is not None and not used[key] and key != "batch":
                raise PassRefused(self.id, f"{key} is not dynamic in any input, nothing to pin")
        if p.batch is not None and not used["batch"]:
            notes.append("batch is already fixed")
        for inp in inputs:
            for d in inp.type.tensor_type.shape.dim:
                if d.HasField("dim_value") and d.dim_value > 0:
                    continue
                value = symbol_values.get(d.dim_param) if d.dim_param else None
                if value is None and p.other is not None:
                    value = p.other
                    if d.dim_param:
                        symbol_values[d.dim_param] = value
                if value is not None:
                    d.dim_value = value  # setting dim_value clears dim_param (a protobuf oneof)
                    pinned += 1
        if pinned == 0:
            raise PassRefused(self.id, "no input has a dynamic dim to pin: the model is already static")
        left = [f"{i.name}[{a}]" for i in inputs for a, d in enumerate(i.type.tensor_type.shape.dim)
                if not (d.HasField("dim_value") and d.dim_value > 0)]
        if left and p.pin_remaining:
            raise PassRefused(self.id, f"input dims still dynamic: {', '.join(left)}; give values for them "
                                       "(batch/height/width/dims) or set pin_remaining=false")
        _graph.strip_value_info(out)
        for o in graph.output:
            o.type.tensor_type.ClearField("shape")
        try:
            out = onnx.shape_inference.infer_shapes(out, strict_mode=False, data_prop=True)
        except Exception as err:  # noqa: BLE001
            raise PassRefused(self.id, f"shape inference failed with the pinned shapes: {str(err)[:300]}") from err
        unknown = 0
        for vi in list(out.graph.output) + list(out.graph.value_info):
            for d in vi.type.tensor_type.shape.dim:
                if d.dim_param:  # a symbol inference could not resolve: an honest "unknown" is better
                    d.ClearField("dim_param")
                    unknown += 1
        shapes = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in inputs}
        notes.insert(0, "pinned inputs: " + ", ".join(f"{n}={s}" for n, s in shapes.items()))
        if unknown:
            notes.append(f"{unknown} intermediate/output dims could not be inferred and are left unknown")
        _graph.check_loads(out, self.id)
        return PassOutput(out, notes=notes, metrics={"dims_pinned": pinned})
