"""End to end on the local device (real runs of the demo model) plus the offline commands."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from workbench.cli import cli
from workbench.core.profiles import load_profile

from tests.tuner.physics import heating, simulate

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "resources" / "models" / "mobilenet_se.onnx"


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    ws = tmp_path_factory.mktemp("ws")
    out = ws / "profile.json"
    r = invoke("--workspace", str(ws), "tune", str(MODEL), "--resolutions", "64,96", "--threads", "1",
               "--budget-p90-ms", "200", "--strategy", "grid", "--runs", "5", "--warmup", "1", "--out", str(out))
    assert r.exit_code == 0, r.output
    return ws, out, r.output


def test_tune_on_local_device_writes_a_valid_feasible_profile(tuned):
    ws, out, output = tuned
    p = load_profile(out)
    assert p.runtime.resolution == 96  # fidelity ties -> highest resolution meeting the budget
    assert p.runtime.shapes == {"image": [1, 3, 96, 96]}
    assert 0 < p.expectations.p50_ms <= p.expectations.p90_ms <= 200
    assert p.expectations.peak_memory_mb and p.expectations.fidelity["cosine"] == 1.0
    assert p.device.fingerprint["kind"] == "local" and len(p.provenance.run_ids) == 2
    assert p.model.variant.lineage[0].sha256 == p.model.sha256
    assert "best: base 96px b1 t1" in output


def test_rerun_resumes_without_measuring(tuned):
    ws, out, _ = tuned
    r = invoke("--workspace", str(ws), "tune", str(MODEL), "--resolutions", "64,96", "--threads", "1",
               "--budget-p90-ms", "200", "--strategy", "grid", "--runs", "5", "--warmup", "1", "--out", str(out))
    assert r.exit_code == 0 and "(0 measured now)" in r.output


def test_verify_passes_then_fails_an_impossible_expectation(tuned, tmp_path):
    ws, out, _ = tuned
    # the VM's CPUs are shared: a 5-run p90 can be several times the tuned one, so the PASS case only
    # checks the path (generous tolerance); the FAIL case below is an impossible expectation
    r = invoke("--workspace", str(ws), "verify", str(out), "--runs", "5", "--tolerance", "100")
    assert r.exit_code == 0 and "PASS" in r.output
    doc = json.loads(out.read_text())
    doc["expectations"]["p50_ms"] = doc["expectations"]["p90_ms"] = 0.001
    strict = tmp_path / "strict.json"
    strict.write_text(json.dumps(doc))
    r = invoke("--workspace", str(ws), "verify", str(strict), "--runs", "5")
    assert r.exit_code == 1 and "FAIL p90" in r.output


def test_verify_refuses_a_profile_made_on_another_device(tuned, tmp_path):
    """A CI gate must not pass a phone's profile because this machine happens to be fast enough."""
    ws, out, _ = tuned
    doc = json.loads(out.read_text())
    doc["device"]["fingerprint"].update(soc="Qualcomm SM8550", os="Android 14", cores=8)
    other = tmp_path / "other.json"
    other.write_text(json.dumps(doc))
    from workbench.core.errors import WorkbenchError

    with pytest.raises(WorkbenchError, match=r"made for another device \(cores, os, soc differ\)"):
        invoke("--workspace", str(ws), "verify", str(other), "--runs", "3")
    r = invoke("--workspace", str(ws), "verify", str(other), "--runs", "3", "--tolerance", "100",
               "--allow-other-device")
    assert r.exit_code == 0 and "PASS" in r.output


def test_profile_import_of_a_binary_file_is_one_line(tmp_path):
    from workbench.core.profiles import load_profile
    from workbench.core.profiles.io import ProfileError

    with pytest.raises(ProfileError, match="not a text file"):
        load_profile(MODEL)


def test_tune_with_unmeetable_budget_is_a_one_line_error(tmp_path):
    from workbench.cli.common import run_cli_guarded
    import sys
    argv = sys.argv
    sys.argv = ["workbench", "--workspace", str(tmp_path), "tune", str(MODEL), "--resolutions", "64",
                "--threads", "1", "--budget-p90-ms", "0.0001", "--runs", "3", "--warmup", "0",
                "--strategy", "grid", "--out", str(tmp_path / "p.json")]
    try:
        assert run_cli_guarded(cli) == 2
    finally:
        sys.argv = argv
    assert not (tmp_path / "p.json").exists()


def test_profile_import_shows_and_rejects(tmp_path):
    r = invoke("profile-import", str(ROOT / "profiles" / "examples" / "legacy-v1.json"))
    assert r.exit_code == 0 and "valid schema_version 2" in r.output and "thermal.skin >= 41.0" in r.output
    bad = tmp_path / "bad.json"
    doc = json.loads((ROOT / "profiles" / "examples" / "mobilenet_se.local.json").read_text())
    doc["runtime"]["batch"] = 0
    bad.write_text(json.dumps(doc))
    from workbench.core.profiles import ProfileError
    with pytest.raises(ProfileError, match=r"bad\.json: \$\.runtime\.batch: 0 is less than the minimum of 1"):
        invoke("profile-import", str(bad))


def test_replay_command_on_a_trace_file(tmp_path):
    from workbench.core.tuner.thresholds import derive_thermal_switch
    heavy, sensor = heating(3.0, 15.0, seed=1)
    light, _ = heating(1.8, 6.0, seed=2)
    th = derive_thermal_switch(heavy, light, 20.0, sample_temps=sensor)
    policy = {"kind": "thermal", "channel": "thermal.soc", "heavy": "heavy", "light": "light",
              "switch_at": th.switch_at, "switch_back_at": th.switch_back_at, "budget_p90_ms": 20.0,
              "latency_curves": {"heavy": th.heavy_curve.points(), "light": th.light_curve.points()}}
    (tmp_path / "policy.json").write_text(json.dumps(policy))
    samples, _ = simulate(3.0, 15.0, 200.0, seed=9)
    (tmp_path / "trace.csv").write_text("t,thermal.soc\n" + "".join(f"{s.t},{s.values['thermal.soc']}\n" for s in samples))
    r = invoke("replay", str(tmp_path / "policy.json"), str(tmp_path / "trace.csv"), "--json")
    assert r.exit_code == 0, r.output
    res = json.loads(r.output)
    assert [s[1:] for s in res["switches"]] == [["heavy", "light"]] and res["violations"] == 0
    assert res["time_on_s"]["light"] > 0 and np.isclose(sum(res["time_on_s"].values()), 200.0, atol=0.2)
