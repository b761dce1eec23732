"""A search space measured once for real and replayed: the tuner's deterministic test bed.

The file (written by bench/record_space.py) holds every iteration's latency per configuration, so
replay honours early stopping exactly as a live run would: iterations arrive one by one and the
`should_stop` hook may cut the trial short.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.core.errors import RunFailed, WorkbenchError
from workbench.core.tuner.measurement import ShouldStop, TrialMeasurement
from workbench.core.tuner.space import Constraints, Objective, TrialConfig, TuningSpace


@dataclass
class RecordedSpace:
    source: str
    axes: dict[str, list[Any]]
    records: dict[TrialConfig, dict[str, Any]]
    calls: int = 0  # how many trials were measured (the cost a strategy pays)

    @classmethod
    def load(cls, path: str | Path) -> "RecordedSpace":
        p = Path(path)
        try:
            doc = json.loads(p.read_text())
            records = {TrialConfig.from_dict(r): r for r in doc["records"]}
            axes = doc["axes"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise WorkbenchError(f"{p}: not a recorded search space ({exc})") from exc
        return cls(str(p), axes, records)

    def space(self, constraints: Constraints | None = None, objective: Objective | None = None) -> TuningSpace:
        a = self.axes
        return TuningSpace(
            variants={v: f"{v}.onnx" for v in a["variant"]}, reference=a["variant"][0],
            resolutions=a["resolution"], batch=a["batch"], threads=a["threads"],
            constraints=constraints or Constraints(), objective=objective or Objective(),
        )

    def measurement(self, config: TrialConfig) -> TrialMeasurement:
        """The full recorded measurement (no early stop)."""
        return self.measure(config, lambda lat: False, count=False)

    def measure(self, config: TrialConfig, should_stop: ShouldStop, count: bool = True) -> TrialMeasurement:
        rec = self.records.get(config)
        if rec is None:
            raise RunFailed(f"{self.source}: no recording for {config.label()}")
        if count:
            self.calls += 1
        seen: list[float] = []
        stopped = False
        for lat in rec["latencies_ms"]:
            seen.append(lat)
            if should_stop(seen):
                stopped = True
                break
        return TrialMeasurement.from_latencies(
            seen, peak_memory_mb=rec.get("rss_mb"), fidelity=rec.get("fidelity"), stopped_early=stopped,
            extra={"top1": rec.get("top1")})
