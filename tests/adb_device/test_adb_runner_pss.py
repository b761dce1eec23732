"""Runner PSS/USS end to end: a profiled run on the test phone stores `mem.runner.pss`/`.uss` samples.

The phone's sampler reads the real /proc of this machine (the runner is a python3 + onnxruntime
process here), so the values are the runner's own smaps_rollup, at the slow cadence (every 10 ticks
at 20 Hz), riding on regular ticks.
"""
from __future__ import annotations

from pathlib import Path

from workbench.core.benchmark import run_benchmark
from workbench.core.store import RunStore
from workbench.core.types import BenchmarkJob, RunStatus


def test_profiled_run_stores_runner_pss_and_uss(phone, demo_cnn: Path, tmp_path: Path) -> None:
    _peer, dev = phone
    store = RunStore(tmp_path / "ws")
    job = BenchmarkJob(model_path=demo_cnn, warmup=1, runs=100000, seconds=1.5, shapes={"image": [1, 3, 64, 64]},
                       telemetry_hz=20, layers=True, layer_runs=3)
    res = run_benchmark(dev, job, store, lambda ev: None)
    assert res.status is RunStatus.DONE, res.error
    keys = {c.key: c for c in store.channels(res.run_id)}
    assert keys["mem.runner.pss"].unit == keys["mem.runner.uss"].unit == "MB"
    samples = list(store.iter_samples(res.run_id))
    rss = [s for s in samples if "mem.runner.rss" in s.values]
    pss = [s for s in samples if "mem.runner.pss" in s.values]
    assert len(pss) >= 2, f"{len(pss)} PSS readings in {len(rss)} RSS ticks"
    assert len(pss) <= len(rss) // 10 + 1  # smaps_rollup every 10th tick, not every tick
    assert all("mem.runner.rss" in s.values for s in pss)  # on a regular tick, never a sample of its own
    for s in pss:
        assert "mem.runner.uss" in s.values
        assert 0 < s.values["mem.runner.uss"] <= s.values["mem.runner.pss"]  # PSS = private + shared share
        assert s.values["mem.runner.pss"] > 10  # python3 with onnxruntime loaded, not the sampler's shell
    its = store.iterations(res.run_id)
    assert any(its[0].t_start - 1 <= s.t <= its[-1].t_start + 1 for s in pss)  # read while the model ran
    mem = res.memory
    assert mem.peak_pss_mb is not None and mem.peak_uss_mb is not None and mem.peak_rss_mb is not None
    assert mem.peak_uss_mb <= mem.peak_pss_mb <= mem.peak_rss_mb  # RSS peak from VmHWM bounds any PSS
