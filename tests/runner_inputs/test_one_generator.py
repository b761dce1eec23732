"""One input generator: the runner, fidelity and int8 calibration feed the very same arrays.

The runner side goes through the real host path (BenchmarkJob -> job_to_spec -> the child script), the
calibration side through the bundled plugin's own helpers, exactly as the int8-static pass calls them.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from workbench.core.errors import InputSpecError
from workbench.core.passes import fidelity as fid
from workbench.core.runner import CHILD_SCRIPT, ort_child
from workbench.core.runner.protocol import job_to_spec
from workbench.core.types import BenchmarkJob
from workbench_plugins.passes import _data

MODELS = Path(__file__).resolve().parents[2] / "resources" / "models"
DEMO = sorted(p.stem for p in MODELS.glob("*.onnx"))
SEED = 5


def _session(path: Path) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def _runner_feeds(path: Path, tmp_path: Path, **job: object) -> tuple[dict, dict]:
    spec = job_to_spec(BenchmarkJob(path, seed=SEED, **job).to_json(), str(path), str(tmp_path))
    return ort_child.build_inputs(_session(path), spec)


def _assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert list(a) == list(b)
    for name in a:
        assert a[name].dtype == b[name].dtype and a[name].shape == b[name].shape, name
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_demo_models_are_all_covered():
    assert DEMO == ["mobilenet_se", "recurrent_state", "text_encoder", "wild_cnn"]


@pytest.mark.parametrize("stem", DEMO)
def test_runner_fidelity_and_calibration_feed_identical_arrays(stem, tmp_path):
    path = MODELS / f"{stem}.onnx"
    model = onnx.load(str(path), load_external_data=False)
    runner, described = _runner_feeds(path, tmp_path)
    fidelity = fid.generate_inputs(model, samples=3, seed=SEED)
    calibration = _data.generate(_data.input_specs(model), 3, seed=SEED)
    _assert_same(runner, fidelity[0])
    for f, c in zip(fidelity, calibration):
        _assert_same(f, c)
    assert not all(np.array_equal(fidelity[0][n], fidelity[1][n]) for n in fidelity[0])  # samples differ
    assert {n: d["shape"] for n, d in described.items()} == {n: list(a.shape) for n, a in runner.items()}
    # The feeds are valid for the model: it runs on them.
    _session(path).run(None, runner)


@pytest.mark.parametrize("stem", DEMO)
def test_the_child_process_runs_on_fidelitys_inputs(stem, tmp_path):
    """End to end: the digest of the child's first outputs equals the digest on fidelity's sample 0."""
    path = MODELS / f"{stem}.onnx"
    job = BenchmarkJob(path, warmup=0, runs=1, threads=1, seed=SEED)
    spec_file = tmp_path / "job.json"
    spec_file.write_text(json.dumps(job_to_spec(job.to_json(), str(path), str(tmp_path))))
    proc = subprocess.run([sys.executable, str(CHILD_SCRIPT), str(spec_file)], capture_output=True, text=True,
                          timeout=120, check=False)
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    done = [e for e in events if e["ev"] == "done"]
    assert proc.returncode == 0 and done, proc.stdout + proc.stderr
    feed = fid.generate_inputs(onnx.load(str(path), load_external_data=False), samples=1, seed=SEED)[0]
    assert done[0]["digest"] == ort_child.digest(_session(path).run(None, feed))


def _embedding(table_rows: int, declared: int | None, cast: bool = False) -> onnx.ModelProto:
    """ids [batch, seq] (int32 through a Cast when `cast`) -> Gather(table) ; position_ids ; memory."""
    emb = numpy_helper.from_array(np.ones((table_rows, 4), np.float32), "table")
    pos = numpy_helper.from_array(np.ones((64, 4), np.float32), "pos_table")
    ids_type = TensorProto.INT32 if cast else TensorProto.INT64
    nodes = [helper.make_node("Cast", ["ids"], ["ids64"], to=TensorProto.INT64)] if cast else []
    nodes += [helper.make_node("Gather", ["table", "ids64" if cast else "ids"], ["e"]),
              helper.make_node("Gather", ["pos_table", "position_ids"], ["p"]),
              helper.make_node("Add", ["e", "p"], ["ep"]),
              helper.make_node("Add", ["ep", "memory"], ["y"])]
    g = helper.make_graph(
        nodes, "emb",
        [helper.make_tensor_value_info("ids", ids_type, ["batch", "sequence"]),
         helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["batch", "sequence"]),
         helper.make_tensor_value_info("memory", TensorProto.FLOAT, ["batch", "sequence", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "sequence", 4])],
        [emb, pos])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    if declared is not None:
        helper.set_model_props(m, {"vocab_size": str(declared)})
    return m


@pytest.mark.parametrize("cast", [False, True])
def test_gather_table_bounds_ids_and_the_runner_honours_the_hint(cast, tmp_path):
    m = _embedding(table_rows=40, declared=5000, cast=cast)  # metadata claims more rows than the table has
    assert fid.vocab_hints(m) == {"ids": 40, "position_ids": 64}
    feeds = fid.generate_inputs(m, samples=4, seed=SEED)
    ids = np.concatenate([f["ids"] for f in feeds])
    assert ids.min() >= 0 and ids.max() < 40 and ids.max() >= 30
    np.testing.assert_array_equal(feeds[0]["position_ids"], np.arange(16)[None])
    assert (feeds[0]["memory"] == 0).all()
    path = tmp_path / "emb.onnx"
    onnx.save(m, str(path))
    spec = job_to_spec(BenchmarkJob(path, seed=SEED).to_json(), str(path), str(tmp_path))
    spec["vocab_hints"] = fid.vocab_hints(m)  # what a host must send for models like this one
    runner, described = ort_child.build_inputs(_session(path), spec)
    _assert_same(runner, feeds[0])
    assert described["ids"]["source"] == "generated: token ids in [0,40)"
    _session(path).run(None, runner)  # ids within the table: ORT does not reject them


def test_declared_vocab_is_used_when_smaller_than_the_table_and_default_without_either():
    sig = [("input_ids", "tensor(int64)", ["batch", "sequence"])]
    assert fid.generate_inputs(_embedding(40, declared=7), samples=1)[0]["ids"].max() < 7
    ids = ort_child.make_feeds(sig, ort_child.vocab_from_metadata({}), None, SEED, samples=8)
    top = max(int(f["input_ids"].max()) for f in ids)
    assert 500 < top < ort_child.DEFAULT_VOCAB
    int8 = ort_child.make_feeds([("input_ids", "tensor(int8)", [1, 64])], 1000, None, 0)[0]["input_ids"]
    assert int8.dtype == np.int8 and int8.min() >= 0  # capped to the dtype: no wrap-around to negatives


def test_a_given_shape_binds_its_symbols_in_every_input_whatever_the_order():
    sig = [("h0", "tensor(float)", [1, "batch", 32]), ("x", "tensor(float)", ["batch", "time", 16])]
    shapes = ort_child.resolve_shapes(sig, {"x": [4, 10, 16]})
    assert shapes == {"h0": [1, 4, 32], "x": [4, 10, 16]}
    with pytest.raises(ValueError, match=r"--shape x: axis 2 is fixed at 16 in the model, got 8"):
        ort_child.resolve_shapes(sig, {"x": [4, 10, 8]})
    with pytest.raises(ValueError, match=r"--shape x: model input has rank 3, got 2 dims"):
        ort_child.resolve_shapes(sig, {"x": [4, 10]})


def test_dynamic_axes_by_symbol_then_by_layout():
    sig = [("image", "tensor(float)", [None, None, None, None]),
           ("nhwc", "tensor(float)", [None, None, None, 3]),
           ("frame", "tensor(uint8)", ["n", "rows", "cols", 1]),
           ("feat", "tensor(float)", ["batch", "unk__7", "unk__8"]),
           ("input_ids", "tensor(int64)", [None, None]),
           ("h", "tensor(float)", [2, None, 8])]
    shapes = ort_child.resolve_shapes(sig, defaults={"spatial": 64})
    assert shapes == {"image": [1, 3, 64, 64], "nhwc": [1, 64, 64, 3], "frame": [1, 64, 64, 1],
                      "feat": [1, 16, 1], "input_ids": [1, 16], "h": [2, 1, 8]}


@pytest.mark.parametrize("name, ort_type, kind", [
    ("memory", "tensor(float)", "state"), ("h", "tensor(float)", "state"), ("c", "tensor(float)", "state"),
    ("past_key_values.0.key", "tensor(float16)", "state"), ("h0", "tensor(float)", "state"),
    ("attention_mask", "tensor(int64)", "mask"), ("is_valid", "tensor(bool)", "ones"),
    ("position_ids", "tensor(int64)", "position"), ("cache_position", "tensor(int64)", "position"),
    ("token_type_ids", "tensor(int64)", "segment"), ("input_ids", "tensor(int32)", "ids"),
    ("pixel_values", "tensor(double)", "uniform"),
])
def test_value_kinds_by_name_and_type(name, ort_type, kind):
    assert ort_child.input_kind(name, ort_type) == kind


def test_unsupported_types_are_one_clear_error():
    with pytest.raises(ValueError, match=r"input text: cannot generate values of type tensor\(string\)"):
        ort_child.make_feeds([("text", "tensor(string)", [1])], 1000, None, 0)
    g = helper.make_graph([helper.make_node("Identity", ["text"], ["y"])], "s",
                          [helper.make_tensor_value_info("text", TensorProto.STRING, [1])],
                          [helper.make_tensor_value_info("y", TensorProto.STRING, [1])])
    with pytest.raises(InputSpecError, match="tensor\\(string\\)"):
        fid.generate_inputs(helper.make_model(g))


def test_importing_the_child_pulls_in_neither_numpy_nor_onnxruntime():
    """The same file runs on devices with only python3: the generator imports numpy lazily."""
    code = ("import importlib.util, sys; s = importlib.util.spec_from_file_location('c', sys.argv[1]); "
            "m = importlib.util.module_from_spec(s); s.loader.exec_module(m); "
            "print(sorted(k for k in ('numpy', 'onnxruntime', 'onnx', 'workbench') if k in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(CHILD_SCRIPT)], capture_output=True, text=True,
                         check=True, timeout=60).stdout.strip()
    assert out == "[]"
