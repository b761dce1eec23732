"""Pass knobs in live tuning: a trial's `pass.<pass_id>.<param>` values become a derived variant.

The variant comes from VariantStore.derive, which is content-addressed: the same parent, pass and
params is a cache hit, so repeated trials, resumed studies and later studies pay for a derivation
once. Passes apply in pass-id order on top of the trial's variant. A `null` value for any of a pass's
knobs means "do not apply this pass", so a space can ask whether a pass is worth it at all
(e.g. `"prune-channels.ratio": [null, 0.25]`).
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from workbench.core.errors import WorkbenchError
from workbench.core.passes.base import PassContext
from workbench.core.passes.registry import get_pass, validate_params
from workbench.core.passes.variants import Variant, VariantStore
from workbench.core.tuner.space import SpaceError, TrialConfig, TuningSpace


def split_knobs(pass_params: tuple[tuple[str, Any], ...] | dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """{"prune-channels.ratio": 0.25} -> [("prune-channels", {"ratio": 0.25})], sorted by pass id; passes
    with a null knob are left out (not applied)."""
    items = pass_params.items() if isinstance(pass_params, dict) else pass_params
    by_pass: dict[str, dict[str, Any]] = {}
    for key, value in items:
        pass_id, dot, param = key.rpartition(".")
        if not dot or not pass_id or not param:
            raise WorkbenchError(f"pass knob {key!r}: expected <pass_id>.<param>")
        by_pass.setdefault(pass_id, {})[param] = value
    return [(pid, params) for pid, params in sorted(by_pass.items()) if None not in params.values()]


class PassKnobs:
    """Derives (or finds in the cache) the variant a trial's pass knobs describe."""

    def __init__(self, store: VariantStore, parents: dict[str, Variant], *, calibration_dir: Path | None = None,
                 fidelity_samples: int = 1) -> None:
        self.store, self.parents = store, parents
        self.calibration_dir = calibration_dir
        self.fidelity_samples = fidelity_samples
        self.cache_hits = 0
        self.derived = 0

    def check(self, space: TuningSpace, source: str = "<space>") -> None:
        """Every knob names an installed pass and a valid value, before any trial runs."""
        for key, values in space.pass_params.items():
            for value in values:
                for pass_id, params in split_knobs({key: value}):
                    try:
                        validate_params(get_pass(pass_id), params)
                    except WorkbenchError as exc:
                        raise SpaceError(source, f"pass_params.{key}: {exc}") from exc
                    except ValueError as exc:
                        raise SpaceError(source, f"pass_params.{key}: {value!r}: {exc}") from exc

    def variant(self, config: TrialConfig) -> Variant:
        """The trial's variant with its passes applied; the parent itself when no pass applies."""
        if config.variant not in self.parents:
            raise WorkbenchError(f"unknown variant {config.variant!r} (known: {', '.join(sorted(self.parents))})")
        v = self.parents[config.variant]
        for pass_id, params in split_knobs(config.pass_params):
            # a refusal (PassRefused) or a rejected output is a WorkbenchError: that trial fails, the study goes on
            with tempfile.TemporaryDirectory(prefix="tune-derive-", dir=self.store.workspace) as tmp:
                ctx = PassContext(work_dir=Path(tmp), calibration_dir=self.calibration_dir)
                v, hit = self.store.derive(v, pass_id, params, ctx, samples=self.fidelity_samples)
            if hit:
                self.cache_hits += 1
            else:
                self.derived += 1
        return v
