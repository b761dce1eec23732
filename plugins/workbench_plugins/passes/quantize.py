"""int8-dynamic and int8-static: onnxruntime.quantization, with the clean-up real exports need first.

Before quantizing: Constant-node weights become initializers (the quantizer only sees initializers),
BatchNorm is folded into Conv, quant_pre_process runs shape inference, and per-channel QDQ gets the
opset 13 it needs. After quantizing, the weights are checked to really be int8: a "quantized" variant
that silently kept fp32 weights is refused instead of shown as a win.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import onnx
from onnx import TensorProto
from pydantic import Field

from workbench.api import Categorical, Pass, PassContext, PassOutput, PassParams, PassRefused, SearchSpace

from . import _data, _graph

INT8_TYPES = (TensorProto.INT8, TensorProto.UINT8)
# ORT's integer kernels: what a weight must feed to be quantizable.
QUANTIZABLE = {"Conv", "MatMul", "Gemm", "ConvTranspose", "Gather", "Attention", "LSTM", "EmbedLayerNormalization"}


class _Common(PassParams):
    per_channel: bool = Field(True, description="One scale per output channel (better accuracy on convs).")
    op_types_to_quantize: list[str] = Field(default_factory=list,
                                            description="Only these op types (empty: onnxruntime's default set).")
    nodes_to_exclude: list[str] = Field(default_factory=list, description="Node names to keep in float.")
    float_output_softmax: bool = Field(True, description="Keep a Softmax/LogSoftmax that produces a model "
                                       "output in float: uint8 probabilities over many classes lose most detail.")
    reduce_range: bool = Field(False, description="7-bit weights, for old x86 CPUs without VNNI (overflow-safe).")
    preprocess: bool = Field(True, description="Run onnxruntime quant_pre_process (shape inference, graph "
                                               "optimization) first; skipped with a note if it fails.")


class Int8DynamicPass(Pass):
    """Weights int8 offline, activations quantized at run time: no calibration data needed."""

    id = "int8-dynamic"
    title = "Int8 dynamic quantization"
    description = ("onnxruntime quantize_dynamic. Good for MatMul-heavy models (transformers, RNNs); on conv "
                   "nets ConvInteger is often several times SLOWER than fp32 on CPUs - prefer int8-static there.")
    precision = "int8"

    class Params(_Common):
        weight_type: Literal["int8", "uint8"] = Field("int8", description="Weight integer type.")

    search_space = SearchSpace(dims={"per_channel": Categorical(choices=[True, False])})

    def apply(self, model: onnx.ModelProto, params: PassParams, ctx: PassContext) -> PassOutput:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        p = self.Params.model_validate(params.model_dump())
        prepared, notes, before = _prepare(self.id, model, p, ctx, needs_opset13=False)
        out_path = ctx.work_dir / "int8_dynamic.onnx"
        ctx.progress(0.5, 1.0, "quantizing weights")
        try:
            quantize_dynamic(
                prepared, out_path, op_types_to_quantize=p.op_types_to_quantize or None, per_channel=p.per_channel,
                reduce_range=p.reduce_range,
                weight_type=QuantType.QInt8 if p.weight_type == "int8" else QuantType.QUInt8,
                nodes_to_exclude=p.nodes_to_exclude or None)
        except Exception as err:  # noqa: BLE001 - the quantizer raises bare Exceptions and ValueErrors
            raise PassRefused(self.id, f"quantize_dynamic failed: {_first_line(err)}") from err
        out = onnx.load(str(out_path))
        if any(n.op_type == "ConvInteger" for n in out.graph.node):
            notes.append("Conv became ConvInteger: on most CPUs this is slower than fp32 Conv; "
                         "benchmark it, and prefer int8-static (QDQ) for conv nets")
        return _finish(self.id, out, notes, before)


class Int8StaticPass(Pass):
    """Weights and activations int8 with scales from calibration data; the fast int8 path on CPUs/NPUs."""

    id = "int8-static"
    title = "Int8 static quantization"
    description = ("onnxruntime quantize_static (QDQ or QOperator) calibrated on ctx.calibration_dir "
                   "(.npy/.npz per input, or images), else on generated data with a loud warning.")
    precision = "int8"

    class Params(_Common):
        format: Literal["QDQ", "QOperator"] = Field("QDQ", description="QDQ: Quantize/DequantizeLinear pairs "
                                                    "(portable, what NNAPI/QNN/XNNPACK want); QOperator: QLinear* ops.")
        types: Literal["U8S8", "S8S8"] = Field("U8S8", description="Activation/weight types: U8S8 (uint8 "
                                               "activations, int8 weights; fastest on x86) or S8S8.")
        calibration_method: Literal["MinMax", "Entropy", "Percentile"] = Field(
            "MinMax", description="How activation ranges are chosen from calibration data.")
        calibration_samples: int = Field(16, ge=1, le=10000, description="Max calibration samples used.")
        calib_hw: int = Field(224, ge=8, le=4096, description="H and W for dynamic image inputs during calibration.")
        calib_seq_len: int = Field(16, ge=1, le=100000, description="Size of other dynamic dims (e.g. tokens).")

    search_space = SearchSpace(dims={
        "per_channel": Categorical(choices=[True, False]),
        "types": Categorical(choices=["U8S8", "S8S8"]),
        "calibration_method": Categorical(choices=["MinMax", "Entropy", "Percentile"]),
    })

    def apply(self, model: onnx.ModelProto, params: PassParams, ctx: PassContext) -> PassOutput:
        from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

        p = self.Params.model_validate(params.model_dump())
        needs13 = p.per_channel and p.format == "QDQ"
        prepared, notes, before = _prepare(self.id, model, p, ctx, needs_opset13=needs13)
        specs = _data.input_specs(prepared, hw=p.calib_hw, seq_len=p.calib_seq_len)
        if ctx.calibration_dir is not None:
            samples = _data.load_folder(Path(ctx.calibration_dir), specs, p.calibration_samples)
            notes.append(f"calibrated on {len(samples)} samples from {ctx.calibration_dir}")
        else:
            samples = _data.generate(specs, p.calibration_samples, seed=0)
            msg = (f"NO CALIBRATION DATA: int8-static calibrated on {len(samples)} GENERATED random samples; "
                   "activation ranges (and accuracy) may be far off - give a calibration folder")
            ctx.warn(msg)
            notes.append(msg)
        reader = _Reader(samples, ctx, self.id)
        act, weight = (QuantType.QUInt8, QuantType.QInt8) if p.types == "U8S8" else (QuantType.QInt8, QuantType.QInt8)
        out_path = ctx.work_dir / "int8_static.onnx"
        try:
            quantize_static(
                prepared, out_path, reader,
                quant_format=QuantFormat.QDQ if p.format == "QDQ" else QuantFormat.QOperator,
                op_types_to_quantize=p.op_types_to_quantize or None, per_channel=p.per_channel,
                reduce_range=p.reduce_range, activation_type=act, weight_type=weight,
                nodes_to_exclude=p.nodes_to_exclude or None,
                calibrate_method=getattr(CalibrationMethod, p.calibration_method),
                extra_options={"CalibTensorRangeSymmetric": False} if p.types == "U8S8" else {})
        except PassRefused:
            raise
        except Exception as err:  # noqa: BLE001
            raise PassRefused(self.id, f"quantize_static failed: {_first_line(err)}") from err
        notes.append(f"{p.format} {p.types}, per_channel={p.per_channel}, {p.calibration_method} calibration")
        return _finish(self.id, onnx.load(str(out_path)), notes, before)


class _Reader:
    """onnxruntime CalibrationDataReader over in-memory samples; reports progress, honours cancel."""

    def __init__(self, samples: list[dict[str, np.ndarray]], ctx: PassContext, pass_id: str) -> None:
        self._samples = samples
        self._i = 0
        self._ctx = ctx
        self._pass_id = pass_id

    def get_next(self) -> dict[str, np.ndarray] | None:
        self._ctx.check_cancelled(self._pass_id)
        if self._i >= len(self._samples):
            return None
        self._ctx.progress(self._i, len(self._samples), "calibrating")
        self._i += 1
        return self._samples[self._i - 1]

    def rewind(self) -> None:
        self._i = 0

    def __len__(self) -> int:
        return len(self._samples)


def _prepare(pass_id: str, model: onnx.ModelProto, p: _Common, ctx: PassContext,
             needs_opset13: bool) -> tuple[onnx.ModelProto, list[str], list[str]]:
    """Copy and clean the model for the quantizer; returns (model, notes, float weight names)."""
    out, notes = _graph.prepared_copy(model, fold_bn=True)
    version = _graph.opset_version(out)
    if needs_opset13 and version < 13:
        try:
            out = _graph.upgrade_opset(out, 13)
        except Exception as err:  # noqa: BLE001
            raise PassRefused(pass_id, f"per-channel QDQ needs opset 13 and the upgrade from {version} failed: "
                                       f"{_first_line(err)}; try per_channel=false") from err
        notes.append(f"upgraded opset {version} -> 13 (per-channel QDQ needs QuantizeLinear axis)")
    weights = [w for w in _graph.weight_names(out.graph)
               if _graph.initializer_map(out.graph)[w].data_type == TensorProto.FLOAT]
    if not weights:
        raise PassRefused(pass_id, "model has no float32 Conv/Gemm/MatMul weights to quantize")
    if p.preprocess:
        from onnxruntime.quantization.shape_inference import quant_pre_process

        pre_path = ctx.work_dir / f"{pass_id}_pre.onnx"
        try:
            quant_pre_process(out, str(pre_path), skip_symbolic_shape=False)
            out = onnx.load(str(pre_path))
            notes.append("quant_pre_process: shape inference + graph optimization")
        except Exception as err:  # noqa: BLE001 - symbolic shape inference fails on some control flow
            notes.append(f"quant_pre_process skipped ({_first_line(err)[:120]})")
    if p.float_output_softmax:
        outputs = {o.name for o in out.graph.output}
        keep = [n.name for n in out.graph.node if n.op_type in ("Softmax", "LogSoftmax") and set(n.output) & outputs]
        if keep:
            p.nodes_to_exclude = sorted(set(p.nodes_to_exclude) | set(keep))
            notes.append(f"kept output {', '.join(keep)} in float (float_output_softmax)")
    ctx.check_cancelled(pass_id)
    return out, notes, weights


def _finish(pass_id: str, out: onnx.ModelProto, notes: list[str], float_weights: list[str]) -> PassOutput:
    """Check the weights really became int8; refuse if none did, name the ones left in float."""
    inits = _graph.initializer_map(out.graph)
    int8 = [t for t in out.graph.initializer if t.data_type in INT8_TYPES and len(t.dims) >= 2]
    left = [w for w in _graph.weight_names(out.graph) if inits[w].data_type == TensorProto.FLOAT]
    if not int8:
        ops = sorted({n.op_type for n in out.graph.node if n.op_type in _graph.WEIGHT_INPUTS})
        raise PassRefused(pass_id, f"no weights were quantized (weight ops {ops or 'none'} were not "
                                   "quantized: excluded, unsupported or in a subgraph)")
    if left:
        notes.append(f"{len(left)} weight tensor(s) stayed fp32 (not quantized): {', '.join(left[:5])}")
    _graph.check_loads(out, pass_id)
    fp32_bytes = _graph.tensor_bytes(out, [TensorProto.FLOAT])
    int8_bytes = sum(int(np.prod(t.dims)) for t in int8)
    notes.append(f"{len(int8)} int8 weight tensors ({int8_bytes / 1e6:.2f} MB); fp32 initializers left "
                 f"{fp32_bytes / 1e6:.2f} MB")
    return PassOutput(out, notes=notes, metrics={
        "int8_weights": float(len(int8)), "fp32_weights_left": float(len(left)),
        "int8_weight_bytes": float(int8_bytes), "fp32_bytes_left": float(fp32_bytes),
        "float_weights_before": float(len(float_weights))})


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return (text.splitlines()[0] if text else type(err).__name__)[:300]
