"""Run panel logic: the form's values, validated into a `BenchmarkJob` with one-line errors."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from workbench.core.errors import InputSpecError, ModelError
from workbench.core.knobs import parse_affinity, parse_shapes
from workbench.core.types import BenchmarkJob

RUNNERS = ("ort-python", "ort-perf-test")
ADB_ONLY_RUNNERS = frozenset({"ort-perf-test"})  # drives onnxruntime_perf_test on an Android device


@dataclass
class RunForm:
    """What the run panel shows; `None` threads means the runtime default."""

    model: Path | None = None
    device: str | None = None
    device_kind: str | None = None  # "local" / "adb": which runners can run there
    threads: int | None = None
    shapes: str = ""
    warmup: int = 5
    runs: int = 50  # 0 with a duration: no cap, run until the duration ends
    seconds: float | None = None  # set: run for this long (runs becomes a cap)
    layers: bool = False
    spin: bool | None = None
    telemetry_hz: float = 10.0
    runner: str = "ort-python"
    cooldown_c: float | None = None  # None: no cooldown gate
    cooldown_timeout_s: float = 120.0
    affinity: str = ""  # CPU list as typed, e.g. "0,1" or "4-7"

    def to_job(self) -> BenchmarkJob:
        if self.model is None:
            raise ModelError("(none)", "no model selected: open an .onnx file first")
        if self.device is None:
            raise InputSpecError("no device selected")
        if not self.runs and not self.seconds:
            raise InputSpecError("runs: set an iteration count, or a duration to run until")
        if self.runner not in RUNNERS:
            raise InputSpecError(f"runner {self.runner!r}: expected one of {', '.join(RUNNERS)}")
        if self.runner in ADB_ONLY_RUNNERS and self.device_kind != "adb":
            raise InputSpecError(f"runner {self.runner}: runs onnxruntime_perf_test on an adb device, "
                                 f"not on {self.device} ({self.device_kind or 'unknown kind'})")
        if self.cooldown_c is not None and (self.cooldown_c < 0 or self.cooldown_timeout_s <= 0):
            raise InputSpecError(f"cooldown {self.cooldown_c} °C within {self.cooldown_timeout_s} s: "
                                 "expected a margin >= 0 °C and a timeout > 0 s")
        return BenchmarkJob(
            model_path=Path(self.model), warmup=self.warmup, runs=self.runs or None, seconds=self.seconds,
            threads=self.threads, shapes=parse_shapes(self.shapes), spin=self.spin, layers=self.layers,
            telemetry_hz=self.telemetry_hz, label=Path(self.model).stem, runner=self.runner,
            cooldown_c=self.cooldown_c, cooldown_timeout_s=self.cooldown_timeout_s,
            affinity=parse_affinity(self.affinity),
        )
