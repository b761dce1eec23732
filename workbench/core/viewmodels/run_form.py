"""Run panel logic: the form's values, validated into a `BenchmarkJob` with one-line errors."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from workbench.core.errors import InputSpecError, ModelError
from workbench.core.types import BenchmarkJob


def parse_shapes(text: str) -> dict[str, list[int]]:
    """`image=1x3x224x224; mask=1x128` -> {"image": [1,3,224,224], "mask": [1,128]}."""
    shapes: dict[str, list[int]] = {}
    for part in [p.strip() for p in text.replace("\n", ";").split(";") if p.strip()]:
        name, sep, dims = part.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            values = [int(d) for d in dims.lower().replace(",", "x").split("x")]
            if any(v <= 0 for v in values):
                raise ValueError
        except ValueError:
            raise InputSpecError(f"shape {part!r}: expected NAME=DxDxD with positive sizes, "
                                 "e.g. image=1x3x224x224") from None
        shapes[name.strip()] = values
    return shapes


@dataclass
class RunForm:
    """What the run panel shows; `None` threads means the runtime default."""

    model: Path | None = None
    device: str | None = None
    threads: int | None = None
    shapes: str = ""
    warmup: int = 5
    runs: int = 50  # 0 with a duration: no cap, run until the duration ends
    seconds: float | None = None  # set: run for this long (runs becomes a cap)
    layers: bool = False
    spin: bool | None = None
    telemetry_hz: float = 10.0

    def to_job(self) -> BenchmarkJob:
        if self.model is None:
            raise ModelError("(none)", "no model selected: open an .onnx file first")
        if self.device is None:
            raise InputSpecError("no device selected")
        if not self.runs and not self.seconds:
            raise InputSpecError("runs: set an iteration count, or a duration to run until")
        return BenchmarkJob(
            model_path=Path(self.model), warmup=self.warmup, runs=self.runs or None, seconds=self.seconds,
            threads=self.threads, shapes=parse_shapes(self.shapes), spin=self.spin, layers=self.layers,
            telemetry_hz=self.telemetry_hz, label=Path(self.model).stem,
        )
