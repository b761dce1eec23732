"""Turn a finished study into a tuning profile (the chosen trial, its lineage and its numbers)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from workbench import __version__
from workbench.core.errors import WorkbenchError
from workbench.core.profiles.model import (
    Budgets, DeviceRef, Expectations, LineageStep, ModelRef, Provenance, Runtime, SustainedJudgement, SwitchPolicy,
    TuningProfile, VariantRef,
)
from workbench.core.tuner.space import TuningSpace
from workbench.core.tuner.study import StudyResult, TrialRecord


def build_profile(name: str, study: StudyResult, space: TuningSpace, fingerprint: dict[str, Any],
                  lineage: list[dict[str, Any]], shapes: dict[str, list[int]], *, serial: str | None = None,
                  variant_path: str | None = None, chosen: TrialRecord | None = None,
                  switching: list[SwitchPolicy] | None = None, runner: str = "ort-python",
                  sustained: SustainedJudgement | None = None) -> TuningProfile:
    """`lineage` runs root first (dicts with id, parent, pass, params, sha256); the last entry is the variant.
    p50/p90 stay the short trial's (what `verify` re-measures); a sustained judgement adds its own numbers."""
    best = chosen or study.best
    if best is None or best.measurement is None:
        raise WorkbenchError(f"study {study.name}: no trial met the constraints "
                             f"({len(study.trials)} tried); relax the budget or widen the space")
    if not lineage:
        raise WorkbenchError("a profile needs the variant's lineage (at least the original model)")
    m, c = best.measurement, best.config
    steps = [LineageStep.model_validate({k: v for k, v in s.items() if k != "name"}) for s in lineage]
    root = steps[0]
    fidelity = {k: float(v) for k, v in m.extra.get("fidelity", {}).items() if isinstance(v, (int, float))}
    if not fidelity and m.fidelity is not None:
        fidelity = {"cosine": m.fidelity}
    cons = space.constraints
    return TuningProfile(
        name=name,
        device=DeviceRef(serial=serial, fingerprint=fingerprint),
        model=ModelRef(name=Path(str(lineage[0].get("name", root.id))).name, sha256=root.sha256,
                       variant=VariantRef(id=c.variant, sha256=steps[-1].sha256, path=variant_path, lineage=steps)),
        runtime=Runtime(runner=runner, providers=[c.provider], threads=c.threads, spin=c.spin, batch=c.batch,
                        resolution=c.resolution or None, shapes=shapes),
        budgets=Budgets(p90_ms=cons.p90_ms, peak_memory_mb=cons.peak_memory_mb, min_fidelity=cons.min_fidelity,
                        energy_mj=cons.energy_mj),
        switching=switching or [],
        expectations=Expectations(p50_ms=m.p50_ms, p90_ms=m.p90_ms, peak_memory_mb=m.peak_memory_mb,
                                  power_w=m.power_w, energy_mj=m.energy_mj, fidelity=fidelity,
                                  steady_state_p90_ms=sustained.p90_ms if sustained else None, sustained=sustained),
        provenance=Provenance(workbench_version=__version__, created=dt.datetime.now(dt.timezone.utc),
                              run_ids=[t.measurement.run_id for t in study.trials
                                       if t.measurement and t.measurement.run_id is not None]
                              + ([sustained.run_id] if sustained and sustained.run_id is not None else []),
                              study=study.name, strategy=study.strategy, trials=len(study.trials)),
    )
