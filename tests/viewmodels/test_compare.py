"""Compare view-model on a real run store and variant store: energy, file size, fidelity, aligned traces."""
from __future__ import annotations

import math

import numpy as np
import pytest

from workbench.core.models import demo_model_path
from workbench.core.passes.variants import VariantStore
from workbench.core.store import RunStore
from workbench.core.types import BenchmarkJob, ChannelSpec, IterationEvent, RunStatus, Sample
from workbench.core.stats import latency_stats
from workbench.core.types import BenchmarkResult
from workbench.core.viewmodels.compare import load_compare, metric_rows, run_t0, trace_groups

CHANNELS = [ChannelSpec("cpu.load.all", "%", "cpu_load", "all"),
            ChannelSpec("thermal.cpu", "C", "thermal", "cpu"),  # present in the list, never read
            ChannelSpec("power.rapl.package-0", "W", "power", "package-0")]


def _record(store: RunStore, model, t0: float, lat_ms: list[float], watts: float | None) -> int:
    """A finished run as run_benchmark writes it: channels, 10 Hz samples, iterations, result."""
    run_id = store.create_run("local", str(model), BenchmarkJob(model_path=model))
    chans = CHANNELS if watts is not None else CHANNELS[:2]
    store.add_channels(run_id, chans)
    t_end = t0 + 0.2 + sum(lat_ms) / 1000 + 0.2
    for k, t in enumerate(np.arange(t0, t_end, 0.1)):
        values = {"cpu.load.all": 50.0 + k, "thermal.cpu": math.nan}
        if watts is not None:
            values["power.rapl.package-0"] = watts
        store.add_sample(run_id, Sample(float(t), values))
    t = t0 + 0.2
    for i, ms in enumerate(lat_ms):
        store.add_iteration(run_id, IterationEvent(i, "measure", t, ms))
        t += ms / 1000
    store.finish_run(BenchmarkResult(run_id, RunStatus.DONE, "local", str(model), latency=latency_stats(lat_ms)))
    return run_id


def test_energy_size_fidelity_and_aligned_traces(tmp_path) -> None:
    variants = VariantStore(tmp_path)
    model = demo_model_path("mobilenet_se")
    root = variants.register_root(model)
    fp16, _ = variants.derive(root, "fp16")
    store = RunStore(tmp_path)
    try:
        a = _record(store, model, 1000.0, [4.0] * 30, watts=2.5)
        b = _record(store, fp16.path, 5000.0, [3.0] * 30, watts=None)
        data = load_compare(store, [a, b], variants)
    finally:
        store.close()
    ea, eb = data.extras
    assert ea.energy_mj == pytest.approx(2.5 * 4.0) and ea.power_w == pytest.approx(2.5)
    assert eb.energy_mj is None and "no power telemetry" in eb.power_note
    assert ea.file_mb == pytest.approx(model.stat().st_size / 2**20)
    assert eb.file_mb == pytest.approx(fp16.size / 2**20) and eb.file_mb < ea.file_mb
    assert ea.variant.startswith("root ") and eb.variant.startswith("fp16 ")
    assert 0.99 < eb.fidelity["cosine"] <= 1.0
    rows = {r.label: r for r in metric_rows(data.results, data.extras)}
    assert rows["model file"].best == 1 and rows["energy / inference"].values[1] is None
    assert rows["fidelity: cosine vs root"].values[1] == pytest.approx(eb.fidelity["cosine"])
    # both runs start at 0 s although they were recorded 4000 s apart on the device clock
    for tr in data.traces:
        assert tr.t[0] == 0.0 and tr.iterations[0].t_start == pytest.approx(0.2)
    groups = {g: [c.key for c in specs] for g, _, specs in trace_groups(data.traces)}
    assert groups == {"cpu_load": ["cpu.load.all"], "power": ["power.rapl.package-0"]}  # thermal never read


def test_run_t0_takes_the_earliest_of_samples_and_iterations() -> None:
    its = [IterationEvent(0, "measure", 10.5, 1.0)]
    assert run_t0(np.array([11.0, 12.0]), its) == 10.5
    assert run_t0(np.array([9.0]), its) == 9.0
    assert run_t0(np.array([]), []) == 0.0
