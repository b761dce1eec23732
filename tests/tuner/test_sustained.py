"""tune --sustained: finalists re-run to steady state (or the cap) and judged on that latency."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from workbench.cli import cli
from workbench.core.profiles import load_profile
from workbench.core.store import RunStore
from workbench.core.tuner.steady import SteadyWatch, steady_state

from tests.tuner.physics import simulate

MODEL = Path(__file__).resolve().parents[2] / "resources" / "models" / "mobilenet_se.onnx"


def test_online_watch_settles_where_the_offline_judgement_does():
    samples, its = simulate(3.0, 15.0, 600.0, seed=1, tau=60.0)
    watch = SteadyWatch(slope_per_min=0.3, window_s=30.0)
    settled_at = next(s.t for s in samples if watch.add(s))
    t = np.array([s.t for s in samples])
    ss = steady_state(t, {"thermal.soc": np.array([s.values["thermal.soc"] for s in samples])}, its,
                      slope_per_min=0.3, window_s=30.0)
    assert ss.reached and settled_at == watch.t_steady == ss.t_steady and watch.channel == "thermal.soc"


def test_watch_never_settles_without_a_thermal_channel():
    samples, _ = simulate(3.0, 15.0, 100.0, seed=1)
    watch = SteadyWatch(slope_per_min=100.0, window_s=5.0)  # any slope would pass: only the channel is missing
    assert not any(watch.add(type(s)(s.t, {"cpu.load.all": 50.0})) for s in samples)


def test_sustained_tune_on_local_falls_back_to_the_second_half_and_says_so(tmp_path):
    ws, out = tmp_path / "ws", tmp_path / "p.json"
    r = CliRunner().invoke(cli, [
        "--workspace", str(ws), "tune", str(MODEL), "--resolutions", "64,96", "--threads", "1",
        "--budget-p90-ms", "200", "--strategy", "grid", "--runs", "5", "--warmup", "1", "--out", str(out),
        "--sustained", "--sustained-cap-s", "1.5", "--finalists", "2"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "local has no thermal channel" in r.output and "judged on the second half" in r.output
    p = load_profile(out)
    s = p.expectations.sustained
    assert s is not None and s.judged_on == "second_half_no_thermal" and s.channel is None
    assert (s.finalists, s.cap_s, s.slope_c_per_min) == (2, 1.5, 0.5) and s.steady_after_s is None
    assert p.expectations.steady_state_p90_ms == s.p90_ms and s.run_id in p.provenance.run_ids

    store = RunStore(ws)
    row = store.run_row(s.run_id)
    assert row["status"] == "done" and row["label"].startswith("sustained base 96px")  # ran to the cap
    ms = [it.latency_ms for it in store.iterations(s.run_id) if it.phase == "measure"]
    second = ms[len(ms) // 2:]
    assert s.iterations == len(second) and s.p90_ms == pytest.approx(float(np.percentile(second, 90)))
    sustained_runs = [x for x in store.list_runs() if x["label"].startswith("sustained ")]
    assert len(sustained_runs) == 2  # both finalists re-ran
