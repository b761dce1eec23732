"""Shared test helpers for plugins, variants and fidelity: the sample plugin install and small real models.

Loaded by path from each test folder's conftest (tests are not a package), so it is one module.
"""
from __future__ import annotations

import importlib
import importlib.metadata as md
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SAMPLE_DIR = Path(__file__).parent / "sample_plugin"
SAMPLE_DIST = "wb-sample-plugin"
DEMO_DIR = Path(__file__).resolve().parents[2] / "resources" / "models"


def ensure_sample_plugin() -> None:
    """pip-install the sample plugin (editable, no deps) into this interpreter's env if missing."""
    try:
        md.distribution(SAMPLE_DIST)
    except md.PackageNotFoundError:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "-e", str(SAMPLE_DIR)],
            check=True,
        )
        importlib.invalidate_caches()
    try:
        importlib.import_module("wb_sample_plugin")
    except ImportError:  # installed during this session: its .pth was not processed at start-up
        sys.path.insert(0, str(SAMPLE_DIR))
        importlib.invalidate_caches()
    from workbench.core.plugins import reset_default_registry

    reset_default_registry()


def _save(model: onnx.ModelProto, path: Path) -> Path:
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString(deterministic=True))
    return path


def small_cnn(path: Path, classes: int = 10, seed: int = 0, dynamic_spatial: bool = False) -> Path:
    """Conv-BN-free classifier: Conv(3->8) Relu GlobalAveragePool Flatten Gemm -> [N, classes] scores."""
    rng = np.random.default_rng(seed)
    hw: list = ["H", "W"] if dynamic_spatial else [32, 32]
    w = numpy_helper.from_array(rng.normal(0, 0.5, (8, 3, 3, 3)).astype(np.float32), "conv_w")
    b = numpy_helper.from_array(rng.normal(0, 0.1, (8,)).astype(np.float32), "conv_b")
    fw = numpy_helper.from_array(rng.normal(0, 0.5, (classes, 8)).astype(np.float32), "fc_w")
    fb = numpy_helper.from_array(rng.normal(0, 0.1, (classes,)).astype(np.float32), "fc_b")
    nodes = [
        helper.make_node("Conv", ["image", "conv_w", "conv_b"], ["c"], pads=[1, 1, 1, 1], name="conv"),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("GlobalAveragePool", ["r"], ["p"]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["scores"], transB=1, name="fc"),
    ]
    g = helper.make_graph(
        nodes, "cnn",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, *hw])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", classes])],
        [w, b, fw, fb],
    )
    return _save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), path)


def text_encoder(path: Path, vocab: int = 50, dim: int = 8) -> Path:
    """Embedding lookup masked by attention_mask; declares vocab_size in metadata_props."""
    rng = np.random.default_rng(1)
    emb = numpy_helper.from_array(rng.normal(0, 1, (vocab, dim)).astype(np.float32), "emb")
    proj = numpy_helper.from_array(rng.normal(0, 1, (dim, dim)).astype(np.float32), "proj")
    nodes = [
        helper.make_node("Gather", ["emb", "input_ids"], ["e"]),
        helper.make_node("Cast", ["attention_mask"], ["m"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["m", "axes"], ["m3"]),
        helper.make_node("Mul", ["e", "m3"], ["em"]),
        helper.make_node("MatMul", ["em", "proj"], ["hidden"]),
    ]
    axes = numpy_helper.from_array(np.array([-1], dtype=np.int64), "axes")
    g = helper.make_graph(
        nodes, "text",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "seq", dim])],
        [emb, proj, axes],
    )
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    helper.set_model_props(m, {"vocab_size": str(vocab)})
    return _save(m, path)


def mask_net(path: Path) -> Path:
    """Conv + Sigmoid -> [N, 1, H, W] in [0, 1]: a segmentation-mask-like output."""
    rng = np.random.default_rng(2)
    w = numpy_helper.from_array(rng.normal(0, 1, (1, 3, 3, 3)).astype(np.float32), "w")
    nodes = [helper.make_node("Conv", ["image", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Sigmoid", ["c"], ["mask"])]
    g = helper.make_graph(
        nodes, "mask",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("mask", TensorProto.FLOAT, [1, 1, 16, 16])],
        [w],
    )
    return _save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), path)


def constant_weights_model(path: Path) -> Path:
    """MatMul whose weight is a Constant node inside an If branch (PyTorch-style export)."""
    wv = np.arange(16, dtype=np.float32).reshape(4, 4) / 10
    then_g = helper.make_graph(
        [helper.make_node("Constant", [], ["w_then"], value=numpy_helper.from_array(wv, "w_then")),
         helper.make_node("MatMul", ["x", "w_then"], ["y_then"])],
        "then", [], [helper.make_tensor_value_info("y_then", TensorProto.FLOAT, [1, 4])],
    )
    else_g = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y_else"])],
        "else", [], [helper.make_tensor_value_info("y_else", TensorProto.FLOAT, [1, 4])],
    )
    nodes = [
        helper.make_node("Constant", [], ["flag"], value=numpy_helper.from_array(np.array(True), "flag")),
        helper.make_node("If", ["flag"], ["y"], then_branch=then_g, else_branch=else_g),
    ]
    g = helper.make_graph(nodes, "cw", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    return _save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), path)


def demo_models() -> list[Path]:
    """The project's generated demo models, when another task has produced them."""
    return sorted(DEMO_DIR.glob("*.onnx")) if DEMO_DIR.is_dir() else []
