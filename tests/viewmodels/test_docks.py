"""Dock and tab view-models without Qt: devices, models, run form, layers, compare, history."""
from __future__ import annotations

import numpy as np
import pytest

from workbench.core.devices.local import LocalDevice
from workbench.core.errors import InputSpecError, ModelError, WorkbenchError
from workbench.core.models import demo_model_path
from workbench.core.passes.variants import VariantStore
from workbench.core.types import BenchmarkResult, LatencyStats, LayerTiming, MemoryStats, RunStatus
from workbench.core.viewmodels.compare import cdf, check_selection, metric_rows
from workbench.core.viewmodels.devices import DevicesViewModel
from workbench.core.viewmodels.history import history_rows
from workbench.core.viewmodels.layers import LayersViewModel, diff_layers
from workbench.core.viewmodels.models import MAX_RECENT, ModelsViewModel, check_model_path, fidelity_text
from workbench.core.viewmodels.run_form import RunForm, parse_shapes


def test_devices_local_listing_and_info_reports_absent_probes() -> None:
    vm = DevicesViewModel(lambda: [LocalDevice()])
    vm.set_devices(vm.fetch_devices())
    assert vm.selected == "local" and vm.rows[0].usable
    vm.set_info(vm.fetch_info(vm.selected_device()))
    lines = vm.info_lines()
    assert ("[device]", "") in lines
    if vm.info.absent:  # this VM: no thermal zones, cpufreq, powercap, battery
        assert ("[absent]", "") in lines and any("thermal" in v for _, v in lines)


def test_check_model_path_errors_name_file_and_problem(tmp_path) -> None:
    with pytest.raises(ModelError, match=r"nope\.onnx: no such file"):
        check_model_path(tmp_path / "nope.onnx")
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(ModelError, match=r"a\.txt: not an ONNX model \(extension \.txt"):
        check_model_path(tmp_path / "a.txt")
    (tmp_path / "e.onnx").write_bytes(b"")
    with pytest.raises(ModelError, match="e.onnx: file is empty"):
        check_model_path(tmp_path / "e.onnx")
    with pytest.raises(ModelError, match="is a folder"):
        check_model_path(tmp_path)
    (tmp_path / "notes.onnx").write_text("these are my notes, not a model\n")
    with pytest.raises(ModelError, match=r"notes\.onnx: not an ONNX model \(looks like text\)"):
        check_model_path(tmp_path / "notes.onnx")  # the same words as `workbench inspect`, before it is listed


def test_recent_files_dedupe_and_cap(tmp_path) -> None:
    paths = []
    for i in range(MAX_RECENT + 3):
        p = tmp_path / f"m{i}.onnx"
        p.write_bytes(b"\x08\x07")
        paths.append(p)
    vm = ModelsViewModel()
    for p in paths:
        vm.open(p)
    vm.open(paths[5])
    assert len(vm.recent) == MAX_RECENT and vm.recent[0] == str(paths[5].resolve())
    assert len(set(vm.recent)) == MAX_RECENT
    assert vm.dropped([str(tmp_path / "x.png"), str(paths[1])]) == paths[1].resolve()


def test_variant_tree_from_real_store(tmp_path) -> None:
    store = VariantStore(tmp_path)
    model = demo_model_path("mobilenet_se")
    root = store.register_root(model)
    child, _ = store.derive(root, "fp16")
    vm = ModelsViewModel()
    vm.open(model)
    vm.set_variants(store.all())
    assert len(vm.tree) == 1 and vm.tree[0].path == model.resolve()  # root runs from the user's file
    kid = vm.tree[0].children[0]
    assert kid.label.startswith("fp16") and kid.path == child.path and "MB" in kid.detail
    assert "cos " in kid.detail and " dB" in kid.detail and kid.latency == ""  # fidelity vs root shown; never run yet
    # a finished run of the variant's file becomes its newest latency on that device
    from workbench.core.passes.measured import last_latencies
    from workbench.core.stats import latency_stats
    from workbench.core.store import RunStore
    from workbench.core.types import BenchmarkJob

    runs = RunStore(tmp_path)
    try:
        rid = runs.create_run("local", str(child.path), BenchmarkJob(model_path=child.path))
        runs.finish_run(BenchmarkResult(rid, RunStatus.DONE, "local", str(child.path),
                                        latency=latency_stats([2.0, 3.0, 4.0])))
        vm.set_variants(store.all(), last_latencies(runs, store.all()))
    finally:
        runs.close()
    assert vm.tree[0].children[0].latency == "local 3/3.8 ms" and vm.tree[0].latency == ""
    assert fidelity_text({"error": "no inputs"}) == "fidelity not measured: no inputs" and fidelity_text({}) == ""


def test_run_form_to_job_and_shape_errors(tmp_path) -> None:
    assert parse_shapes("image=1x3x224x224; mask = 1,128") == {"image": [1, 3, 224, 224], "mask": [1, 128]}
    for bad in ("image", "image=1xa", "=1x2", "x=0x3"):
        with pytest.raises(InputSpecError, match="expected NAME=DxDxD"):
            parse_shapes(bad)
    with pytest.raises(ModelError, match="no model selected"):
        RunForm(device="local").to_job()
    job = RunForm(model=tmp_path / "m.onnx", device="local", threads=2, seconds=3.0, layers=True).to_job()
    assert job.threads == 2 and job.seconds == 3.0 and job.layers and job.label == "m"
    assert RunForm(model=tmp_path / "m.onnx", device="local", runs=0, seconds=2.0).to_job().runs is None
    with pytest.raises(InputSpecError, match="runs: set an iteration count, or a duration"):
        RunForm(model=tmp_path / "m.onnx", device="local", runs=0).to_job()


def _lt(name: str, op: str, mean: float) -> LayerTiming:
    return LayerTiming(name, op, "CPUExecutionProvider", 10, mean, mean, mean * 1.2, mean * 10, 0.0)


def test_layers_filter_sort_top_ops_diff() -> None:
    vm = LayersViewModel()
    vm.set_layers([_lt("conv1", "Conv", 30), _lt("relu1", "Relu", 2), _lt("conv2", "Conv", 50), _lt("fc", "Gemm", 9)])
    vm.filter_text = "CONV"
    assert [lt.name for lt in vm.rows()] == ["conv2", "conv1"]
    vm.filter_text, vm.sort_key, vm.descending = "", "name", False
    assert [lt.name for lt in vm.rows()] == ["conv1", "conv2", "fc", "relu1"]
    assert [lt.name for lt in vm.top(2)] == ["conv2", "conv1"]
    assert vm.op_breakdown()[0] == {"op_type": "Conv", "nodes": 2, "mean_us": 80.0, "share": 0.0}
    vm.sort_key = "bogus"
    with pytest.raises(ValueError, match="unknown layer column 'bogus'"):
        vm.rows()
    rows = diff_layers(vm.layers, [_lt("conv1", "Conv", 15), _lt("conv2", "Conv", 52), _lt("new", "Add", 1)])
    assert [r.name for r in rows] == ["conv1", "conv2", "relu1", "fc", "new"]
    assert rows[0].delta_us == -15 and rows[0].ratio == 0.5 and rows[-1].a_us is None


def _result(run_id: int, p50: float, rss: float | None) -> BenchmarkResult:
    lat = LatencyStats(10, p50, 0.1, 0.01, p50 * 0.9, p50 * 1.5, p50, p50 * 1.1, p50 * 1.4)
    return BenchmarkResult(run_id, RunStatus.DONE, "local", "m.onnx", latency=lat, memory=MemoryStats(peak_rss_mb=rss))


def test_compare_metrics_deltas_best_and_cdf() -> None:
    with pytest.raises(WorkbenchError, match="2 to 4 different runs, got 1"):
        check_selection([3, 3])
    assert check_selection([3, 5, 3]) == [3, 5]
    rows = {r.label: r for r in metric_rows([_result(1, 10.0, 100.0), _result(2, 5.0, None)])}
    p50 = rows["p50 latency"]
    assert p50.values == [10.0, 5.0] and p50.deltas == [0.0, -5.0] and p50.ratios == [1.0, 0.5] and p50.best == 1
    assert rows["peak RSS"].best is None and "first run" not in rows  # absent everywhere: no row
    x, y = cdf([3.0, 1.0, 2.0, 2.0])
    assert x.tolist() == [1, 2, 2, 3] and y[-1] == 1.0 and np.all(np.diff(y) > 0)


def test_history_rows() -> None:
    rows = history_rows([dict(id=4, device="local", model="/a/b/m.onnx", label="m", status="done",
                              started_at=0.0, ended_at=1.0, samples=12, iterations=50, p50_ms=1.23456),
                         dict(id=3, device="local", model="m.onnx", label=None, status="failed",
                              started_at=None, ended_at=None, samples=0, iterations=0, p50_ms=None)])
    assert rows[0].run_id == 4 and rows[0].cells[3] == "m.onnx" and rows[0].cells[6] == "1.235"
    assert rows[1].cells[6] == "" and rows[1].status == "failed"
