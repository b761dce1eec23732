"""Host side of the runner's JSON-lines protocol (see ort_child.py), shared by local and adb devices."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

from workbench.core.types import IterationEvent


@dataclass
class RunnerProtocolState:
    """Accumulates what the runner reported; `feed` one stdout line at a time."""

    on_iteration: Callable[[IterationEvent], None]
    on_pid: Callable[[int], None]
    pid: int | None = None
    iterations: list[IterationEvent] = field(default_factory=list)
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    load_ms: float | None = None
    rss_after_load_mb: float | None = None
    profile_path: str | None = None
    profile_skip_runs: int = 0
    profile_t0: float | None = None
    profile_events: list[dict[str, Any]] = field(default_factory=list)  # streamed by the runner (compact)
    profile_events_declared: int | None = None  # count the runner says it sent; None: read the file instead
    done: dict[str, Any] | None = None
    error: str | None = None
    noise: list[str] = field(default_factory=list)  # non-protocol lines (warnings printed by libraries)

    @property
    def profile_streamed(self) -> bool:
        """The runner streamed its whole profile on stdout (no file to load on the host)."""
        return self.profile_events_declared is not None and self.profile_events_declared == len(self.profile_events)

    def feed(self, line: str) -> None:
        line = line.strip()
        if not line:
            return
        try:
            msg = json.loads(line)
            ev = msg["ev"]
        except (ValueError, KeyError, TypeError):
            self.noise.append(line[:300])
            del self.noise[:-20]
            return
        if ev == "hello":
            self.pid = int(msg["pid"])
            self.on_pid(self.pid)
        elif ev == "inputs":
            self.inputs = msg["inputs"]
        elif ev == "loaded":
            self.load_ms = msg.get("ms")
            self.rss_after_load_mb = msg.get("rss_mb")
        elif ev == "iter":
            it = IterationEvent(int(msg["i"]), str(msg["phase"]), float(msg["t"]), float(msg["ms"]))
            self.iterations.append(it)
            self.on_iteration(it)
        elif ev == "profile_events":
            self.profile_events.extend(e for e in msg.get("events", []) if isinstance(e, dict))
        elif ev == "profile":
            self.profile_path = msg["path"]
            declared = msg.get("events")
            self.profile_events_declared = int(declared) if isinstance(declared, int) else None
            self.profile_skip_runs = int(msg.get("skip_runs", 0))
            self.profile_t0 = msg.get("t0")
        elif ev == "done":
            self.done = msg
        elif ev == "error":
            self.error = str(msg.get("message", "unknown error"))


def job_to_spec(job_json: dict[str, Any], model_path: str, work_dir: str, pid_file: str | None = None,
                clock: str = "monotonic") -> dict[str, Any]:
    """The child's job file: the BenchmarkJob fields it understands, with device-side paths."""
    spec = {k: job_json.get(k) for k in ("warmup", "runs", "seconds", "threads", "shapes", "spin", "layers",
                                          "layer_runs", "affinity", "seed", "providers")}
    spec.update(model_path=model_path, work_dir=work_dir, inputs=job_json.get("inputs", {}), pid_file=pid_file,
                clock=clock, vocab_hints=_vocab_hints(job_json.get("model_path")))
    return spec


def _vocab_hints(host_model_path: str | None) -> dict[str, int]:
    """Embedding-table sizes for token inputs, read on the host (the device may have no onnx package), so
    generated ids stay in range even when the model's vocab_size metadata is larger than its table."""
    if not host_model_path:
        return {}
    try:
        import onnx

        from workbench.core.passes.fidelity import vocab_hints

        return vocab_hints(onnx.load(host_model_path, load_external_data=False))
    except Exception:  # noqa: BLE001 - hints are an optimisation; the runner still uses metadata/defaults
        return {}
