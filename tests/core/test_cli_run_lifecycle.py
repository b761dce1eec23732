"""The real `workbench` CLI process: SIGKILL mid-run keeps the run and its samples; Ctrl-C cancels cleanly."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from workbench.core.store import RunStore
from workbench.core.types import RunStatus

MODEL = Path(__file__).resolve().parents[2] / "resources" / "models" / "mobilenet_se.onnx"


def start_cli(ws: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "workbench", "--workspace", str(ws), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_progress(ws: Path, proc: subprocess.Popen, samples: int, iterations: int, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        if (ws / "runs.sqlite").exists():
            rows = RunStore(ws).list_runs()
            if rows and rows[0]["samples"] >= samples and rows[0]["iterations"] >= iterations:
                return rows[0]["id"]
        time.sleep(0.2)
    raise AssertionError("run made no progress")


def test_sigkill_mid_run_keeps_run_as_interrupted_with_samples(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    proc = start_cli(ws, "profile", str(MODEL), "--seconds", "120", "--rate", "20", "--shape", "image=1x3x96x96")
    run_id = wait_for_progress(ws, proc, samples=10, iterations=5)
    runner = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
    before = RunStore(ws).list_runs()[0]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    store = RunStore(ws)  # a fresh start of the workbench
    row = store.list_runs()[0]
    assert row["id"] == run_id and row["status"] == RunStatus.INTERRUPTED.value
    assert row["samples"] >= before["samples"] and row["iterations"] >= before["iterations"]
    t, series = store.samples(run_id)
    assert len(t) >= 10 and "cpu.load.all" in series
    result = store.get_result(run_id)
    assert result.latency and result.latency.count >= 5  # what was measured is still summarized
    # the orphaned runner notices the closed pipe and exits instead of running forever
    gone, alive = psutil.wait_procs([psutil.Process(p) for p in runner if psutil.pid_exists(p)], timeout=15)
    assert not alive


def test_ctrl_c_cancels_and_stores_cancelled(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    proc = start_cli(ws, "profile", str(MODEL), "--seconds", "120", "--shape", "image=1x3x96x96")
    run_id = wait_for_progress(ws, proc, samples=3, iterations=3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert RunStore(ws).list_runs()[0]["status"] == RunStatus.CANCELLED.value
    assert "Traceback" not in err


def test_profile_json_and_exports(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    out = subprocess.run([sys.executable, "-m", "workbench", "--workspace", str(ws), "profile", str(MODEL),
                          "--runs", "5", "--warmup", "1", "--layers", "--layer-runs", "3", "--json",
                          "--shape", "image=1x3x128x128", "--threads", "1"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["status"] == "done" and doc["latency"]["count"] == 5
    assert doc["profiled"]["runs"] == 3 and doc["layers"] and doc["op_summary"]
    run_id = doc["run_id"]
    for fmt, name in (("json", "r.json"), ("trace", "r.trace.json"), ("csv", "r.csv")):
        res = subprocess.run([sys.executable, "-m", "workbench", "--workspace", str(ws), "export", str(run_id),
                              "--format", fmt, "--out", str(tmp_path / name)], capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
    trace = json.loads((tmp_path / "r.trace.json").read_text())["traceEvents"]
    phases = {e["ph"] for e in trace}
    assert {"X", "C", "M"} <= phases
    layer_slices = [e for e in trace if e["ph"] == "X" and e.get("tid") == 2]
    iter_slices = [e for e in trace if e["ph"] == "X" and e.get("tid") == 1 and e["cat"] == "profiled"]
    # layer events sit inside the profiled iterations on the shared clock (within 5 ms of slack)
    first, last = min(e["ts"] for e in iter_slices), max(e["ts"] + e["dur"] for e in iter_slices)
    assert all(first - 5000 <= e["ts"] <= last + 5000 for e in layer_slices)
    assert (tmp_path / "r.iterations.csv").read_text().startswith("index,phase")
    shown = subprocess.run([sys.executable, "-m", "workbench", "--workspace", str(ws), "show", str(run_id)],
                           capture_output=True, text=True)
    assert "Latency, profiling OFF" in shown.stdout and "per-layer sum" in shown.stdout
