"""The Pass contract every optimization pass (bundled or third-party) implements.

A pass is a named, versioned, parameterized ONNX -> ONNX transformation. Its parameters are a static
pydantic model (the GUI builds its form from the JSON schema) and, beside them, an optional search
space for the tuner. A pass either returns a model or raises PassRefused with a reason a user can act on.
"""
from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Callable, ClassVar, Literal, Union

import onnx
from pydantic import BaseModel, ConfigDict, Field

from workbench.core.errors import WorkbenchError


class PassRefused(WorkbenchError):
    """The pass cannot (or must not) transform this model; `reason` says why in one line."""

    def __init__(self, pass_id: str, reason: str) -> None:
        self.pass_id = pass_id
        self.reason = reason
        super().__init__(f"{pass_id}: {reason}")


class PassParams(BaseModel):
    """Base for a pass's parameters: unknown keys are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Categorical(BaseModel):
    kind: Literal["categorical"] = "categorical"
    choices: list[Any]


class IntRange(BaseModel):
    kind: Literal["int"] = "int"
    low: int
    high: int
    step: int = 1


class FloatRange(BaseModel):
    kind: Literal["float"] = "float"
    low: float
    high: float
    log: bool = False


Dimension = Annotated[Union[Categorical, IntRange, FloatRange], Field(discriminator="kind")]


class SearchSpace(BaseModel):
    """Tunable parameters of a pass; round-trips through JSON (`model_dump_json` / `model_validate_json`)."""

    dims: dict[str, Dimension] = Field(default_factory=dict)


@dataclass
class PassContext:
    """What a running pass may use: a scratch dir, progress, cancellation, calibration inputs, warnings."""

    work_dir: Path
    progress: Callable[[float, float | None, str], None] = lambda done, total, msg: None
    cancel: threading.Event = field(default_factory=threading.Event)
    calibration_dir: Path | None = None  # folder of .npy/.npz/images given by the user
    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def check_cancelled(self, pass_id: str) -> None:
        if self.cancel.is_set():
            raise PassRefused(pass_id, "cancelled")


@dataclass
class PassOutput:
    model: onnx.ModelProto
    notes: list[str] = field(default_factory=list)  # what the pass did (e.g. "folded 12 BatchNorm")
    metrics: dict[str, float] = field(default_factory=dict)  # e.g. sparsity, flops_before/after


class Pass(ABC):
    """Subclass, set the class attributes, implement `apply`. Register through the
    `workbench.passes` entry point group."""

    id: ClassVar[str]
    title: ClassVar[str]
    version: ClassVar[str] = "1"
    description: ClassVar[str] = ""
    Params: ClassVar[type[PassParams]] = PassParams
    search_space: ClassVar[SearchSpace] = SearchSpace()
    # Set to "fp16" or "int8" when the pass promises lower-precision weights; variants are rejected when
    # the output still holds only fp32 weights, so a silently failed conversion never looks like a win.
    precision: ClassVar[str | None] = None

    @abstractmethod
    def apply(self, model: onnx.ModelProto, params: PassParams, ctx: PassContext) -> PassOutput:
        """Return the transformed model or raise PassRefused. Must not mutate `model` in place."""

    @classmethod
    def params_schema(cls) -> dict[str, Any]:
        return cls.Params.model_json_schema()
