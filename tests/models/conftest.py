"""Fixtures: the committed demo models and a set of deliberately broken model files (built here, never committed)."""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from workbench.core.models.resources import DEMO_MODELS_DIR


def _tiny_model(nodes: list[onnx.NodeProto], opsets: dict[str, int] | None = None,
               initializers: list[onnx.TensorProto] | None = None, ir_version: int = 8) -> onnx.ModelProto:
    """x[1,4] -> nodes -> y[1,4]; the smallest graph a loader error can hide in."""
    graph = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], initializers or [])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v)
                                                    for d, v in (opsets or {"": 17}).items()])
    model.ir_version = ir_version
    return model


def _save(model: onnx.ModelProto, path: Path) -> Path:
    path.write_bytes(model.SerializeToString())
    return path


@pytest.fixture(scope="session")
def tiny_model() -> Callable[..., onnx.ModelProto]:
    return _tiny_model


@pytest.fixture(scope="session")
def save() -> Callable[[onnx.ModelProto, Path], Path]:
    return _save


@pytest.fixture(scope="session")
def demo_dir() -> Path:
    return DEMO_MODELS_DIR


@pytest.fixture(scope="session")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    """name -> (path, fragment the one-line problem must contain)."""
    d = tmp_path_factory.mktemp("bad_models")
    good = (DEMO_MODELS_DIR / "mobilenet_se.onnx").read_bytes()
    files: dict[str, tuple[Path, str]] = {}

    def add(name: str, data: bytes, fragment: str) -> None:
        path = d / name
        path.write_bytes(data)
        files[name] = (path, fragment)

    add("truncated.onnx", good[: len(good) // 2], f"read {len(good) // 2} of at least")
    add("random.onnx", np.random.default_rng(7).bytes(4096), "not an ONNX model (binary data")
    add("notes.onnx", b"these are my notes, not a model\n", "looks like text")
    add("empty.onnx", b"", "empty file (0 bytes)")
    add("lfs.onnx", b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n", "Git LFS pointer")
    add("checkpoint.onnx", b"PK\x03\x04" + bytes(64), "zip archive")
    unknown = _tiny_model([helper.make_node("FooBar", ["x"], ["y"], name="n3")])
    add("unknown_op.onnx", unknown.SerializeToString(),
        "unknown operator 'FooBar' (domain ai.onnx, opset 17) at node 'n3'")
    ssa = _tiny_model([helper.make_node("Relu", ["x"], ["y"], name="a"),
                       helper.make_node("Relu", ["x"], ["y"], name="b")])
    add("checker.onnx", ssa.SerializeToString(), "fails the ONNX checker: Graph must be in single static assignment")
    weights = onnx.numpy_helper.from_array(np.ones((4, 4), np.float32), "w")
    ext = _tiny_model([helper.make_node("MatMul", ["x", "w"], ["y"])], initializers=[weights])
    onnx.save(ext, d / "external.onnx", save_as_external_data=True, location="external.bin", size_threshold=0)
    os.remove(d / "external.bin")
    files["external.onnx"] = (d / "external.onnx", "external data file 'external.bin' not found")
    (d / "folder.onnx").mkdir()
    files["folder.onnx"] = (d / "folder.onnx", "is a directory")
    files["missing.onnx"] = (d / "missing.onnx", "file not found")
    return files
