"""Pass knobs in live tuning: trials derive their variant through the variant store (cache hits repeat free)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from workbench.cli import cli
from workbench.core.errors import WorkbenchError
from workbench.core.passes.variants import VariantStore
from workbench.core.profiles import load_profile
from workbench.core.store import RunStore
from workbench.core.tuner.pass_knobs import split_knobs
from workbench.core.tuner.space import SpaceError

MODEL = Path(__file__).resolve().parents[2] / "resources" / "models" / "mobilenet_se.onnx"


def tune(ws: Path, space: dict, *extra: str):
    f = ws.parent / "space.json"
    f.write_text(json.dumps({"resolutions": [64], "threads": [1], **space}))
    return CliRunner().invoke(cli, ["--workspace", str(ws), "tune", str(MODEL), "--space", str(f), "--strategy", "grid",
                                    "--runs", "4", "--warmup", "1", "--out", str(ws.parent / "p.json"), *extra],
                              catch_exceptions=False)


def test_split_knobs_groups_by_pass_and_null_means_not_applied():
    assert split_knobs({"quant.per_channel": True, "prune-channels.ratio": 0.25, "prune-channels.round_to": 1}) == [
        ("prune-channels", {"ratio": 0.25, "round_to": 1}), ("quant", {"per_channel": True})]
    assert split_knobs((("prune-channels.ratio", None), ("fp16.keep_io_types", True))) == [
        ("fp16", {"keep_io_types": True})]
    with pytest.raises(WorkbenchError, match="pass knob 'ratio': expected <pass_id>.<param>"):
        split_knobs({"ratio": 0.5})


def test_trials_run_the_derived_variant_and_repeats_are_cache_hits(tmp_path):
    ws = tmp_path / "ws"
    space = {"pass_params": {"prune-channels.ratio": [None, 0.25]}}
    r = tune(ws, space)
    assert r.exit_code == 0, r.output
    assert "pass knobs: 1 variant(s) derived" in r.output
    store = VariantStore(ws)
    root = store.register_root(MODEL)
    pruned, hit = store.derive(root, "prune-channels", {"ratio": 0.25})
    assert hit  # the tuner derived it into the workspace
    runs = {x["label"]: x for x in RunStore(ws).list_runs()}
    assert runs["tune base 64px b1 t1 prune-channels.ratio=0.25"]["model"] == str(pruned.path)
    assert runs["tune base 64px b1 t1 prune-channels.ratio=None"]["model"] == str(root.path)  # null: not applied
    cos = {m[1]: float(m[2]) for m in re.finditer(r"(prune-channels\.ratio=\S+) .*? cos (\S+)", r.output)}
    assert cos["prune-channels.ratio=0.25"] < 0.999 and cos["prune-channels.ratio=None"] == 1.0

    again = tune(ws, space, "--study", "second")  # a new study measures again but derives nothing
    assert again.exit_code == 0 and "pass knobs: 0 variant(s) derived" in again.output


def test_profile_of_a_derived_trial_carries_its_lineage(tmp_path):
    ws = tmp_path / "ws"
    r = tune(ws, {"pass_params": {"prune-channels.ratio": [0.25]}})
    assert r.exit_code == 0, r.output
    p = load_profile(tmp_path / "p.json")
    steps = p.model.variant.lineage
    assert [s.pass_id for s in steps] == [None, "prune-channels"] and steps[1].params["ratio"] == 0.25
    assert p.model.variant.sha256 == steps[1].sha256 != p.model.sha256
    assert p.expectations.fidelity["cosine"] < 0.999


def test_bad_knob_value_is_refused_before_any_trial(tmp_path):
    ws = tmp_path / "ws"
    with pytest.raises(SpaceError, match=r"space\.json: pass_params\.prune-channels\.ratio: .*ratio"):
        tune(ws, {"pass_params": {"prune-channels.ratio": [1.5]}})
    assert not (ws / "runs.sqlite").exists() or RunStore(ws).list_runs() == []
