"""load_model turns every kind of bad file into one ModelError line naming the file and the problem."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import helper

from workbench.core.errors import ModelError
from workbench.core.models import demo_model_path, load_model


@pytest.mark.parametrize("name", ["truncated.onnx", "random.onnx", "notes.onnx", "empty.onnx", "lfs.onnx",
                                  "checkpoint.onnx", "unknown_op.onnx", "checker.onnx", "external.onnx",
                                  "folder.onnx", "missing.onnx"])
def test_bad_file_gives_one_line_model_error(bad_files: dict[str, tuple[Path, str]], name: str) -> None:
    path, fragment = bad_files[name]
    with pytest.raises(ModelError) as info:
        load_model(path)
    err = info.value
    assert err.path == path
    assert fragment in err.problem
    assert "\n" not in str(err) and str(err).startswith(str(path))


def test_truncated_message_gives_sizes(demo_dir: Path, tmp_path: Path) -> None:
    data = (demo_dir / "wild_cnn.onnx").read_bytes()
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(data[:1000])
    with pytest.raises(ModelError, match=r"truncated or corrupt protobuf \(read 1000 of at least \d+ bytes; "
                                         r"field 'graph' is cut off"):
        load_model(cut)


def test_op_from_a_newer_opset_says_which_opset(tmp_path: Path, tiny_model: Callable, save: Callable) -> None:
    model = tiny_model([helper.make_node("Gelu", ["x"], ["y"], name="act")])
    with pytest.raises(ModelError, match=r"operator 'Gelu' needs ai.onnx opset >= 20 but the model imports opset 17 "
                                         r"at node 'act'"):
        load_model(save(model, tmp_path / "gelu.onnx"))


def test_onnxruntime_contrib_ops_are_accepted_and_unknown_ones_rejected(tmp_path: Path, tiny_model: Callable,
                                                                        save: Callable) -> None:
    ok = tiny_model([helper.make_node("Gelu", ["x"], ["y"], domain="com.microsoft")],
                    opsets={"": 17, "com.microsoft": 1})
    assert load_model(save(ok, tmp_path / "ok.onnx")).graph.node[0].op_type == "Gelu"
    bad = tiny_model([helper.make_node("NoSuchFusion", ["x"], ["y"], domain="com.microsoft")],
                     opsets={"": 17, "com.microsoft": 1})
    with pytest.raises(ModelError, match="unknown operator 'NoSuchFusion' \\(onnxruntime domain com.microsoft"):
        load_model(save(bad, tmp_path / "bad.onnx"))


def test_custom_domain_and_missing_opset_import(tmp_path: Path, tiny_model: Callable, save: Callable) -> None:
    custom = tiny_model([helper.make_node("Warp", ["x"], ["y"], domain="acme.ops")], opsets={"": 17, "acme.ops": 1})
    with pytest.raises(ModelError, match="custom domain 'acme.ops'.*custom-op library"):
        load_model(save(custom, tmp_path / "custom.onnx"))
    orphan = tiny_model([helper.make_node("Warp", ["x"], ["y"], domain="acme.ops", name="w1")])
    with pytest.raises(ModelError, match="at node 'w1' uses domain 'acme.ops' but the model imports no opset for it"):
        load_model(save(orphan, tmp_path / "orphan.onnx"))


def test_unknown_op_inside_a_subgraph_names_the_subgraph(tmp_path: Path, tiny_model: Callable, save: Callable) -> None:
    then_g = helper.make_graph([helper.make_node("Bogus", ["x"], ["t"], name="deep")], "then_branch", [],
                               [helper.make_tensor_value_info("t", onnx.TensorProto.FLOAT, None)])
    else_g = helper.make_graph([helper.make_node("Identity", ["x"], ["e"])], "else_branch", [],
                               [helper.make_tensor_value_info("e", onnx.TensorProto.FLOAT, None)])
    cond = onnx.numpy_helper.from_array(np.array(True), "cond")
    model = tiny_model([helper.make_node("If", ["cond"], ["y"], then_branch=then_g, else_branch=else_g)],
                       initializers=[cond])
    with pytest.raises(ModelError, match="unknown operator 'Bogus' .* at node 'deep' in subgraph 'then_branch'"):
        load_model(save(model, tmp_path / "sub.onnx"))


def test_external_data_too_short(tmp_path: Path, tiny_model: Callable) -> None:
    w = onnx.numpy_helper.from_array(np.ones((8, 8), np.float32), "w")
    model = tiny_model([helper.make_node("MatMul", ["x", "w"], ["y"])], initializers=[w])
    model.graph.output[0].type.tensor_type.shape.dim[1].dim_value = 8
    onnx.save(model, tmp_path / "m.onnx", save_as_external_data=True, location="w.bin", size_threshold=0)
    (tmp_path / "w.bin").write_bytes(b"\0" * 10)
    with pytest.raises(ModelError, match=r"external data file 'w.bin' is too short \(tensor 'w' needs bytes 0..256, "
                                         r"file has 10\)"):
        load_model(tmp_path / "m.onnx")


def test_external_data_is_loaded_when_present(tmp_path: Path, tiny_model: Callable) -> None:
    w = onnx.numpy_helper.from_array(np.arange(16, dtype=np.float32).reshape(4, 4), "w")
    model = tiny_model([helper.make_node("MatMul", ["x", "w"], ["y"])], initializers=[w])
    onnx.save(model, tmp_path / "m.onnx", save_as_external_data=True, location="w.bin", size_threshold=0)
    loaded = load_model(tmp_path / "m.onnx")
    loaded_w = onnx.numpy_helper.to_array(loaded.graph.initializer[0])
    np.testing.assert_array_equal(loaded_w, np.arange(16, dtype=np.float32).reshape(4, 4))
    lazy = load_model(tmp_path / "m.onnx", load_external_data=False)
    assert lazy.graph.initializer[0].data_location == onnx.TensorProto.EXTERNAL


def test_external_data_outside_the_model_folder_is_refused(tmp_path: Path, tiny_model: Callable,
                                                           save: Callable) -> None:
    w = onnx.numpy_helper.from_array(np.ones((4, 4), np.float32), "w")
    model = tiny_model([helper.make_node("MatMul", ["x", "w"], ["y"])], initializers=[w])
    onnx.save(model, tmp_path / "m.onnx", save_as_external_data=True, location="w.bin", size_threshold=0)
    proto = load_model(tmp_path / "m.onnx", load_external_data=False)
    proto.graph.initializer[0].external_data[0].value = "../../etc/passwd"
    with pytest.raises(ModelError, match="points outside the model's folder"):
        load_model(save(proto, tmp_path / "escape.onnx"))


def test_protobuf_without_graph(tmp_path: Path, save: Callable) -> None:
    header_only = onnx.ModelProto(ir_version=8, producer_name="x")
    with pytest.raises(ModelError, match="ONNX header without a graph"):
        load_model(save(header_only, tmp_path / "header.onnx"))


def test_directory_error_hints_at_the_model_inside(tmp_path: Path) -> None:
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "model.onnx").write_bytes(b"x")
    with pytest.raises(ModelError, match=r"is a directory, expected an .onnx file \(it contains model.onnx\)"):
        load_model(tmp_path / "export")


WILD = demo_model_path("wild_cnn").read_bytes()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=1, max_value=len(WILD) - 1))
def test_any_truncation_is_a_model_error(tmp_path: Path, cut: int) -> None:
    path = tmp_path / "cut.onnx"
    path.write_bytes(WILD[:cut])
    with pytest.raises(ModelError):
        load_model(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(min_size=1, max_size=300))
def test_arbitrary_bytes_never_escape_as_other_exceptions(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.onnx"
    path.write_bytes(data)
    try:
        load_model(path)
    except ModelError as err:
        assert "\n" not in str(err)
