"""The tuning profile document (schema_version 2): what an app and a CI job read to run a model well.

The pydantic models here are the single source of truth: the JSON Schema shipped in
profiles/tuning-profile.schema.json is generated from them (a test keeps the two identical), and
field descriptions become the schema's documentation.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

SCHEMA_VERSION = 2
SCHEMA_ID = "https://edge-workbench.dev/schemas/tuning-profile-v2.json"

_SHA256 = r"^[0-9a-f]{64}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class LineageStep(_Strict):
    """One derivation step: `id` was made from `parent` by `pass` with `params` (Olive's footprint)."""

    id: str
    parent: str | None = Field(default=None, description="parent variant id; null for the original model")
    pass_id: str | None = Field(default=None, alias="pass", description="pass id, null for the original model")
    params: dict[str, Any] = Field(default_factory=dict)
    sha256: str = Field(pattern=_SHA256)


class VariantRef(_Strict):
    """The chosen variant; `lineage` runs from the original model to this variant."""

    id: str
    sha256: str = Field(pattern=_SHA256, description="content hash of the variant file the app must load")
    path: str | None = None
    lineage: list[LineageStep] = Field(default_factory=list)


class ModelRef(_Strict):
    name: str
    sha256: str = Field(pattern=_SHA256, description="content hash of the original model")
    path: str | None = None
    variant: VariantRef


class DeviceRef(_Strict):
    """Which device the numbers hold for; `fingerprint` is DeviceInfo.fingerprint()."""

    serial: str | None = None
    fingerprint: dict[str, Any] = Field(description="model, soc, abi, os, cpu_model, cores, kind")

    @model_validator(mode="after")
    def _has_kind(self) -> "DeviceRef":
        if "kind" not in self.fingerprint:
            raise ValueError("fingerprint needs at least 'kind' (local, adb, ...)")
        return self


class Runtime(_Strict):
    """Runtime settings the app should use."""

    runner: str = "ort-python"
    providers: list[str] = Field(default_factory=lambda: ["CPUExecutionProvider"], min_length=1)
    threads: int | None = Field(default=None, ge=1, description="intra-op threads; null = runtime default")
    spin: bool | None = Field(default=None, description="intra-op thread spinning")
    batch: int = Field(default=1, ge=1)
    resolution: int | None = Field(default=None, ge=1, description="square input side for dynamic spatial axes")
    shapes: dict[str, list[int]] = Field(default_factory=dict, description="input name -> concrete shape")


class ThermalSwitch(_Strict):
    """Run `heavy` until `channel` reaches `switch_at`, then `light` until it falls to `switch_back_at`."""

    kind: Literal["thermal"] = "thermal"
    channel: str = Field(description="telemetry key, e.g. thermal.soc or thermal.status")
    unit: Literal["C", "status"] = "C"
    heavy: str
    light: str
    switch_at: float
    switch_back_at: float
    budget_p90_ms: float | None = Field(default=None, gt=0)
    latency_curves: dict[str, list[tuple[float, float]]] = Field(
        default_factory=dict, description="variant -> [[temperature, p90 ms], ...] measured, for replay")

    @model_validator(mode="after")
    def _hysteresis(self) -> "ThermalSwitch":
        if self.switch_back_at >= self.switch_at:
            raise ValueError(f"switch_back_at ({self.switch_back_at}) must be below switch_at ({self.switch_at})")
        return self


class LatencySwitch(_Strict):
    """Switch to `light` when the p90 of the last `window` calls exceeds `switch_above_ms`; stay on it at
    least `min_dwell_s` (light is always fast, so without a dwell the policy would flap straight back)."""

    kind: Literal["latency"] = "latency"
    heavy: str
    light: str
    window: int = Field(default=20, ge=1)
    min_dwell_s: float = Field(default=30.0, ge=0)
    switch_above_ms: float = Field(gt=0)
    switch_back_below_ms: float = Field(gt=0)

    @model_validator(mode="after")
    def _hysteresis(self) -> "LatencySwitch":
        if self.switch_back_below_ms >= self.switch_above_ms:
            raise ValueError("switch_back_below_ms must be below switch_above_ms")
        return self


class CascadeSwitch(_Strict):
    """Run `light`; escalate to `heavy` when its confidence (`measure`) is below `threshold`."""

    kind: Literal["cascade"] = "cascade"
    light: str
    heavy: str
    measure: Literal["top1_prob", "margin"] = "top1_prob"
    threshold: float = Field(ge=0, le=1)
    expected_agreement: float = Field(ge=0, le=1, description="agreement with heavy-only on the tuning inputs")
    expected_escalation_rate: float = Field(ge=0, le=1)
    expected_cost_ms: float = Field(gt=0, description="mean latency per input including escalations")


SwitchPolicy = Annotated[Union[ThermalSwitch, LatencySwitch, CascadeSwitch], Field(discriminator="kind")]


class SustainedJudgement(_Strict):
    """How `tune --sustained` judged the finalists: on latency after the thermal steady state, or, when
    the device has no thermal channel or it never settled within the cap, on the second half of the run."""

    judged_on: Literal["steady_state", "second_half_no_thermal", "second_half_not_settled"]
    reason: str
    run_id: int | None = Field(default=None, description="the chosen variant's sustained run")
    finalists: int = Field(ge=1, description="how many top trials were re-run")
    cap_s: float = Field(gt=0, description="time cap of each sustained run")
    slope_c_per_min: float = Field(gt=0, description="steady when the temperature slope is under this")
    channel: str | None = Field(default=None, description="thermal channel watched; null = none on the device")
    temperature_c: float | None = Field(default=None, description="temperature at steady state")
    steady_after_s: float | None = Field(default=None, ge=0, description="seconds into the run it settled")
    p50_ms: float = Field(gt=0)
    p90_ms: float = Field(gt=0)
    iterations: int = Field(ge=1, description="calls the judgement is based on")


class Expectations(_Strict):
    """What was measured; `workbench verify` re-measures and compares against these."""

    p50_ms: float = Field(gt=0)
    p90_ms: float = Field(gt=0)
    steady_state_p90_ms: float | None = Field(default=None, gt=0)
    sustained: SustainedJudgement | None = Field(default=None, description="set by tune --sustained")
    peak_memory_mb: float | None = Field(default=None, gt=0)
    power_w: float | None = Field(default=None, ge=0)
    energy_mj: float | None = Field(default=None, ge=0, description="energy per inference call")
    fidelity: dict[str, float] = Field(default_factory=dict, description="cosine, snr_db, top1 vs the reference")


class Budgets(_Strict):
    p90_ms: float | None = Field(default=None, gt=0)
    peak_memory_mb: float | None = Field(default=None, gt=0)
    min_fidelity: float | None = Field(default=None, ge=-1, le=1)
    energy_mj: float | None = Field(default=None, gt=0)


class Provenance(_Strict):
    workbench_version: str
    created: datetime
    run_ids: list[int] = Field(default_factory=list)
    study: str | None = None
    strategy: str | None = None
    trials: int | None = Field(default=None, ge=0)


class TuningProfile(_Strict):
    """A tuning profile: device, model and chosen variant, runtime settings, switching, expectations."""

    schema_: str | None = Field(default=SCHEMA_ID, alias="$schema")
    schema_version: Literal[2] = SCHEMA_VERSION
    name: str = Field(min_length=1)
    device: DeviceRef
    model: ModelRef
    runtime: Runtime
    budgets: Budgets = Field(default_factory=Budgets)
    switching: list[SwitchPolicy] = Field(default_factory=list)
    expectations: Expectations
    provenance: Provenance


def profile_json_schema() -> dict[str, Any]:
    """The JSON Schema shipped in profiles/; generated so it can never drift from the loader."""
    schema = TuningProfile.model_json_schema(by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}
