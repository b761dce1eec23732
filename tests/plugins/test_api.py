"""The public plugin API: complete, and its ONNX helpers work on every graph of a model."""
from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort

import workbench.api as api
from tests.plugins.helpers import constant_weights_model, small_cnn


def test_all_names_resolve():
    for name in api.__all__:
        assert getattr(api, name) is not None, name
    for needed in ("Pass", "PassParams", "PassContext", "PassOutput", "PassRefused", "SearchSpace", "Probe",
                   "ChannelSpec", "Sample", "Evaluator", "PluginManifest", "onnx_helpers", "WorkbenchError"):
        assert needed in api.__all__


def _run(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": x})[0]


def test_constants_to_initializers_reaches_subgraphs(tmp_path):
    m = onnx.load(str(constant_weights_model(tmp_path / "cw.onnx")))
    h = api.onnx_helpers
    assert len(list(h.iter_graphs(m))) == 3  # main + then + else
    out = h.constants_to_initializers(m)
    assert not [n for _, n in h.iter_nodes(out) if n.op_type == "Constant"]
    then_g = [g for g in h.iter_graphs(out) if g.name == "then"][0]
    assert [t.name for t in then_g.initializer] == ["w_then"]
    assert len(list(h.iter_nodes(m))) == 5  # the input is untouched
    x = np.arange(4, dtype=np.float32).reshape(1, 4)
    np.testing.assert_array_equal(_run(m, x), _run(out, x))


def test_weight_precision_helpers(tmp_path):
    from onnxconverter_common import float16

    m = onnx.load(str(small_cnn(tmp_path / "c.onnx")))
    h = api.onnx_helpers
    assert not h.has_low_precision_weights(m)
    assert h.weight_dtype_bytes(m) == {"FLOAT": (8 * 27 + 8 + 80 + 10) * 4}
    half = float16.convert_float_to_float16(m, keep_io_types=True)
    assert h.has_low_precision_weights(half)
    assert h.weight_dtype_bytes(half)["FLOAT16"] == (8 * 27 + 8 + 80 + 10) * 2


def test_upgrade_opset_and_deterministic_bytes(tmp_path):
    h = api.onnx_helpers
    m = onnx.load(str(small_cnn(tmp_path / "c.onnx")))
    assert h.opset_version(m) == 17
    up = h.upgrade_opset(m, 18)
    assert h.opset_version(up) == 18 and h.opset_version(m) == 17
    assert h.model_bytes(up) == h.model_bytes(onnx.load_from_string(h.model_bytes(up)))


def test_load_model_names_the_file(tmp_path):
    import pytest

    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00not a model at all")
    with pytest.raises(api.ModelError, match=r"bad\.onnx: not an ONNX model"):
        api.onnx_helpers.load_model(bad)
    with pytest.raises(api.ModelError, match="missing.onnx: file not found"):
        api.onnx_helpers.load_model(tmp_path / "missing.onnx")
