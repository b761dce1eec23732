"""Variants: lineage, content-addressed cache, precision-claim checks, cancellation, determinism."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import onnx
import pytest

from workbench.core.errors import ModelError
from workbench.core.passes.base import PassContext, PassRefused
from workbench.core.passes.registry import InvalidParams
from workbench.core.passes.variants import VariantRejected, VariantStore, determinism_check
from tests.plugins.helpers import small_cnn


def test_root_is_content_addressed_and_idempotent(store, cnn):
    r = store.register_root(cnn)
    assert r.is_root and r.root_id == r.id == r.sha256 == hashlib.sha256(cnn.read_bytes()).hexdigest()
    assert r.path == store.workspace / "variants" / r.sha256[:2] / f"{r.sha256}.onnx"
    assert r.path.read_bytes() == cnn.read_bytes() and r.size == cnn.stat().st_size
    assert store.register_root(cnn).id == r.id and len(store.roots()) == 1
    assert (store.workspace / "variants.sqlite").is_file()


def test_bad_model_file_is_one_line_error(store, tmp_path):
    bad = tmp_path / "broken.onnx"
    bad.write_text("hello")
    with pytest.raises(ModelError, match=r"broken.onnx: not an ONNX model \(looks like text\)"):
        store.register_root(bad)
    with pytest.raises(ModelError, match="gone.onnx: no such file"):
        store.resolve(tmp_path / "gone.onnx")


def test_derive_records_lineage_and_second_call_is_a_cache_hit(store, cnn, tmp_path):
    root = store.register_root(cnn)
    calls: list[str] = []
    ctx = PassContext(work_dir=tmp_path / "w", progress=lambda d, t, m: calls.append(m))
    v, hit = store.derive(root, "sample-scale", {"factor": 2.0}, ctx)
    assert not hit and calls
    assert (v.parent_id, v.root_id, v.pass_id, v.pass_version) == (root.id, root.id, "sample-scale", "2")
    assert v.params == {"factor": 2.0, "min_rank": 2}  # canonical: defaults filled in
    assert v.sha256 == hashlib.sha256(v.path.read_bytes()).hexdigest() != root.sha256
    assert v.notes == ["scaled 2 tensors by 2.0"] and v.metrics == {"scaled": 2}
    assert v.fidelity["vs_parent"]["summary"]["cosine"] < 1.0

    calls.clear()
    again, hit = VariantStore(store.workspace).derive(root, "sample-scale", {"min_rank": 2, "factor": 2}, ctx)
    assert hit and calls == [] and again.id == v.id and again.sha256 == v.sha256
    other, hit = store.derive(root, "sample-scale", {"factor": 3.0})
    assert not hit and other.sha256 != v.sha256


def test_chain_lineage_and_fidelity_against_parent_and_root(store, cnn):
    root = store.register_root(cnn)
    scaled, _ = store.derive(root, "sample-scale", {"factor": 1.5})
    ident, _ = store.derive(scaled, "sample-identity")
    assert [x.id for x in store.lineage(ident)] == [root.id, scaled.id, ident.id]
    assert ident.root_id == root.id and ident.sha256 == scaled.sha256
    assert ident.fidelity["vs_parent"]["summary"]["cosine"] == 1.0
    assert ident.fidelity["vs_parent"]["summary"]["snr_db"] == "inf"
    assert ident.fidelity["vs_root"]["summary"]["cosine"] < 1.0
    assert [c.id for c in store.children(scaled.id)] == [ident.id]


def test_same_bytes_on_another_lineage_reuse_the_file_but_keep_their_own_parent(store, cnn):
    root = store.register_root(cnn)
    ident, _ = store.derive(root, "sample-identity")
    assert ident.sha256 == root.sha256
    from_root, hit1 = store.derive(root, "sample-scale")
    from_ident, hit2 = store.derive(ident, "sample-scale")
    assert (hit1, hit2) == (False, True)
    assert from_ident.sha256 == from_root.sha256 and from_ident.parent_id == ident.id != from_root.parent_id


def test_precision_claim_with_fp32_weights_is_rejected(store, cnn):
    root = store.register_root(cnn)
    before = len(store.all())
    with pytest.raises(VariantRejected, match="sample-fake-fp16 claims fp16 weights but its output keeps all weights in fp32"):
        store.derive(root, "sample-fake-fp16")
    assert len(store.all()) == before
    half, _ = store.derive(root, "sample-half")
    types = {t.data_type for t in onnx.load(str(half.path)).graph.initializer}
    assert onnx.TensorProto.FLOAT16 in types
    s = half.fidelity["vs_parent"]["summary"]
    assert 0.999 < s["cosine"] < 1.0 and s["top1"] == 1.0 and half.size < root.size


def test_cancel_stops_the_pass_and_stores_nothing(store, cnn, tmp_path):
    root = store.register_root(cnn)
    ctx = PassContext(work_dir=tmp_path / "w")
    ctx.cancel.set()
    with pytest.raises(PassRefused, match="cancelled"):
        store.derive(root, "sample-scale", {}, ctx)
    assert store.children(root.id) == []


def test_invalid_params_and_refusals(store, cnn):
    root = store.register_root(cnn)
    with pytest.raises(InvalidParams, match="unknown parameter 'scale'"):
        store.derive(root, "sample-scale", {"scale": 2})
    with pytest.raises(PassRefused, match="no float weights of rank >= 9"):
        store.derive(root, "sample-scale", {"min_rank": 9})


def test_deterministic_passes_give_identical_bytes(store, cnn):
    root = store.register_root(cnn)
    for pid in ("sample-scale", "sample-half", "sample-identity"):
        same, a, b = determinism_check(store, root, pid)
        assert same and a == b, pid


def test_get_by_prefix_and_ambiguity(store, tmp_path):
    r1 = store.register_root(small_cnn(tmp_path / "a.onnx", seed=1))
    assert store.get(r1.id[:8]).id == r1.id
    assert store.resolve(r1.id[:8]).id == r1.id
    with pytest.raises(Exception, match="no variant with id 'ffff0000'"):
        store.get("ffff0000")


def test_variant_json_is_serializable(store, cnn):
    v, _ = store.derive(store.register_root(cnn), "sample-scale")
    d = json.loads(json.dumps(v.to_json()))
    assert d["params"] == {"factor": 1.1, "min_rank": 2} and Path(d["path"]).is_file()
