"""The public plugin API: the one module third-party and bundled plugins import.

Everything a pass, probe, runner or evaluator needs is re-exported here; `workbench.core` is private
and may change. Plugin kinds and their entry point groups:

- `workbench.passes`      a `Pass` subclass (parameters: a nested `PassParams` model; optional `SearchSpace`)
- `workbench.probes`      a `Probe` subclass (one telemetry family)
- `workbench.evaluators`  an `Evaluator` subclass (task accuracy on a user dataset)
- `workbench.runners`, `workbench.tuners`  a class or callable (no shared base class yet)

`onnx_helpers` holds the graph utilities passes share (all graphs incl. subgraphs, Constant nodes to
initializers, opset upgrade, deterministic serialization, weight precision checks); `count_macs`
gives Conv/Gemm/MatMul MACs at a fixed input shape, for passes that claim fewer FLOPs.
Generated inputs come from one generator shared with the runner: `generate_inputs(model)` (feeds),
`plan_inputs(model)` + `draw_feeds(plans)` (shapes/kinds first, e.g. for calibration), and
`make_feeds(signature, vocab, shapes, seed)` for a (name, "tensor(float)", dims) signature.
"""
from __future__ import annotations

from workbench.core.errors import InputSpecError, ModelError, WorkbenchError
from workbench.core.passes import onnx_helpers
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
from workbench.core.passes.fidelity import (
    EvalContext,
    Evaluator,
    draw_feeds,
    generate_inputs,
    load_inputs,
    plan_inputs,
)
from workbench.core.passes.flops import FlopReport, count_macs
from workbench.core.plugins import GROUPS as PLUGIN_GROUPS
from workbench.core.plugins import PluginManifest
from workbench.core.runner.ort_child import InputPlan, make_feeds
from workbench.core.telemetry.probe import Probe
from workbench.core.types import ChannelSpec, Sample

API_VERSION = "1"  # bumped when a name here changes meaning or goes away

__all__ = [
    "API_VERSION",
    "Categorical",
    "ChannelSpec",
    "Dimension",
    "EvalContext",
    "Evaluator",
    "FlopReport",
    "FloatRange",
    "InputPlan",
    "InputSpecError",
    "IntRange",
    "ModelError",
    "PLUGIN_GROUPS",
    "Pass",
    "PassContext",
    "PassOutput",
    "PassParams",
    "PassRefused",
    "PluginManifest",
    "Probe",
    "Sample",
    "SearchSpace",
    "WorkbenchError",
    "count_macs",
    "draw_feeds",
    "generate_inputs",
    "load_inputs",
    "make_feeds",
    "onnx_helpers",
    "plan_inputs",
]
