"""Fidelity: deterministic inputs from the signature, output metrics, FLOP counts, evaluator plugin."""
from __future__ import annotations

import math

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from workbench.core.errors import InputSpecError
from workbench.core.passes import fidelity as fid
from workbench.core.passes.flops import count_macs
from tests.plugins.helpers import demo_models, mask_net, small_cnn, text_encoder


def test_image_inputs_are_deterministic_and_in_unit_range(tmp_path):
    m = onnx.load(str(small_cnn(tmp_path / "c.onnx", dynamic_spatial=True)))
    a = fid.generate_inputs(m, samples=2, seed=7)
    b = fid.generate_inputs(m, samples=2, seed=7)
    x = a[0]["image"]
    assert x.shape == (1, 3, 224, 224) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0
    np.testing.assert_array_equal(a[1]["image"], b[1]["image"])
    assert not np.array_equal(a[0]["image"], a[1]["image"])
    assert not np.array_equal(a[0]["image"], fid.generate_inputs(m, samples=1, seed=8)[0]["image"])


def test_token_inputs_use_vocab_from_metadata(tmp_path):
    m = onnx.load(str(text_encoder(tmp_path / "t.onnx", vocab=50)))
    feeds = fid.generate_inputs(m, samples=3)
    for f in feeds:
        assert f["input_ids"].shape == (1, 16) and f["input_ids"].dtype == np.int64
        assert f["input_ids"].min() >= 0 and f["input_ids"].max() < 50
        assert (f["attention_mask"] == 1).all()
    del m.metadata_props[:]
    ids = np.concatenate([f["input_ids"] for f in fid.generate_inputs(m, samples=5)])
    assert ids.max() == 49  # no declared vocab: the 50-row embedding table bounds the ids (ORT rejects more)
    helper.set_model_props(m, {"vocab_size": "10000"})
    assert max(f["input_ids"].max() for f in fid.generate_inputs(m, samples=5)) < 50  # the table wins too


def test_state_inputs_are_zero_and_shapes_can_be_given():
    g = helper.make_graph(
        [helper.make_node("Add", ["x", "hidden_state"], ["y"])], "rnn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4]),
         helper.make_tensor_value_info("hidden_state", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    f = fid.generate_inputs(m)[0]
    assert (f["hidden_state"] == 0).all() and f["x"].any()
    given = fid.generate_inputs(m, shapes={"x": [1, 4], "hidden_state": [1, 4]})[0]
    np.testing.assert_array_equal(given["x"], f["x"])


def test_identity_is_exact_and_classifier_metrics_appear(tmp_path):
    path = small_cnn(tmp_path / "c.onnx")
    feeds = fid.generate_inputs(onnx.load(str(path)), samples=4)
    out = fid.run_model(path, feeds)
    cmp = fid.compare_outputs(out, out)["outputs"]["scores"]
    assert cmp["cosine"] == 1.0 and cmp["snr_db"] == "inf" and cmp["max_abs"] == 0.0 and cmp["mean_abs"] == 0.0
    assert cmp["top1"] == 1.0 and cmp["top5"] == 1.0


def test_compare_arrays_numbers():
    ref = np.array([[3.0, 2.0, 1.0] + [0.0] * 9])
    got = ref.copy()
    got[0, 0], got[0, 1] = 1.0, 2.5  # top-1 flips to class 1
    m = fid.compare_arrays(ref, got)
    assert m["top1"] == 0.0 and m["max_abs"] == 2.0 and math.isclose(m["mean_abs"], 2.5 / 12)
    assert math.isclose(m["snr_db"], 10 * math.log10(14 / 4.25), rel_tol=1e-4)
    assert m["cosine"] < 0.9
    assert fid.compare_arrays(ref, ref * 2)["cosine"] == pytest.approx(1.0)
    assert "error" in fid.compare_arrays(ref, ref[:, :5])


def test_masks_get_iou(tmp_path):
    path = mask_net(tmp_path / "m.onnx")
    feeds = fid.generate_inputs(onnx.load(str(path)), samples=2)
    out = fid.run_model(path, feeds)
    same = fid.compare_outputs(out, out)["outputs"]["mask"]
    assert same["iou"] == 1.0
    flipped = [{"mask": 1.0 - o["mask"]} for o in out]
    assert fid.compare_outputs(out, flipped)["outputs"]["mask"]["iou"] < 0.5


def test_perturbed_weights_lower_fidelity(store, cnn):
    root = store.register_root(cnn)
    v, _ = store.derive(root, "sample-scale", {"factor": 1.3, "min_rank": 4})  # only the conv kernel
    s = v.fidelity["vs_root"]["summary"]
    assert s["cosine"] < 0.9999 and isinstance(s["snr_db"], float) and s["max_abs"] > 0
    assert v.fidelity["inputs"]["image"] == {"shape": [1, 3, 32, 32], "dtype": "float32", "source": "generated"}
    assert v.fidelity["samples"] == 3


def test_user_inputs_from_folder(tmp_path):
    m = onnx.load(str(small_cnn(tmp_path / "c.onnx")))
    d = tmp_path / "inputs"
    d.mkdir()
    np.savez(d / "a.npz", image=np.zeros((1, 3, 32, 32), np.float32))
    np.savez(d / "b.npz", image=np.ones((1, 3, 32, 32), np.float32))
    got = fid.load_inputs(d, m)
    assert len(got) == 2 and got[1]["image"].max() == 1.0
    np.savez(d / "c.npz", other=np.ones(3))
    with pytest.raises(InputSpecError, match=r"c\.npz: missing input\(s\) image"):
        fid.load_inputs(d, m)
    with pytest.raises(InputSpecError, match="not a folder"):
        fid.load_inputs(tmp_path / "nope", m)


def test_macs_from_shapes(tmp_path):
    rep = count_macs(onnx.load(str(small_cnn(tmp_path / "c.onnx"))))
    assert rep.per_op == {"Conv": 8 * 32 * 32 * 27, "Gemm": 10 * 8} and rep.unknown == []
    assert rep.flops == 2 * rep.macs
    dyn = count_macs(onnx.load(str(small_cnn(tmp_path / "d.onnx", dynamic_spatial=True))))
    assert dyn.per_op["Conv"] == 8 * 224 * 224 * 27 and dyn.input_shapes["image"] == [1, 3, 224, 224]
    fixed = count_macs(onnx.load(str(small_cnn(tmp_path / "e.onnx", dynamic_spatial=True))),
                       shapes={"image": [2, 3, 64, 64]})
    assert fixed.per_op["Conv"] == 2 * 8 * 64 * 64 * 27
    txt = count_macs(onnx.load(str(text_encoder(tmp_path / "t.onnx"))))
    assert txt.per_op == {"MatMul": 16 * 8 * 8}


def test_folder_top1_evaluator(tmp_path):
    from workbench.core.plugins import PluginRegistry

    model = small_cnn(tmp_path / "c.onnx")
    reg = PluginRegistry()
    ev = reg.load(reg.find("evaluators", "top1-folder")).obj()
    feeds = fid.generate_inputs(onnx.load(str(model)), samples=6)
    preds = [int(np.argmax(o["scores"])) for o in fid.run_model(model, feeds)]
    good, bad = tmp_path / "good", tmp_path / "bad"
    for i, (f, p) in enumerate(zip(feeds, preds)):
        for root, label in ((good, p), (bad, (p + 1) % 10)):
            (root / str(label)).mkdir(parents=True, exist_ok=True)
            np.save(root / str(label) / f"s{i}.npy", f["image"][0])  # without the batch axis
    assert ev.evaluate(model, good, fid.EvalContext()) == {"top1": 1.0, "top5": 1.0, "samples": 6.0}
    assert ev.evaluate(model, bad, fid.EvalContext())["top1"] == 0.0
    with pytest.raises(InputSpecError, match="one sub-folder per class"):
        ev.evaluate(model, tmp_path / "empty", fid.EvalContext())


@pytest.mark.parametrize("path", demo_models(), ids=lambda p: p.name)
def test_demo_models_identity_fidelity(store, path):
    root = store.register_root(path)
    v, _ = store.derive(root, "sample-identity")
    assert "error" not in v.fidelity, v.fidelity
    s = v.fidelity["vs_parent"]["summary"]
    assert s["cosine"] == 1.0 and s["snr_db"] == "inf"


def test_macs_of_fused_ops_use_runtime_shapes_when_inference_cannot():
    """ORT's com.microsoft FusedConv has no ONNX shape inference: its shapes come from one real run."""
    w = onnx.numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "w")
    node = helper.make_node("FusedConv", ["x", "w"], ["y"], domain="com.microsoft", activation="Relu", pads=[1, 1, 1, 1])
    g = helper.make_graph([node], "fused", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "H", "W"])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)], ir_version=8)
    rep = count_macs(m, shapes={"x": [1, 3, 10, 12]})
    assert rep.unknown == [] and rep.per_op == {"FusedConv": 4 * 10 * 12 * 27}


def test_pinned_variant_shapes_drive_the_generated_inputs(tmp_path):
    dyn = small_cnn(tmp_path / "dyn.onnx", dynamic_spatial=True)
    m = onnx.load(str(dyn))
    for d, v in zip(m.graph.input[0].type.tensor_type.shape.dim, (2, 3, 40, 48)):
        d.ClearField("dim_param")
        d.dim_value = v
    pinned = tmp_path / "pinned.onnx"
    onnx.save(m, str(pinned))
    rep = fid.measure(pinned, dyn, dyn, samples=2)
    assert rep.inputs["image"]["shape"] == [2, 3, 40, 48]
    assert rep.vs_root["summary"]["cosine"] == 1.0 and rep.vs_parent["summary"]["top1"] == 1.0
