"""The public plugin API: the one module third-party and bundled plugins import.

Everything a pass, probe, runner or evaluator needs is re-exported here; `workbench.core` is private.
"""
from __future__ import annotations

from workbench.core.errors import ModelError, WorkbenchError
from workbench.core.passes.base import (
    Categorical,
    Dimension,
    FloatRange,
    IntRange,
    Pass,
    PassContext,
    PassOutput,
    PassParams,
    PassRefused,
    SearchSpace,
)
from workbench.core.telemetry.probe import Probe
from workbench.core.types import ChannelSpec, Sample

__all__ = [
    "Categorical",
    "ChannelSpec",
    "Dimension",
    "FloatRange",
    "IntRange",
    "ModelError",
    "Pass",
    "PassContext",
    "PassOutput",
    "PassParams",
    "PassRefused",
    "Probe",
    "Sample",
    "SearchSpace",
    "WorkbenchError",
]
