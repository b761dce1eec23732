"""`workbench thresholds` on stored runs: the CLI and the Tuner tab share one derivation (stored_policy)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from workbench.core.store import RunStore
from workbench.core.types import BenchmarkJob, BenchmarkResult, ChannelSpec, IterationEvent, RunStatus, Sample


def stored_heating_run(store: RunStore, base_ms: float, per_c_ms: float, knee_c: float) -> int:
    """A run whose latency rises once the SoC passes `knee_c` (throttling), written through the store API."""
    run_id = store.create_run("phone", "m.onnx", BenchmarkJob(model_path=Path("m.onnx")))
    store.add_channels(run_id, [ChannelSpec("thermal.soc", "C", "thermal", "soc")])
    rng = np.random.default_rng(run_id)
    for i in range(600):
        t = i * 0.1
        temp = 35 + 20 * (1 - np.exp(-t / 25))  # first-order heating towards 55 °C
        store.add_sample(run_id, Sample(t, {"thermal.soc": float(temp + rng.normal(0, 0.1))}))
        ms = base_ms + per_c_ms * max(0.0, temp - knee_c) + abs(rng.normal(0, 0.2))
        store.add_iteration(run_id, IterationEvent(i, "measure", t, float(ms)))
    store.finish_run(BenchmarkResult(run_id=run_id, status=RunStatus.DONE, device="phone", model="m.onnx"))
    return run_id


def wb(ws: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workbench", "--workspace", str(ws), *args],
                          capture_output=True, text=True, timeout=120)


def test_thresholds_from_stored_runs_into_a_profile(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "ws")
    heavy = stored_heating_run(store, base_ms=10.0, per_c_ms=1.0, knee_c=42.0)
    light = stored_heating_run(store, base_ms=4.0, per_c_ms=0.3, knee_c=42.0)
    out = wb(tmp_path / "ws", "thresholds", str(heavy), str(light), "--budget-p90-ms", "15")
    assert out.returncode == 0, out.stderr
    assert "thermal.soc" in out.stdout and "heavy misses 15" in out.stdout
    # heavy p90 ~ 10 + (T - 42) + noise crosses 15 ms a little below 47 °C; switch-back is below it
    crossing = float(out.stdout.split("from ")[1].split(";")[0])
    assert 44.0 < crossing < 48.0


def test_thresholds_without_thermal_channel_is_one_line(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "ws")
    run_id = store.create_run("local", "m.onnx", BenchmarkJob(model_path=Path("m.onnx")))
    store.add_iteration(run_id, IterationEvent(0, "measure", 0.0, 1.0))
    out = wb(tmp_path / "ws", "thresholds", str(run_id), "--budget-p90-ms", "5")
    assert out.returncode == 2 and "no thermal channel" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


def test_unknown_run_ids_say_so(tmp_path: Path) -> None:
    RunStore(tmp_path / "ws")
    out = wb(tmp_path / "ws", "thresholds", "999", "--budget-p90-ms", "5")
    assert out.returncode == 2 and "no run 999" in out.stderr


def test_cascade_of_models_with_different_inputs_is_one_line(tmp_path: Path) -> None:
    models = Path(__file__).resolve().parents[2] / "resources" / "models"
    out = wb(tmp_path / "ws", "cascade", str(models / "text_encoder.onnx"), str(models / "mobilenet_se.onnx"))
    assert out.returncode == 2 and "a cascade needs two models of the same task" in out.stderr
    assert "Traceback" not in out.stderr
