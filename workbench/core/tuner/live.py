"""The real `measure`: one trial = one stored benchmark run on a device (through run_benchmark).

Early stop works by stopping the run from the iteration stream once `should_stop` says the trial is
hopeless (a planned RunStop: the run is stored as done, its conditions say `stopped_early`).
Fidelity is measured once per (variant, resolution) on the host with onnxruntime against the reference variant.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import onnx

from workbench.core.benchmark import run_benchmark
from workbench.core.stopping import RunStop
from workbench.core.devices.base import Device
from workbench.core.errors import DeviceDisconnected, ModelError, RunCancelled, RunFailed
from workbench.core.events import Emit, Iteration
from workbench.core.passes import fidelity as fid
from workbench.core.store import RunStore
from workbench.core.tuner.measurement import ShouldStop, TrialMeasurement
from workbench.core.tuner.power import run_power
from workbench.core.tuner.space import TrialConfig
from workbench.core.types import BenchmarkJob, RunStatus

if TYPE_CHECKING:
    from workbench.core.tuner.pass_knobs import PassKnobs


def shapes_for(model_path: Path, resolution: int, batch: int) -> dict[str, list[int]]:
    """Concrete input shapes: batch on a symbolic first axis, `resolution` on symbolic spatial axes of
    image-like (NCHW/NHWC) inputs. Inputs with other unresolved axes are left to the runner's defaults."""
    model = onnx.load(str(model_path), load_external_data=False)
    shapes: dict[str, list[int]] = {}
    for name, _, dims in fid.input_signature(model):
        sym = [not isinstance(d, int) or d <= 0 for d in dims]
        out = list(dims)
        if dims and sym[0]:
            out[0] = batch
        if len(dims) == 4:
            spatial = (2, 3) if (isinstance(dims[1], int) and dims[1] in (1, 3, 4)) else (1, 2)
            if resolution:
                if not any(sym[i] for i in spatial):
                    fixed = [dims[i] for i in spatial]
                    if fixed != [resolution, resolution]:
                        raise ModelError(model_path, f"input {name!r} has fixed spatial size {fixed}; it cannot "
                                                     f"run at {resolution}px (use fix-shape or drop --resolutions)")
                for i in spatial:
                    out[i] = resolution
        if all(isinstance(d, int) and d > 0 for d in out):
            shapes[name] = [int(d) for d in out]
    return shapes


class BenchmarkMeasure:
    """`measure(config, should_stop)` backed by real runs; every trial is a run in `store`."""

    def __init__(self, device: Device, store: RunStore, variants: dict[str, Path], reference: str | None = None,
                 *, warmup: int = 3, runs: int = 30, seconds: float | None = None, emit: Emit | None = None,
                 cancel: threading.Event | None = None, fidelity_samples: int = 3,
                 knobs: "PassKnobs | None" = None) -> None:
        self.device, self.store, self.variants = device, store, variants
        self.knobs = knobs  # turns pass.* knobs into derived variants; None = a space without pass knobs
        self.reference = reference
        self.warmup, self.runs, self.seconds = warmup, runs, seconds
        self.emit = emit or (lambda e: None)
        self.cancel = cancel or threading.Event()
        self.fidelity_samples = fidelity_samples
        self._fidelity: dict[tuple[str, int], dict[str, Any]] = {}
        self.run_ids: list[int] = []

    def path(self, variant: str) -> Path:
        if variant not in self.variants:
            raise RunFailed(f"unknown variant {variant!r} (known: {', '.join(sorted(self.variants))})")
        return self.variants[variant]

    def path_for(self, config: TrialConfig) -> Path:
        """The file a trial runs: its variant, or the variant its pass knobs derive from it."""
        if config.pass_params:
            if self.knobs is None:
                raise RunFailed(f"trial {config.label()} has pass knobs but the tuner was given no variant store")
            return Path(self.knobs.variant(config).path)
        return self.path(config.variant)

    def fidelity(self, config: TrialConfig) -> dict[str, Any]:
        """Cosine/SNR/top-1 vs the reference at this resolution (batch 1); {} without a reference."""
        if self.reference is None:
            return {}
        path = self.path_for(config)
        if path == self.path(self.reference):
            return {"cosine": 1.0, "top1": 1.0}
        key = (str(path), config.resolution)
        if key not in self._fidelity:
            ref = self.path(self.reference)
            shapes = shapes_for(ref, config.resolution, 1)
            rep = fid.measure(path, ref, ref, samples=self.fidelity_samples, shapes=shapes or None)
            self._fidelity[key] = {k: v for k, v in rep.vs_root["summary"].items() if isinstance(v, (int, float))}
        return self._fidelity[key]

    def job(self, config: TrialConfig) -> BenchmarkJob:
        path = self.path_for(config)
        return BenchmarkJob(model_path=path, warmup=self.warmup, runs=self.runs, seconds=self.seconds,
                            threads=config.threads, shapes=shapes_for(path, config.resolution, config.batch),
                            spin=config.spin, providers=[config.provider], label=f"tune {config.label()}")

    def __call__(self, config: TrialConfig, should_stop: ShouldStop) -> TrialMeasurement:
        job = self.job(config)
        trial_cancel = RunStop()
        latencies: list[float] = []
        stopped = [False]

        def emit(event: Any) -> None:
            self.emit(event)
            if isinstance(event, Iteration) and event.iteration.phase == "measure":
                latencies.append(event.iteration.latency_ms)
                if not stopped[0] and should_stop(latencies):
                    stopped[0] = True
                    trial_cancel.stop("hopeless trial: already over the latency budget")
            if self.cancel.is_set():
                trial_cancel.stop("tuning cancelled by the user", planned=False)

        result = run_benchmark(self.device, job, self.store, emit, trial_cancel)
        self.run_ids.append(result.run_id)
        if result.status == RunStatus.INTERRUPTED:
            raise DeviceDisconnected(self.device.serial, result.error or "disconnected during a trial")
        if result.status == RunStatus.CANCELLED:
            raise RunCancelled("tuning cancelled")
        if result.status == RunStatus.FAILED:
            raise RunFailed(result.error or f"run {result.run_id} failed")
        if stopped[0] or result.latency is None:
            if not latencies:
                raise RunFailed(f"run {result.run_id} produced no iterations")
            m = TrialMeasurement.from_latencies(latencies, stopped_early=True)
        else:
            m = TrialMeasurement(p50_ms=result.latency.p50_ms, p90_ms=result.latency.p90_ms,
                                 iterations=result.latency.count)
        m.run_id = result.run_id
        m.peak_memory_mb = result.memory.peak_rss_mb
        power = run_power(self.store, result.run_id)
        m.power_w = power.watts
        if m.power_w is not None:
            m.energy_mj = m.power_w * m.p50_ms  # W x ms = mJ per inference call
        f = self.fidelity(config)
        m.fidelity = f.get("cosine")
        m.extra = {"fidelity": f, "power": power.to_json()}  # says why energy is unknown when it is
        return m

