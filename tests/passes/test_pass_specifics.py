"""What each pass promises beyond "it runs": precision really changed, MACs really dropped, shapes pinned."""
from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto

from workbench.api import ModelError, PassContext, PassRefused
from workbench_plugins.passes import _data
from workbench_plugins.passes.fix_shape import FixShapePass
from workbench_plugins.passes.fold import FoldBatchNormPass
from workbench_plugins.passes.fp16 import Fp16Pass
from workbench_plugins.passes.prune_channels import PruneChannelsPass
from workbench_plugins.passes.prune_magnitude import PruneMagnitudePass
from workbench_plugins.passes.quantize import Int8DynamicPass, Int8StaticPass

from conftest import load

WEIGHT_OPS = {"Conv": 1, "Gemm": 1, "MatMul": 1}


def weights(model: onnx.ModelProto) -> list[onnx.TensorProto]:
    inits = {t.name: t for t in model.graph.initializer}
    return [inits[n.input[i]] for n in model.graph.node for op, i in WEIGHT_OPS.items()
            if n.op_type == op and len(n.input) > i and n.input[i] in inits]


def outputs(model: onnx.ModelProto, hw: int = 32) -> list[np.ndarray]:
    feeds = _data.generate(_data.input_specs(model, hw=hw), 1, seed=9)[0]
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feeds)


def conv_macs(model: onnx.ModelProto, hw: int) -> int:
    """Independent of the pass's own count: pin inputs, infer shapes, sum out_elems * Cin/g * kH * kW."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    del m.graph.value_info[:]
    for inp in m.graph.input:
        for i, d in enumerate(inp.type.tensor_type.shape.dim):
            if not d.dim_value:
                d.dim_value = 1 if i == 0 else hw
    m = onnx.shape_inference.infer_shapes(m)
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in m.graph.value_info}
    inits = {t.name: list(t.dims) for t in m.graph.initializer}
    inits.update({n.output[0]: list(n.attribute[0].t.dims) for n in m.graph.node if n.op_type == "Constant"})
    return sum(int(np.prod(shapes[n.output[0]])) * int(np.prod(inits[n.input[1]][1:]))
               for n in m.graph.node if n.op_type == "Conv")


@pytest.mark.parametrize("name", ["mobilenet_se", "wild_cnn", "toy_wild", "text_encoder"])
def test_fp16_weights_are_fp16_and_finite(name, ctx):
    out = Fp16Pass().apply(load(name), Fp16Pass.Params(), ctx).model
    ws = weights(out)
    assert ws and all(w.data_type == TensorProto.FLOAT16 for w in ws)
    for got in outputs(out):
        assert np.all(np.isfinite(got))


def test_fp16_huge_variance_bn_that_cannot_fold_stays_fp32(ctx):
    """toy_wild has a BN after an Add (variance ~1e6): it must stay fp32, not overflow to inf."""
    model = load("toy_wild")
    result = Fp16Pass().apply(model, Fp16Pass.Params(), ctx)
    assert result.metrics["overflowing_initializers"] >= 1 and ctx.warnings
    assert any("exceed fp16 range" in n for n in result.notes)
    ref, got = outputs(model)[0], outputs(result.model)[0]
    assert np.all(np.isfinite(got)) and np.allclose(ref, got, rtol=0.05, atol=0.05 * np.abs(ref).max())
    with pytest.raises(PassRefused, match="65504"):
        Fp16Pass().apply(model, Fp16Pass.Params(overflow="refuse"), ctx)


@pytest.mark.parametrize("name", ["wild_cnn", "mobilenet_se", "text_encoder"])
@pytest.mark.parametrize("cls", [Int8DynamicPass, Int8StaticPass])
def test_int8_weights_really_int8(name, cls, ctx):
    params = cls.Params(calibration_samples=2, calib_hw=32) if cls is Int8StaticPass else cls.Params()
    result = cls().apply(load(name), params, ctx)
    int8 = [t for t in result.model.graph.initializer
            if t.data_type in (TensorProto.INT8, TensorProto.UINT8) and len(t.dims) >= 2]
    assert int8 and result.metrics["fp32_weights_left"] == 0
    # No Conv/Gemm/MatMul may still read a float weight straight from an initializer.
    assert not [w.name for w in weights(result.model) if w.data_type == TensorProto.FLOAT]


def test_int8_static_upgrades_opset_12_for_per_channel_qdq(ctx):
    result = Int8StaticPass().apply(load("wild_cnn"), Int8StaticPass.Params(calibration_samples=2), ctx)
    assert any(i.version >= 13 for i in result.model.opset_import if i.domain in ("", "ai.onnx"))
    assert any("opset 12 -> 13" in n for n in result.notes)
    assert any("GENERATED" in w for w in ctx.warnings), "no calibration folder must warn loudly"


def test_int8_static_reads_calibration_folder(tmp_path):
    model = load("toy_wild")
    calib = tmp_path / "calib"
    calib.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        np.savez(calib / f"s{i}.npz", input=rng.random((1, 3, 32, 32), dtype=np.float32))
    ctx = PassContext(work_dir=tmp_path, calibration_dir=calib)
    result = Int8StaticPass().apply(model, Int8StaticPass.Params(), ctx)
    assert any("3 samples" in n for n in result.notes) and not ctx.warnings
    (calib / "bad.npz").write_bytes(b"")
    np.savez(calib / "bad.npz", wrong_name=np.zeros((1, 3, 32, 32), np.float32))
    with pytest.raises(ModelError, match=r"bad\.npz.*input"):
        Int8StaticPass().apply(model, Int8StaticPass.Params(), ctx)


def test_int8_refuses_when_nothing_quantizable(ctx):
    with pytest.raises(PassRefused, match="no weights were quantized"):
        Int8DynamicPass().apply(load("recurrent_state"), Int8DynamicPass.Params(), ctx)


def test_cancel_is_honoured(ctx):
    ctx.cancel.set()
    with pytest.raises(PassRefused, match="cancelled"):
        Int8StaticPass().apply(load("toy_cnn"), Int8StaticPass.Params(calibration_samples=2, calib_hw=32), ctx)


@pytest.mark.parametrize("name,params", [("mobilenet_se", {}), ("wild_cnn", {"round_to": 1}),
                                         ("toy_cnn", {"round_to": 1}), ("toy_wild", {"round_to": 4})])
def test_prune_channels_reduces_macs_and_size(name, params, ctx):
    model = load(name)
    result = PruneChannelsPass().apply(model, PruneChannelsPass.Params(ratio=0.25, **params), ctx)
    assert conv_macs(result.model, 64) < conv_macs(model, 64)
    assert result.model.ByteSize() < model.ByteSize()
    assert result.metrics["macs_after"] < result.metrics["macs_before"]
    assert outputs(result.model, 64)[0].shape == outputs(model, 64)[0].shape


def test_prune_channels_prunes_through_concat_and_the_classifier_head(ctx):
    """toy_cnn: the residual group and the Resize branch meet in a channel Concat (pruned at shifted
    indices); the group reaching Flatten -> Gemm is pruned too (the Gemm loses the matching columns)."""
    result = PruneChannelsPass().apply(load("toy_cnn"), PruneChannelsPass.Params(round_to=1), ctx)
    assert any(n.startswith("pruned Conv_3+Conv_54:") for n in result.notes), result.notes
    assert any(n.startswith("pruned Conv_66:") for n in result.notes), result.notes
    assert any(n.startswith("pruned Conv_77:") for n in result.notes), result.notes
    assert not [n for n in result.notes if n.startswith("left ") and "Flatten" in n]


def test_prune_channels_refuses_transformer(ctx):
    with pytest.raises(PassRefused, match="no prunable Conv"):
        PruneChannelsPass().apply(load("text_encoder"), PruneChannelsPass.Params(), ctx)


def test_prune_magnitude_sparsity_and_compression(ctx):
    result = PruneMagnitudePass().apply(load("mobilenet_se"), PruneMagnitudePass.Params(sparsity=0.6), ctx)
    assert abs(result.metrics["sparsity"] - 0.6) < 0.01
    assert result.metrics["compressed_bytes"] < result.metrics["compressed_bytes_before"]
    assert any("no speed" in n for n in result.notes)
    glob = PruneMagnitudePass().apply(load("mobilenet_se"), PruneMagnitudePass.Params(sparsity=0.6, scope="global"),
                                      ctx)
    assert abs(glob.metrics["sparsity"] - 0.6) < 0.01


@pytest.mark.parametrize("name,params", [("mobilenet_se", {"height": 96, "width": 96}),
                                         ("text_encoder", {"dims": {"sequence": 12}}),
                                         ("recurrent_state", {"other": 5})])
def test_fix_shape_leaves_no_dim_param(name, params, ctx):
    out = FixShapePass().apply(load(name), FixShapePass.Params(**params), ctx).model
    for vi in list(out.graph.input) + list(out.graph.output) + list(out.graph.value_info):
        assert not any(d.dim_param for d in vi.type.tensor_type.shape.dim), vi.name
    outputs(out)  # runs with the pinned shapes


def test_fix_shape_refuses_static_or_unknown_dims(ctx):
    with pytest.raises(PassRefused, match="height is not dynamic"):
        FixShapePass().apply(load("wild_cnn"), FixShapePass.Params(height=64), ctx)
    with pytest.raises(PassRefused, match="'seq' is not a dynamic dim"):
        FixShapePass().apply(load("text_encoder"), FixShapePass.Params(dims={"seq": 8}), ctx)


def test_fold_batchnorm_converts_constants_and_is_exact(ctx):
    model = load("wild_cnn")
    out = FoldBatchNormPass().apply(model, FoldBatchNormPass.Params(), ctx).model
    assert not [n for n in out.graph.node if n.op_type in ("BatchNormalization", "Constant")
                and n.output[0] in {i for m in out.graph.node if m.op_type == "Conv" for i in m.input}]
    assert sum(n.op_type == "BatchNormalization" for n in out.graph.node) == 0
    np.testing.assert_allclose(outputs(out)[0], outputs(model)[0], rtol=1e-4, atol=1e-5)
