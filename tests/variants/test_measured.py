"""`workbench profile VARIANT_ID` and the last measured latency per device in `workbench variants`."""
from __future__ import annotations

import json
import os
import shutil
import time

import pytest
from click.testing import CliRunner

from workbench.cli import cli
from workbench.core.errors import ModelError, WorkbenchError
from workbench.core.passes.measured import last_latencies
from workbench.core.passes.variants import resolve_model_arg
from workbench.core.store import RunStore

SHAPE = ("--shape", "image=1x3x32x32", "--runs", "3", "--warmup", "1", "--rate", "5")


def invoke(*args: str):
    r = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return r.output


def profile(ws, model: str) -> dict:
    return json.loads(invoke("--workspace", str(ws), "profile", model, *SHAPE, "--json"))


def test_profile_a_variant_by_id_prefix_and_see_its_latency_per_variant(store, cnn, tmp_path):
    ws = store.workspace
    root = store.register_root(cnn)
    v, _ = store.derive(root, "sample-scale", {"factor": 2.0})

    by_id = profile(ws, v.id[:8])
    assert by_id["model"] == str(v.path.resolve())
    # the run is labelled with the root model, the pass and the variant id (the file is named by its hash)
    assert RunStore(ws).run_row(by_id["run_id"])["label"] == f"cnn.onnx [sample-scale {v.id[:10]}]"
    by_sha = profile(ws, str(cnn))  # the user's own file: same bytes as the root, elsewhere on disk

    doc = json.loads(invoke("--workspace", str(ws), "variants", "--json"))
    rows = {x["id"]: x for x in doc[0]}
    (mv,), (mr,) = rows[v.id]["measured"], rows[root.id]["measured"]
    assert (mv["device"], mv["run_id"], mv["matched_by"]) == ("local", by_id["run_id"], "path")
    assert (mv["p50_ms"], mv["p90_ms"]) == (by_id["latency"]["p50_ms"], by_id["latency"]["p90_ms"])
    assert (mr["run_id"], mr["matched_by"], mr["shapes"]) == (by_sha["run_id"], "sha256", {"image": [1, 3, 32, 32]})

    text = invoke("--workspace", str(ws), "variants", v.id[:8])
    assert f"p50 {by_id['latency']['p50_ms']:.2f} / p90 {by_id['latency']['p90_ms']:.2f} ms  run {by_id['run_id']}" in text

    # the newest run wins; a copy of the variant's bytes elsewhere counts for it
    copy = tmp_path / "copy.onnx"
    shutil.copyfile(v.path, copy)
    newer = profile(ws, str(copy))
    got = last_latencies(RunStore(ws), [v, root])
    assert got[v.id][0].run_id == newer["run_id"] and got[v.id][0].matched_by == "sha256"

    # a file edited after its run may not hold the bytes that ran: no content match any more
    future = time.time() + 3600
    os.utime(cnn, (future, future))
    assert last_latencies(RunStore(ws), [root])[root.id] == []


def test_variants_without_any_run_store_show_no_latency(store, cnn):
    store.register_root(cnn)
    doc = json.loads(invoke("--workspace", str(store.workspace), "variants", "--json"))
    assert doc[0][0]["measured"] == [] and not (store.workspace / "runs.sqlite").exists()


def test_resolve_model_arg_errors_are_one_line(store, cnn, tmp_path):
    assert resolve_model_arg(store.workspace, cnn).variant_id is None
    root = store.register_root(cnn)
    got = resolve_model_arg(store.workspace, root.id[:6])
    assert (got.path, got.variant_id) == (root.path, root.id)
    with pytest.raises(ModelError, match=r"gone\.onnx: no such file"):
        resolve_model_arg(store.workspace, tmp_path / "gone.onnx")
    with pytest.raises(WorkbenchError, match="no variant with id 'deadbeef'"):
        resolve_model_arg(store.workspace, "deadbeef")
    with pytest.raises(WorkbenchError, match="'abc123' is neither a model file nor a variant id"):
        resolve_model_arg(tmp_path / "empty-ws", "abc123")
    assert not (tmp_path / "empty-ws").exists()  # looking up an id never creates a workspace
