"""`workbench cascade` on the demo classifier and its channel-pruned variant (real ORT outputs)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from click.testing import CliRunner

from workbench.cli import cli
from workbench.core.errors import InputSpecError
from workbench.core.passes import fidelity as fid
from workbench.core.passes.variants import VariantStore
from workbench.core.profiles import load_profile
from workbench.core.tuner.cascade import as_probs

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "resources" / "models" / "mobilenet_se.onnx"
GEN = ("--samples", "32", "--shape", "image=1x3x64x64")



@pytest.fixture(scope="module")
def pruned(tmp_path_factory):
    ws = tmp_path_factory.mktemp("ws")
    store = VariantStore(ws)
    v, _ = store.derive(store.register_root(MODEL), "prune-channels", {"ratio": 0.1}, samples=1)
    return ws, v


def invoke(*args: str):
    r = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return r.stdout


def test_cascade_policy_means_what_it_says_on_the_real_outputs(pruned):
    ws, v = pruned
    doc = json.loads(invoke("--workspace", str(ws), "cascade", v.id[:8], str(MODEL), "--target-agreement", "0.9",
                            *GEN, "--json"))
    pol = doc["policy"]
    assert pol["light"] == v.id[:10] and pol["heavy"] == "mobilenet_se" and pol["measure"] == "top1_prob"
    assert doc["inputs"] == 32 and doc["base_agreement"] < 0.9  # pruning changed answers: escalation is needed
    assert pol["expected_agreement"] >= 0.9 and 0 < pol["expected_escalation_rate"] < 1
    assert pol["expected_cost_ms"] == pytest.approx(doc["light_ms"] + pol["expected_escalation_rate"] * doc["heavy_ms"],
                                                    rel=1e-3)

    # replay the policy independently on the same generated inputs
    feeds = fid.generate_inputs(onnx.load(str(MODEL)), samples=32, shapes={"image": [1, 3, 64, 64]})
    light = np.concatenate([o["logits"] for o in fid.run_model(v.path, feeds)])
    heavy = np.concatenate([o["logits"] for o in fid.run_model(MODEL, feeds)])
    escalate = as_probs(light).max(1) < pol["threshold"]
    final = np.where(escalate, heavy.argmax(1), light.argmax(1))
    assert escalate.mean() == pytest.approx(pol["expected_escalation_rate"])
    assert (final == heavy.argmax(1)).mean() == pytest.approx(pol["expected_agreement"])


def test_cascade_prints_its_numbers_and_writes_into_a_profile(pruned, tmp_path):
    ws, v = pruned
    prof = tmp_path / "p.json"
    shutil.copyfile(ROOT / "profiles" / "examples" / "mobilenet_se.local.json", prof)
    before = len(load_profile(prof).switching)
    out = invoke("--workspace", str(ws), "cascade", str(v.path), str(MODEL), *GEN, "--measure", "margin",
                 "--light-name", "pruned", "--heavy-name", "full", "--into", str(prof))
    for word in ("threshold", "escalation", "avg cost", "agreement", "(target 95.0%)", f"added to {prof}"):
        assert word in out
    sw = load_profile(prof).switching
    assert len(sw) == before + 1
    c = sw[-1]
    assert (c.kind, c.light, c.heavy, c.measure) == ("cascade", "pruned", "full", "margin")
    assert c.expected_agreement >= 0.95


def test_cascade_input_folder_errors_name_the_folder(pruned, tmp_path):
    ws, v = pruned
    with pytest.raises(InputSpecError, match=r"nowhere: not a folder of \.npy/\.npz inputs"):
        CliRunner().invoke(cli, ["--workspace", str(ws), "cascade", str(v.path), str(MODEL),
                                 "--inputs", str(tmp_path / "nowhere")], catch_exceptions=False)
