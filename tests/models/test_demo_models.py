"""The committed demo models: reproducible, small, and really runnable with dynamic axes."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from workbench.core.models import demo_model_path, list_demo_models, load_model, write_demo_models
from workbench.core.models import resources

NAMES = ["mobilenet_se", "text_encoder", "recurrent_state", "wild_cnn"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_list_names_all_four() -> None:
    assert list_demo_models() == NAMES


def test_regenerating_gives_the_committed_bytes(tmp_path: Path, demo_dir: Path) -> None:
    fresh = write_demo_models(tmp_path)
    assert [p.name for p in fresh] == [f"{n}.onnx" for n in NAMES]
    for path in fresh:
        assert sha256(path) == sha256(demo_dir / path.name), f"{path.name} differs from the committed file"


def test_committed_models_are_small(demo_dir: Path) -> None:
    total = sum((demo_dir / f"{n}.onnx").stat().st_size for n in NAMES)
    assert total < 5_000_000


def test_missing_demo_model_is_generated_on_first_use(tmp_path: Path, demo_dir: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resources, "DEMO_MODELS_DIR", tmp_path)
    path = demo_model_path("wild_cnn")
    assert path == tmp_path / "wild_cnn.onnx"
    assert sha256(path) == sha256(demo_dir / "wild_cnn.onnx")


def test_unknown_demo_name_is_a_model_error() -> None:
    from workbench.core.errors import ModelError

    with pytest.raises(ModelError, match="no demo model named 'resnet' \\(known: mobilenet_se"):
        demo_model_path("resnet")


@pytest.mark.parametrize("name", NAMES)
def test_metadata_is_written(name: str) -> None:
    model = load_model(demo_model_path(name))
    assert model.producer_name == "edge-workbench"
    assert len(model.doc_string) > 40


def session(name: str) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(demo_model_path(name)), opts, providers=["CPUExecutionProvider"])


def finite_and_varied(a: np.ndarray) -> bool:
    return bool(np.isfinite(a).all() and a.std() > 1e-3)


@pytest.mark.parametrize("shape", [(1, 3, 64, 64), (2, 3, 97, 130)])
def test_mobilenet_runs_at_two_resolutions(shape: tuple[int, ...]) -> None:
    image = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    logits, probs = session("mobilenet_se").run(None, {"image": image})
    assert logits.shape == probs.shape == (shape[0], 1000)
    assert finite_and_varied(logits)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-4)


@pytest.mark.parametrize("batch,seq", [(1, 7), (3, 128)])
def test_text_encoder_runs_at_two_lengths_and_respects_the_mask(batch: int, seq: int) -> None:
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 8000, (batch, seq))
    mask = np.ones((batch, seq), np.int64)
    mask[:, seq // 2:] = 0
    sess = session("text_encoder")
    hidden, pooled = sess.run(None, {"input_ids": ids, "attention_mask": mask})
    assert hidden.shape == (batch, seq, 48) and pooled.shape == (batch, 48)
    assert finite_and_varied(hidden) and finite_and_varied(pooled)
    # Padding tokens must not change what the real tokens see.
    ids2 = ids.copy()
    ids2[:, seq // 2:] = rng.integers(0, 8000, (batch, seq - seq // 2))
    hidden2, pooled2 = sess.run(None, {"input_ids": ids2, "attention_mask": mask})
    np.testing.assert_allclose(hidden2[:, : seq // 2], hidden[:, : seq // 2], atol=1e-4)
    np.testing.assert_allclose(pooled2, pooled, atol=1e-4)


@pytest.mark.parametrize("batch,steps,scale", [(1, 5, 0.3), (4, 20, 3.0)])
def test_recurrent_runs_and_takes_both_if_branches(batch: int, steps: int, scale: float) -> None:
    x = (np.random.default_rng(2).standard_normal((batch, steps, 16)) * scale).astype(np.float32)
    h0 = np.zeros((1, batch, 32), np.float32)
    y, h_n = session("recurrent_state").run(None, {"x": x, "h0": h0})
    assert y.shape == (batch, steps, 32) and h_n.shape == (1, batch, 32)
    assert finite_and_varied(y)
    rms = np.sqrt((h_n ** 2).mean(axis=-1))
    if scale > 1:  # loud input: the If's normalizing branch ran
        np.testing.assert_allclose(rms, 1.0, rtol=1e-3)
    else:          # quiet input: state passed through unnormalized
        assert np.all(np.abs(rms - 1.0) > 0.05)


@pytest.mark.parametrize("batch", [1, 5])
def test_wild_cnn_runs_with_dynamic_batch(batch: int) -> None:
    image = np.random.default_rng(3).standard_normal((batch, 3, 96, 96)).astype(np.float32)
    (out,) = session("wild_cnn").run(None, {"input": image})
    assert out.shape == (batch, 10)
    assert finite_and_varied(out)


def test_wild_cnn_has_batchnorm_variances_beyond_fp16() -> None:
    from onnx import numpy_helper

    model = load_model(demo_model_path("wild_cnn"))
    consts = {n.output[0]: numpy_helper.to_array(n.attribute[0].t) for n in model.graph.node if n.op_type == "Constant"}
    variances = [consts[n.input[4]] for n in model.graph.node if n.op_type == "BatchNormalization"]
    assert variances and max(float(v.max()) for v in variances) > 65504
