"""The local device end to end: real onnxruntime child process, real probes, real store."""
from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import onnx
import onnxruntime as ort
import pytest

from workbench.core.benchmark import run_benchmark
from workbench.core.devices.local import LocalDevice
from workbench.core.events import ChannelsKnown, Iteration, LayersReady, RunFinished, SampleEvent
from workbench.core.store import RunStore
from workbench.core.types import BenchmarkJob, RunStatus

MODELS = Path(__file__).resolve().parents[2] / "resources" / "models"


def run(job: BenchmarkJob, ws: Path, device=None, cancel=None):
    events = []
    store = RunStore(ws)
    result = run_benchmark(device or LocalDevice(), job, store, events.append, cancel)
    return result, events, store


def test_layers_map_to_optimized_graph_and_sum_to_profiled_run(tmp_path: Path) -> None:
    model = MODELS / "mobilenet_se.onnx"
    job = BenchmarkJob(model_path=model, warmup=2, runs=10, threads=1, layers=True, layer_runs=8,
                       shapes={"image": [1, 3, 160, 160]})
    result, events, store = run(job, tmp_path / "ws")
    assert result.status == RunStatus.DONE, result.error
    assert result.latency.count == 10
    assert result.inputs["image"]["shape"] == [1, 3, 160, 160]
    # Node names are those of the optimized graph ORT actually executed.
    so = ort.SessionOptions()
    so.optimized_model_filepath = str(tmp_path / "opt.onnx")
    ort.InferenceSession(str(model), so, providers=["CPUExecutionProvider"])
    opt_names = {n.name for n in onnx.load(str(tmp_path / "opt.onnx")).graph.node}
    layer_names = {lt.name for lt in result.layers}
    assert layer_names and layer_names <= opt_names, layer_names - opt_names
    assert abs(sum(lt.share for lt in result.layers) - 1.0) < 1e-6
    p = result.profiled
    assert p.runs == 8 and 0.5 < p.coverage <= 1.0  # bench/profiling_overhead.py prints the real figure
    assert any(isinstance(e, LayersReady) for e in events)
    assert store.layers(result.run_id) == result.layers
    assert len(store.layer_events(result.run_id)) >= 8 * len(result.layers) * 0.9


def test_events_and_store_agree(tmp_path: Path) -> None:
    job = BenchmarkJob(model_path=MODELS / "text_encoder.onnx", warmup=1, runs=15, telemetry_hz=50)
    result, events, store = run(job, tmp_path / "ws")
    assert result.status == RunStatus.DONE, result.error
    iters = [e.iteration for e in events if isinstance(e, Iteration)]
    assert [i.phase for i in iters].count("measure") == 15
    assert store.iterations(result.run_id) == iters
    samples = [e.sample for e in events if isinstance(e, SampleEvent)]
    t, series = store.samples(result.run_id)
    assert len(t) == len(samples) > 0
    channels = next(e.channels for e in events if isinstance(e, ChannelsKnown))
    assert {"cpu.load.all", "mem.system.used"} <= {c.key for c in channels}
    # one monotonic clock: iteration timestamps fall inside the sampled span (give or take a tick)
    assert t[0] - 0.5 <= iters[0].t_start <= t[-1] + 0.5
    assert result.inputs["input_ids"]["dtype"] == "int64"
    assert isinstance(events[-1], RunFinished)
    assert result.memory.peak_rss_mb and result.memory.peak_rss_mb > 10


def test_runner_crash_is_a_failed_run_not_a_dead_workbench(tmp_path: Path) -> None:
    job = BenchmarkJob(model_path=MODELS / "mobilenet_se.onnx", warmup=0, runs=100000)
    pids: list[int] = []

    class CrashingLocal(LocalDevice):
        def run(self, job, path, on_iteration, on_pid, cancel):
            def kill_on_third(it):
                on_iteration(it)
                if it.index == 3:
                    os.kill(pids[0], signal.SIGSEGV)

            return super().run(job, path, kill_on_third, lambda pid: (pids.append(pid), on_pid(pid)), cancel)

    result, _, store = run(job, tmp_path / "ws", device=CrashingLocal())
    assert result.status == RunStatus.FAILED
    assert "SIGSEGV" in result.error
    assert len(store.iterations(result.run_id)) >= 4  # what was measured before the crash is kept


def test_cancel_kills_the_runner_and_marks_cancelled(tmp_path: Path) -> None:
    cancel = threading.Event()
    job = BenchmarkJob(model_path=MODELS / "mobilenet_se.onnx", warmup=0, runs=None, seconds=60)
    pids: list[int] = []

    class Watching(LocalDevice):
        def run(self, job, path, on_iteration, on_pid, cancel_):
            def it_cb(it):
                on_iteration(it)
                if it.index == 2:
                    cancel.set()
            return super().run(job, path, it_cb, lambda p: (pids.append(p), on_pid(p)), cancel_)

    result, _, _ = run(job, tmp_path / "ws", device=Watching(), cancel=cancel)
    assert result.status == RunStatus.CANCELLED
    with pytest.raises(ProcessLookupError):
        os.kill(pids[0], 0)


def test_bad_input_name_is_refused_before_a_run_exists(tmp_path: Path) -> None:
    from workbench.core.errors import InputSpecError

    job = BenchmarkJob(model_path=MODELS / "mobilenet_se.onnx", runs=2, shapes={"imgae": [1, 3, 64, 64]})
    with pytest.raises(InputSpecError, match="no input named 'imgae' \\(inputs: image\\)"):
        run(job, tmp_path / "ws")
    assert RunStore(tmp_path / "ws").list_runs() == []  # a typo leaves no failed run in the history


def test_the_runner_still_reports_what_only_it_can_see(tmp_path: Path) -> None:
    """A shape the graph cannot take (position table of 128 rows): ORT's reason reaches the failed run."""
    job = BenchmarkJob(model_path=MODELS / "text_encoder.onnx", runs=1, warmup=0,
                       shapes={"input_ids": [1, 512], "attention_mask": [1, 512]})
    result, _, _ = run(job, tmp_path / "ws")
    assert result.status == RunStatus.FAILED and result.error


def test_unexpected_error_is_stored_as_failed_and_reraised(tmp_path: Path) -> None:
    class BrokenPrepare(LocalDevice):
        def prepare(self, model, progress=None):
            raise OSError(28, "No space left on device")

    store = RunStore(tmp_path / "ws")
    with pytest.raises(OSError):
        run_benchmark(BrokenPrepare(), BenchmarkJob(model_path=MODELS / "wild_cnn.onnx", runs=2), store,
                      lambda e: None)
    row = store.list_runs()[0]
    assert row["status"] == RunStatus.FAILED.value
    assert "No space left" in store.get_result(row["id"]).error


def test_a_broken_event_consumer_does_not_lose_the_run(tmp_path: Path) -> None:
    def broken_view(event) -> None:
        if isinstance(event, Iteration):
            raise RuntimeError("view exploded")

    store = RunStore(tmp_path / "ws")
    result = run_benchmark(LocalDevice(), BenchmarkJob(model_path=MODELS / "wild_cnn.onnx", warmup=1, runs=5),
                           store, broken_view)
    assert result.status == RunStatus.DONE and result.latency.count == 5
    assert len(store.iterations(result.run_id)) == 6  # stored before the view saw them
    assert "view exploded" in result.conditions["event_consumer_errors"][0]


def test_a_raising_probe_is_disabled_and_the_run_says_so(tmp_path: Path) -> None:
    """A third-party probe (public Probe API) that raises: sampling goes on, the run records why."""
    from workbench.core.telemetry.local_probes import local_probes
    from workbench.core.telemetry.probe import Probe
    from workbench.core.telemetry.sampler import ProbeSampler
    from workbench.core.types import ChannelSpec

    class FlakyRail(Probe):
        id = "flaky_rail"

        def channels(self):
            return [ChannelSpec("power.rail.flaky", "W", "power", "flaky")]

        def read(self):
            raise OSError(5, "Input/output error reading the rail")

    class WithFlakyProbe(LocalDevice):
        def telemetry(self, rate_hz):
            return ProbeSampler([*local_probes(), FlakyRail()], rate_hz, clock=self.clock)

    store = RunStore(tmp_path / "ws")
    result = run_benchmark(WithFlakyProbe(), BenchmarkJob(model_path=MODELS / "wild_cnn.onnx", runs=20,
                                                          telemetry_hz=50), store, lambda e: None)
    assert result.status == RunStatus.DONE
    assert any("flaky_rail" in p and "Input/output error" in p for p in result.conditions["telemetry_problems"])
    assert any("cpu.load.all" in s.values for s in store.iter_samples(result.run_id))
