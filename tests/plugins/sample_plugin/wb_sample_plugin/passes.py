"""Passes of the sample plugin. Only `workbench.api`, onnx, numpy and onnxconverter-common are used."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper
from pydantic import Field

from workbench.api import FloatRange, Pass, PassContext, PassOutput, PassParams, PassRefused, SearchSpace, onnx_helpers


def _copy(model: onnx.ModelProto) -> onnx.ModelProto:
    out = onnx.ModelProto()
    out.CopyFrom(model)
    return out


class IdentityPass(Pass):
    id = "sample-identity"
    title = "Identity (sample)"
    description = "Returns the model unchanged: fidelity must be exact."

    def apply(self, model: onnx.ModelProto, params: PassParams, ctx: PassContext) -> PassOutput:
        return PassOutput(_copy(model), notes=["nothing changed"])


class ScaleWeightsPass(Pass):
    """Multiplies every float weight of rank >= min_rank (not biases): a deliberate accuracy loss."""

    id = "sample-scale"
    title = "Scale weights (sample)"
    version = "2"

    class Params(PassParams):
        factor: float = Field(1.1, gt=0, description="multiplier for weight tensors")
        min_rank: int = Field(2, ge=1, description="only tensors of at least this rank")

    search_space = SearchSpace(dims={"factor": FloatRange(low=0.5, high=2.0)})

    def apply(self, model: onnx.ModelProto, params: PassParams, ctx: PassContext) -> PassOutput:
        assert isinstance(params, self.Params)
        out = onnx_helpers.constants_to_initializers(model)
        scaled = 0
        graphs = list(onnx_helpers.iter_graphs(out))
        for gi, g in enumerate(graphs):
            ctx.check_cancelled(self.id)
            ctx.progress(gi, len(graphs), "scaling")
            for t in g.initializer:
                if t.data_type == onnx.TensorProto.FLOAT and len(t.dims) >= params.min_rank:
                    arr = numpy_helper.to_array(t) * np.float32(params.factor)
                    t.CopyFrom(numpy_helper.from_array(arr.astype(np.float32), t.name))
                    scaled += 1
        if scaled == 0:
            raise PassRefused(self.id, f"no float weights of rank >= {params.min_rank}")
        return PassOutput(out, notes=[f"scaled {scaled} tensors by {params.factor}"], metrics={"scaled": scaled})


class HalfPass(Pass):
    """Real fp16 conversion through onnxconverter-common (keeps fp32 inputs/outputs)."""

    id = "sample-half"
    title = "fp16 weights (sample)"
    precision = "fp16"

    def apply(self, model: onnx.ModelProto, params: PassParams, ctx: PassContext) -> PassOutput:
        from onnxconverter_common import float16

        out = float16.convert_float_to_float16(_copy(model), keep_io_types=True, disable_shape_infer=True)
        return PassOutput(out)


class FakeFp16Pass(Pass):
    """Claims fp16 but forgets to convert: the variant store must reject its output."""

    id = "sample-fake-fp16"
    title = "Broken fp16 (sample)"
    precision = "fp16"

    def apply(self, model: onnx.ModelProto, params: PassParams, ctx: PassContext) -> PassOutput:
        return PassOutput(_copy(model))


class NotAPass:
    """Registered in the passes group but not a Pass subclass."""


class _Raises:
    def __get__(self, obj: object, owner: type) -> str:
        raise RuntimeError("id is computed from a license server that is unreachable")


class BadAttrPass(Pass):
    id = _Raises()  # type: ignore[assignment]
    title = "Raises on attribute access (sample)"

    def apply(self, model: onnx.ModelProto, params: PassParams, ctx: PassContext) -> PassOutput:
        return PassOutput(_copy(model))
