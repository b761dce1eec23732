"""inspect_model on the demo models and on graph layouts exporters produce."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from workbench.core.models import demo_model_path, inspect_model
from workbench.core.models.inspect import tensor_info


def test_mobilenet_report() -> None:
    r = inspect_model(demo_model_path("mobilenet_se"))
    (image,) = r.inputs
    assert (image.name, image.dtype, image.shape, image.dynamic_axes) == (
        "image", "float32", ["batch", 3, "height", "width"], [0, 2, 3])
    assert [o.name for o in r.outputs] == ["logits", "probs"]
    assert r.opset_imports == {"ai.onnx": 17} and r.ir_version == 8
    assert r.weights_location == "initializers" and r.constant_node_params == 0
    for op in ("Conv", "BatchNormalization", "HardSwish", "HardSigmoid", "GlobalAveragePool", "Resize", "Concat",
               "Add", "Mul", "Clip", "Gemm", "Softmax"):
        assert op in r.op_histogram, op
    assert not r.has_control_flow and r.subgraph_count == 0
    assert r.node_count == r.main_graph_node_count == sum(r.op_histogram.values())
    assert 300_000 < r.parameter_count < 800_000


def test_text_encoder_report() -> None:
    r = inspect_model(demo_model_path("text_encoder"))
    assert [(t.name, t.dtype, t.shape) for t in r.inputs] == [
        ("input_ids", "int64", ["batch", "sequence"]), ("attention_mask", "int64", ["batch", "sequence"])]
    assert r.outputs[0].shape == ["batch", "sequence", 48] and r.outputs[0].dynamic_axes == [0, 1]
    assert r.metadata_props["vocab_size"] == "8000"
    assert r.op_histogram["LayerNormalization"] == 5 and r.op_histogram["Softmax"] == 2


def test_recurrent_report_counts_subgraph_nodes() -> None:
    r = inspect_model(demo_model_path("recurrent_state"))
    assert r.has_control_flow and r.control_flow_ops == ["If", "Loop"]
    assert r.subgraph_count == 3  # Loop body, If then, If else
    assert r.node_count > r.main_graph_node_count
    assert r.op_histogram["Tanh"] == 1 and r.op_histogram["Sqrt"] == 1  # both live only in subgraphs
    assert r.inputs[1].shape == [1, "batch", 32] and r.inputs[1].dynamic_axes == [1]


def test_wild_cnn_report() -> None:
    r = inspect_model(demo_model_path("wild_cnn"))
    assert r.weights_location == "constant nodes"
    assert r.initializer_params == 0 and r.constant_node_params > 40_000
    assert r.opset_imports == {"ai.onnx": 12} and r.ir_version == 7
    assert r.inputs[0].shape == ["batch", 3, 96, 96] and r.inputs[0].dynamic_axes == [0]


def test_report_round_trips_through_json() -> None:
    r = inspect_model(demo_model_path("recurrent_state"))
    data = json.loads(r.to_json())
    assert data["parameter_count"] == r.parameter_count
    assert data["inputs"][0] == {"name": "x", "dtype": "float32", "shape": ["batch", "time", 16],
                                 "dynamic_axes": [0, 1]}
    assert data["op_histogram"] == r.op_histogram


def test_initializers_listed_as_inputs_are_not_reported_as_inputs(tmp_path: Path, tiny_model: Callable,
                                                                  save: Callable) -> None:
    w = onnx.numpy_helper.from_array(np.ones((4, 4), np.float32), "w")
    model = tiny_model([helper.make_node("MatMul", ["x", "w"], ["y"])], initializers=[w], ir_version=3,
                       opsets={"": 9})
    model.graph.input.append(helper.make_tensor_value_info("w", TensorProto.FLOAT, [4, 4]))
    r = inspect_model(save(model, tmp_path / "old.onnx"))
    assert [t.name for t in r.inputs] == ["x"]
    assert r.initializer_params == 16


def test_mixed_weights(tmp_path: Path, tiny_model: Callable, save: Callable) -> None:
    w = onnx.numpy_helper.from_array(np.ones((4, 4), np.float32), "w")
    c = helper.make_node("Constant", [], ["b"], value=onnx.numpy_helper.from_array(np.ones((4, 4), np.float32)))
    model = tiny_model([c, helper.make_node("MatMul", ["x", "w"], ["t"]), helper.make_node("Add", ["t", "b"], ["y"])],
                       initializers=[w])
    r = inspect_model(save(model, tmp_path / "mixed.onnx"))
    assert r.weights_location == "mixed" and r.parameter_count == 32


def test_tensor_info_of_unknown_rank_and_non_tensor_types() -> None:
    unknown = helper.make_tensor_value_info("u", TensorProto.FLOAT16, None)
    info = tensor_info(unknown)
    assert (info.dtype, info.shape, info.is_dynamic) == ("float16", None, True)
    seq = helper.make_value_info("s", helper.make_sequence_type_proto(
        helper.make_tensor_type_proto(TensorProto.INT64, [None, 3])))
    assert tensor_info(seq).dtype == "sequence<int64>"
    anonymous = helper.make_tensor_value_info("a", TensorProto.FLOAT, [None, 3])
    assert tensor_info(anonymous).shape == [None, 3] and tensor_info(anonymous).dynamic_axes == [0]


def test_external_data_is_reported_not_read(tmp_path: Path, tiny_model: Callable, save: Callable) -> None:
    w = onnx.numpy_helper.from_array(np.ones((4, 4), np.float32), "w")
    model = tiny_model([helper.make_node("MatMul", ["x", "w"], ["y"])], initializers=[w])
    onnx.save(model, tmp_path / "ext.onnx", save_as_external_data=True, location="weights.bin", size_threshold=0)
    r = inspect_model(tmp_path / "ext.onnx")
    assert r.weights_location == "external data" and r.external_data_files == ["weights.bin"]
    assert r.initializer_params == 16


def test_contrib_domain_ops_are_named_with_their_domain(tmp_path: Path, tiny_model: Callable, save: Callable) -> None:
    node = helper.make_node("Gelu", ["x"], ["y"], domain="com.microsoft")
    r = inspect_model(save(tiny_model([node], opsets={"": 17, "com.microsoft": 1}), tmp_path / "contrib.onnx"))
    assert r.op_histogram == {"com.microsoft:Gelu": 1}
    assert r.opset_imports == {"ai.onnx": 17, "com.microsoft": 1}
