#!/usr/bin/env python3
"""Print what ORT's per-layer profiling costs, per demo model, measured by the workbench's own run path.

For each model: unprofiled p50 (profiling off), profiled p50 (profiling on), overhead %, kernel events per
run and the overhead per kernel event in µs, and coverage (per-layer sum / profiled model_run). The ground
truth measured earlier on this machine: ~10 µs per kernel event, +4% to +40% per run.

    python bench/profiling_overhead.py [--runs 60] [--threads 1] [MODEL.onnx ...]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from workbench.core.benchmark import run_benchmark
from workbench.core.devices.local import LocalDevice
from workbench.core.store import RunStore
from workbench.core.types import BenchmarkJob, RunStatus

MODELS = Path(__file__).resolve().parents[1] / "resources" / "models"
DEFAULT = [("mobilenet_se.onnx", {"image": [1, 3, 224, 224]}), ("mobilenet_se.onnx", {"image": [1, 3, 96, 96]}),
           ("wild_cnn.onnx", {}), ("text_encoder.onnx", {}), ("recurrent_state.onnx", {})]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", type=Path)
    ap.add_argument("--runs", type=int, default=60)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    todo = [(m, {}) for m in args.models] or [(MODELS / name, shapes) for name, shapes in DEFAULT]
    print(f"{'model':<34} {'unprof p50 ms':>13} {'prof p50 ms':>11} {'overhead':>9} {'events/run':>10} "
          f"{'µs/event':>8} {'coverage':>8}")
    with tempfile.TemporaryDirectory() as ws:
        store = RunStore(ws)
        for model, shapes in todo:
            job = BenchmarkJob(model_path=model, warmup=5, runs=args.runs, threads=args.threads, layers=True,
                               layer_runs=args.runs, shapes=shapes, telemetry_hz=10)
            r = run_benchmark(LocalDevice(), job, store, lambda e: None)
            if r.status != RunStatus.DONE or not r.profiled:
                print(f"{model.name:<34} {r.status.value}: {r.error}")
                continue
            prof_ms = [it.latency_ms for it in store.iterations(r.run_id) if it.phase == "profiled"]
            prof_ms.sort()
            prof_p50 = prof_ms[len(prof_ms) // 2]
            events_per_run = sum(lt.count for lt in r.layers) / max(r.profiled.runs, 1)
            per_event_us = (prof_p50 - r.latency.p50_ms) * 1e3 / events_per_run if events_per_run else float("nan")
            label = model.name + (" " + "x".join(map(str, next(iter(shapes.values())))) if shapes else "")
            print(f"{label:<34} {r.latency.p50_ms:>13.3f} {prof_p50:>11.3f} {r.profiled.overhead_pct:>+8.1f}% "
                  f"{events_per_run:>10.0f} {per_event_us:>8.1f} {r.profiled.coverage * 100:>7.1f}%")
    print("\nLatency figures come from the unprofiled pass; per-layer tables from the profiled pass.\n")
    print("Telemetry sampler's own CPU cost while watching a runner process (bench/telemetry_cost.py):")
    subprocess.run([sys.executable, str(Path(__file__).with_name("telemetry_cost.py")), "--rates", "10,50",
                    "--seconds", "3"], check=True)


if __name__ == "__main__":
    main()
