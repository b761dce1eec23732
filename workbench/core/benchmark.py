"""One benchmark run, end to end: prepare, telemetry, runner, statistics, store, events.

Blocking by design: the CLI calls it directly, the GUI calls it from a worker thread. Whatever happens
(cancel, crash in the runner, unplugged device) the run ends with a status and everything measured so far
is already in the store.
"""
from __future__ import annotations

import os
import threading
from typing import Any

from workbench.core.cooldown import wait_for_cooldown
from workbench.core.devices.base import Device, RunnerOutput
from workbench.core.errors import DeviceDisconnected, RunCancelled, RunFailed, WorkbenchError
from workbench.core.events import (
    ChannelsKnown,
    Emit,
    Iteration,
    LayersReady,
    Log,
    Progress,
    RunFinished,
    RunStarted,
    SampleEvent,
)
from workbench.core.runner.check_inputs import check_job_inputs
from workbench.core.runner.ort_profile import first_run_ts_us, parse_profile
from workbench.core.stats import latency_stats, percentile
from workbench.core.stopping import RunStop
from workbench.core.store import RunStore
from workbench.core.types import BenchmarkJob, BenchmarkResult, MemoryStats, ProfiledSummary, RunStatus, Sample


class _RunRecorder:
    """Collects what arrives during a run, writes it to the store at once and forwards it as events."""

    def __init__(self, store: RunStore, run_id: int, emit: Emit, job: BenchmarkJob) -> None:
        self.store, self.run_id, self.emit, self.job = store, run_id, emit, job
        self.samples: list[Sample] = []
        self.measured = 0
        self.cooldown: dict[str, Any] | None = None
        self.last_values: dict[str, float] = {}  # newest value per channel (slow channels skip ticks)
        self._lock = threading.Lock()

    def on_sample(self, sample: Sample) -> None:
        self.store.add_sample(self.run_id, sample)
        with self._lock:
            self.samples.append(sample)
            self.last_values.update(sample.values)
        self.emit(SampleEvent(self.run_id, sample))

    def latest(self) -> Sample | None:
        """The newest known value of every channel, stamped with the newest tick's time."""
        with self._lock:
            return Sample(self.samples[-1].t, dict(self.last_values)) if self.samples else None

    def on_iteration(self, it) -> None:
        self.store.add_iteration(self.run_id, it)
        self.emit(Iteration(self.run_id, it))
        if it.phase == "measure":
            self.measured += 1
            total = self.job.runs if self.job.seconds is None else None
            self.emit(Progress("measure", self.measured, total, f"iteration {self.measured}"))


def run_benchmark(device: Device, job: BenchmarkJob, store: RunStore, emit: Emit,
                  cancel: threading.Event | None = None) -> BenchmarkResult:
    """Run `job` on `device`; the returned result is also stored and emitted as RunFinished.

    Whatever happens, the run row ends with a final status: an unexpected exception is stored as `failed`
    (with its type and message) and then re-raised, so a bug is visible instead of a run stuck `running`.
    """
    cancel = cancel or threading.Event()
    if job.shapes or job.inputs:
        check_job_inputs(job)  # a typo is a one-line error, not a failed run in the history
    emit = _isolated(emit)
    run_id = store.create_run(device.serial, str(job.model_path), job)
    rec = _RunRecorder(store, run_id, emit, job)
    result = BenchmarkResult(run_id=run_id, status=RunStatus.RUNNING, device=device.serial, model=str(job.model_path))
    load_before = _loadavg()
    telemetry = None
    output: RunnerOutput | None = None
    unexpected: BaseException | None = None
    try:
        emit(RunStarted(run_id, device.serial, str(job.model_path), device.clock()))
        telemetry = device.telemetry(job.telemetry_hz)
        channels = telemetry.channels()
        store.add_channels(run_id, channels)
        emit(ChannelsKnown(run_id, channels))
        telemetry.start(rec.on_sample)
        emit(Progress("prepare", 0, None, "preparing model"))
        remote = device.prepare(job.model_path, lambda done, total: emit(Progress("push", done, total)))
        if job.cooldown_c is not None:
            gate = wait_for_cooldown(rec.latest, store.idle_temperatures(device.serial), job.cooldown_c,
                                     job.cooldown_timeout_s, cancel, emit)
            rec.cooldown = gate
            if cancel.is_set():
                raise RunCancelled("cancelled during cooldown")
        output = device.run(job, remote, rec.on_iteration, telemetry.watch_pid, cancel)
        result.status = RunStatus.DONE
    except (RunCancelled, KeyboardInterrupt):
        if isinstance(cancel, RunStop) and cancel.planned:
            result.status = RunStatus.DONE
        else:
            result.status, result.error = RunStatus.CANCELLED, getattr(cancel, "reason", "cancelled by the user")
    except DeviceDisconnected as exc:
        result.status, result.error = RunStatus.INTERRUPTED, str(exc)
    except (RunFailed, WorkbenchError) as exc:
        result.status, result.error = RunStatus.FAILED, str(exc)
    except Exception as exc:  # noqa: BLE001 - stored as failed, then re-raised below
        result.status, result.error = RunStatus.FAILED, f"internal error: {type(exc).__name__}: {exc}"
        unexpected = exc
    finally:
        _finalize(result, job, store, rec, telemetry, output, load_before, cancel, emit)
    if unexpected is not None:
        raise unexpected
    return result


def _finalize(result: BenchmarkResult, job: BenchmarkJob, store: RunStore, rec: _RunRecorder, telemetry,
              output: RunnerOutput | None, load_before, cancel: threading.Event, emit: Emit) -> None:
    """Stop telemetry, summarize, store layers and the final status; each step may fail without losing the
    final status (the run row must never stay `running`)."""
    telemetry_problems: list[str] = []
    if telemetry is not None:
        try:
            telemetry.stop()
        except Exception as exc:  # noqa: BLE001
            emit(Log("warning", f"telemetry did not stop cleanly: {exc}"))
        telemetry_problems = telemetry.problems()
    try:
        _summarize(result, job, rec, output, load_before)
        if isinstance(cancel, RunStop) and cancel.planned:
            result.conditions["stopped_early"] = cancel.reason
        if output is not None and output.profile_events:
            _store_layers(store, result, output)
            emit(LayersReady(result.run_id, result.layers))
    except Exception as exc:  # noqa: BLE001 - keep what was measured; say what could not be summarized
        result.error = (result.error + "; " if result.error else "") + f"summary failed: {type(exc).__name__}: {exc}"
        if result.status == RunStatus.DONE:
            result.status = RunStatus.FAILED
    if telemetry_problems:
        result.conditions["telemetry_problems"] = telemetry_problems[:20]
    if emit.failures:  # type: ignore[attr-defined]
        result.conditions["event_consumer_errors"] = list(emit.failures)  # type: ignore[attr-defined]
    store.finish_run(result)
    emit(RunFinished(result.run_id, result))


def _isolated(emit: Emit) -> Emit:
    """An emit whose consumer failures never reach the runner or the store: a broken view (GUI bridge,
    progress bar) must not kill a measurement. The first few failures are kept for the run's conditions."""
    failures: list[str] = []

    def safe(event) -> None:
        try:
            emit(event)
        except Exception as exc:  # noqa: BLE001
            if len(failures) < 5:
                failures.append(f"{type(event).__name__}: {type(exc).__name__}: {exc}")

    safe.failures = failures  # type: ignore[attr-defined]
    return safe


def _summarize(result: BenchmarkResult, job: BenchmarkJob, rec: _RunRecorder, output: RunnerOutput | None,
               load_before: tuple[float, ...] | None) -> None:
    iters = output.iterations if output else rec.store.iterations(result.run_id)
    measured = [it.latency_ms for it in iters if it.phase == "measure"]
    warm = [it.latency_ms for it in iters if it.phase == "warmup"]
    result.latency = latency_stats(measured)
    result.first_run_ms = (warm or measured or [None])[0]
    with rec._lock:
        samples = list(rec.samples)
    result.memory = _memory(samples, output)
    result.conditions = _conditions(job, samples, load_before, output)
    if rec.cooldown is not None:
        result.conditions["cooldown"] = rec.cooldown
    if output:
        result.session_load_ms = output.session_load_ms
        result.inputs = output.inputs
        result.outputs_digest = output.outputs_digest


def _store_layers(store: RunStore, result: BenchmarkResult, output: RunnerOutput) -> None:
    skip = int(output.runtime.get("profile_skip_runs", 0))
    parsed = parse_profile(output.profile_events, skip_runs=skip)
    result.layers = parsed.layers
    profiled_ms = [it.latency_ms for it in output.iterations if it.phase == "profiled"]
    runs_ms = [d / 1e3 for d in parsed.run_durations_us]
    sums_ms = [s / 1e3 for s in parsed.layer_sums_us]
    if runs_ms:
        run_mean = sum(runs_ms) / len(runs_ms)
        layer_sum = sum(sums_ms) / len(sums_ms)
        unprof = result.latency.p50_ms if result.latency else None
        prof_p50 = percentile(profiled_ms or runs_ms, 50)
        result.profiled = ProfiledSummary(
            runs=len(runs_ms), run_mean_ms=run_mean, run_p50_ms=percentile(runs_ms, 50), layer_sum_ms=layer_sum,
            coverage=layer_sum / run_mean if run_mean > 0 else 0.0,
            overhead_pct=((prof_p50 / unprof - 1) * 100) if unprof else float("nan"),
        )
    base_ts = first_run_ts_us(output.profile_events)
    t0 = output.runtime.get("profile_t0")
    events = [(ev.run, ev.name, ev.op_type,
               (t0 + (ev.ts_us - base_ts) / 1e6) if (t0 is not None and base_ts is not None) else ev.ts_us / 1e6,
               ev.dur_us) for ev in parsed.node_events]
    store.add_layers(result.run_id, result.layers, events)


def _memory(samples: list[Sample], output: RunnerOutput | None) -> MemoryStats:
    def peak(key: str) -> float | None:
        vals = [s.values[key] for s in samples if key in s.values]
        return max(vals) if vals else None

    rss = [v for v in (peak("mem.runner.rss"), output.max_rss_mb if output else None) if v is not None]
    return MemoryStats(peak_rss_mb=max(rss) if rss else None, peak_pss_mb=peak("mem.runner.pss"),
                       peak_uss_mb=peak("mem.runner.uss"),
                       rss_after_load_mb=output.rss_after_load_mb if output else None)


def _loadavg() -> tuple[float, ...] | None:
    try:
        return os.getloadavg()
    except OSError:
        return None


def _first_or_last_temps(samples: list[Sample]) -> dict[str, float]:
    """First known value of each thermal zone in `samples` (slow channels, e.g. the Android thermal HAL, are
    not on every tick, so the first or last tick alone may lack them)."""
    temps: dict[str, float] = {}
    for sample in samples:
        for key, value in sample.values.items():
            if key.startswith("thermal.") and key != "thermal.status":
                temps.setdefault(key, value)
    return temps


def _conditions(job: BenchmarkJob, samples: list[Sample], load_before, output: RunnerOutput | None) -> dict[str, Any]:
    temps_start = _first_or_last_temps(samples)
    temps_end = _first_or_last_temps(samples[::-1])
    loads = [s.values["cpu.load.all"] for s in samples if "cpu.load.all" in s.values]
    return {
        "threads": job.threads, "spin": job.spin, "affinity": job.affinity, "warmup": job.warmup,
        "runs": job.runs, "seconds": job.seconds, "telemetry_hz": job.telemetry_hz,
        "temp_start_c": temps_start or None, "temp_end_c": temps_end or None,
        "loadavg_before": load_before, "loadavg_after": _loadavg(),
        "cpu_load_mean_pct": (sum(loads) / len(loads)) if loads else None,
        "samples": len(samples),
        "runtime": output.runtime if output else {},
    }
