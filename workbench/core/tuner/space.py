"""What the tuner may change (the search space), what must hold (constraints) and what is "best".

Declared once in JSON/YAML so a study is reproducible and resumable: the space's digest is stored
with the trial log, and a study resumed with a different space is refused instead of mixing results.
"""
from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from workbench.core.errors import WorkbenchError
from workbench.core.passes.base import Categorical, IntRange, SearchSpace


class SpaceError(WorkbenchError):
    """A search-space file (or option) is malformed; the message names the file and the field."""

    def __init__(self, source: str, problem: str) -> None:
        self.source = source
        self.problem = problem
        super().__init__(f"{source}: {problem}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ValueRange(_Strict):
    """An inclusive integer range with a step, e.g. resolutions 128..320 in multiples of 32."""

    low: int = Field(ge=1)
    high: int = Field(ge=1)
    step: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> "ValueRange":
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) is below low ({self.low})")
        return self

    def values(self) -> list[int]:
        return list(range(self.low, self.high + 1, self.step))


def _expand(v: list[int] | ValueRange | None) -> list[int]:
    if v is None:
        return []
    return v.values() if isinstance(v, ValueRange) else list(v)


class Constraints(_Strict):
    """Budgets a configuration must meet; None = unconstrained."""

    p90_ms: float | None = Field(default=None, gt=0, description="latency p90 budget per inference call")
    peak_memory_mb: float | None = Field(default=None, gt=0)
    min_fidelity: float | None = Field(default=None, ge=-1, le=1, description="min cosine vs the reference variant")
    energy_mj: float | None = Field(default=None, gt=0, description="energy per inference budget (needs power telemetry)")


class Objective(_Strict):
    """`fidelity_resolution`: best fidelity, then highest resolution, then lowest p90 (fidelity ties
    within `fidelity_tolerance`); `latency`: lowest p90; `pareto`: front of latency vs fidelity vs energy."""

    kind: Literal["fidelity_resolution", "latency", "pareto"] = "fidelity_resolution"
    fidelity_tolerance: float = Field(default=1e-3, gt=0)


class TuningSpace(_Strict):
    """The knobs. A knob with one value (or none) is fixed, not searched."""

    variants: dict[str, str] = Field(default_factory=lambda: {}, description="variant id -> ONNX path")
    reference: str | None = Field(default=None, description="variant id fidelity is measured against")
    resolutions: list[int] | ValueRange | None = None
    batch: list[int] | ValueRange = Field(default_factory=lambda: [1])
    threads: list[int] | ValueRange = Field(default_factory=lambda: [1])
    providers: list[str] = Field(default_factory=lambda: ["CPUExecutionProvider"])
    spin: list[bool] = Field(default_factory=lambda: [False])
    pass_params: dict[str, list[Any]] = Field(default_factory=dict, description="extra knobs from pass SearchSpaces")
    constraints: Constraints = Field(default_factory=Constraints)
    objective: Objective = Field(default_factory=Objective)

    @field_validator("batch", "threads", "providers", "spin")
    @classmethod
    def _non_empty(cls, v: Any) -> Any:
        if isinstance(v, list) and not v:
            raise ValueError("needs at least one value")
        return v

    @model_validator(mode="after")
    def _reference_known(self) -> "TuningSpace":
        if self.reference is not None and self.variants and self.reference not in self.variants:
            raise ValueError(f"reference {self.reference!r} is not one of the variants {sorted(self.variants)}")
        return self

    # -- derived views -------------------------------------------------------------------------
    def axes(self) -> dict[str, list[Any]]:
        """Every knob with its candidate values, in a fixed order (the grid's order)."""
        axes: dict[str, list[Any]] = {
            "variant": sorted(self.variants) or ["base"],
            "resolution": _expand(self.resolutions) or [0],  # 0 = the model's own (fixed) size
            "batch": _expand(self.batch),
            "threads": _expand(self.threads),
            "provider": list(self.providers),
            "spin": list(self.spin),
        }
        for name, values in sorted(self.pass_params.items()):
            axes[f"pass.{name}"] = list(values)
        return axes

    def size(self) -> int:
        n = 1
        for values in self.axes().values():
            n *= len(values)
        return n

    def configs(self) -> list["TrialConfig"]:
        """The full grid in declaration order."""
        axes = self.axes()
        names = list(axes)
        return [TrialConfig.from_dict(dict(zip(names, combo))) for combo in itertools.product(*axes.values())]

    def digest(self) -> str:
        """Identity of the space for resumption (constraints and objective included: they change verdicts)."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def with_pass_space(self, pass_id: str, space: SearchSpace) -> "TuningSpace":
        """Add a pass's declared SearchSpace as `pass.<pass_id>.<param>` knobs (float ranges become 5 points)."""
        extra = dict(self.pass_params)
        for name, dim in space.dims.items():
            if isinstance(dim, Categorical):
                values = list(dim.choices)
            elif isinstance(dim, IntRange):
                values = list(range(dim.low, dim.high + 1, dim.step))
            else:
                lo, hi = dim.low, dim.high
                values = [lo + (hi - lo) * i / 4 for i in range(5)]
            extra[f"{pass_id}.{name}"] = values
        return self.model_copy(update={"pass_params": extra})


@dataclass(frozen=True)
class TrialConfig:
    """One point of the space. Hashable, and `key()` is the stable id used by the trial log."""

    variant: str = "base"
    resolution: int = 0
    batch: int = 1
    threads: int = 1
    provider: str = "CPUExecutionProvider"
    spin: bool = False
    pass_params: tuple[tuple[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "variant": self.variant, "resolution": self.resolution, "batch": self.batch,
            "threads": self.threads, "provider": self.provider, "spin": self.spin,
        }
        for name, value in self.pass_params:
            d[f"pass.{name}"] = value
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrialConfig":
        passes = tuple(sorted((k[5:], v) for k, v in d.items() if k.startswith("pass.")))
        return cls(
            variant=str(d.get("variant", "base")), resolution=int(d.get("resolution", 0)),
            batch=int(d.get("batch", 1)), threads=int(d.get("threads", 1)),
            provider=str(d.get("provider", "CPUExecutionProvider")), spin=bool(d.get("spin", False)),
            pass_params=passes,
        )

    def key(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    def label(self) -> str:
        res = f"{self.resolution}px" if self.resolution else "fixed"
        spin = " spin" if self.spin else ""
        extra = "".join(f" {k}={v}" for k, v in self.pass_params)
        return f"{self.variant} {res} b{self.batch} t{self.threads}{spin}{extra}"


def load_space(path: str | Path) -> TuningSpace:
    """Read a space from .json/.yaml; variant paths that exist relative to the file are made absolute."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise SpaceError(str(p), f"cannot read: {exc.strerror or exc}") from exc
    try:
        raw = yaml.safe_load(text) if p.suffix.lower() in (".yaml", ".yml") else json.loads(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise SpaceError(str(p), f"not valid {'YAML' if p.suffix.lower() in ('.yaml', '.yml') else 'JSON'}: "
                                 f"{str(exc).splitlines()[0]}") from exc
    if not isinstance(raw, dict):
        raise SpaceError(str(p), "top level must be a mapping")
    space = parse_space(raw, source=str(p))
    # paths are relative to the space file; anything else (a variant id) is kept as written
    resolved = {k: str(p.parent / v) if not Path(v).is_absolute() and (p.parent / v).exists() else v
                for k, v in space.variants.items()}
    return space.model_copy(update={"variants": resolved})


def parse_space(raw: dict[str, Any], source: str = "<space>") -> TuningSpace:
    try:
        return TuningSpace.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"]) or "(top level)"
        raise SpaceError(source, f"{where}: {err['msg']}") from exc
