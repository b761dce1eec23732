"""Does a variant still compute what its parent (and the original model) computed?

Inputs are generated deterministically from the model's input signature (or read from a folder of
.npy/.npz files), every model runs on the very same inputs in onnxruntime, and each output is
compared: cosine, SNR, max/mean absolute error, plus top-1/top-5 agreement for class scores and IoU
for masks. Evaluator plugins add task accuracy on a user dataset.
"""
from __future__ import annotations

import math
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar

import numpy as np
import onnx
import onnxruntime as ort

from workbench.core.errors import InputSpecError, ModelError
from workbench.core.passes.onnx_helpers import graph_inputs
from workbench.core.runner import ort_child

DEFAULT_VOCAB = ort_child.DEFAULT_VOCAB  # safe for any tokenizer: ids below 1000 exist in every vocabulary we know
DEFAULT_SPATIAL = ort_child.DEFAULT_DIMS["spatial"]
DEFAULT_TOKENS = ort_child.DEFAULT_DIMS["seq"]

@dataclass
class EvalContext:
    """What an evaluator may use: progress, cancellation, and the ORT providers to run with."""

    progress: Callable[[float, float | None, str], None] = lambda done, total, msg: None
    cancel: threading.Event = field(default_factory=threading.Event)
    providers: list[str] = field(default_factory=lambda: ["CPUExecutionProvider"])


class Evaluator(ABC):
    """Task accuracy on a user dataset. Register through the `workbench.evaluators` entry point group."""

    id: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str] = ""

    @abstractmethod
    def evaluate(self, model_path: Path, dataset_dir: Path, ctx: EvalContext) -> dict[str, float]:
        """Return metrics (e.g. {'top1': 0.76, 'samples': 500}); raise WorkbenchError on bad data."""


# ---------------------------------------------------------------- inputs

def _elem_np(elem_type: int) -> np.dtype:
    return np.dtype(onnx.helper.tensor_dtype_to_np_dtype(elem_type))


def ort_type(elem_type: int) -> str:
    """ONNX elem type -> the type string onnxruntime reports ("tensor(float)"), which the generator speaks."""
    try:
        return f"tensor({onnx.TensorProto.DataType.Name(elem_type).lower()})"
    except ValueError:
        return f"tensor(elem_type {elem_type})"


def _vocab_size(model: onnx.ModelProto) -> int:
    return ort_child.vocab_from_metadata({p.key: p.value for p in model.metadata_props})


# Ops that pass token ids through unchanged on their way to the embedding Gather.
_ID_PASSTHROUGH = {"Cast", "Reshape", "Unsqueeze", "Squeeze", "Flatten", "Identity"}


def vocab_hints(model: onnx.ModelProto) -> dict[str, int]:
    """Rows of the Gather table each integer input indexes (through casts/reshapes): ids must stay below it,
    or onnxruntime fails with an out-of-range index."""
    graph = model.graph
    rows = {t.name: int(t.dims[0]) for t in graph.initializer if len(t.dims)}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        if node.op_type == "Gather" and len(node.input) > 1:
            consumers.setdefault(node.input[1], []).append(node)
        elif node.op_type in _ID_PASSTHROUGH and node.input:
            consumers.setdefault(node.input[0], []).append(node)
    hints: dict[str, int] = {}
    for name, _, _ in input_signature(model):
        frontier, seen, bound = [name], set(), None
        while frontier:
            tensor = frontier.pop()
            if tensor in seen:
                continue
            seen.add(tensor)
            for node in consumers.get(tensor, []):
                if node.op_type == "Gather":
                    if node.input[0] in rows:
                        bound = rows[node.input[0]] if bound is None else min(bound, rows[node.input[0]])
                else:
                    frontier.extend(node.output)
        if bound is not None:
            hints[name] = bound
    return hints


def _resolve_shape(name: str, dims: list[Any], is_int: bool, symbols: dict[str, int]) -> list[int]:
    """One input's concrete shape with the generator's rules (kept for callers that resolve input by input)."""
    return ort_child.resolve_shape(name, dims, "tensor(int64)" if is_int else "tensor(float)", {}, symbols)


def input_signature(model: onnx.ModelProto) -> list[tuple[str, int, list[Any]]]:
    """(name, elem_type, dims) per real input; dims hold ints or symbol strings ('' if unnamed)."""
    sig = []
    for vi in graph_inputs(model):
        tt = vi.type.tensor_type
        dims: list[Any] = []
        for d in tt.shape.dim:
            dims.append(d.dim_value if d.HasField("dim_value") else d.dim_param)
        sig.append((vi.name, tt.elem_type, dims))
    return sig


def ort_signature(model: onnx.ModelProto) -> list[tuple[str, str, list[Any]]]:
    """input_signature with onnxruntime's type strings: what ort_child.make_feeds takes."""
    return [(name, ort_type(et), dims) for name, et, dims in input_signature(model)]


def plan_inputs(model: onnx.ModelProto, shapes: dict[str, list[int]] | None = None,
                dims: dict[str, int] | None = None) -> list[ort_child.InputPlan]:
    """How each input of `model` is generated (shape, kind, id bound), with the runner's rules.
    `dims` overrides the defaults for dynamic axes (keys of ort_child.DEFAULT_DIMS: spatial, seq, ...)."""
    try:
        return ort_child.plan_inputs(ort_signature(model), _vocab_size(model), shapes, vocab_hints(model), dims)
    except ValueError as exc:
        raise InputSpecError(str(exc)) from exc


def draw_feeds(plans: list[ort_child.InputPlan], seed: int = 0, samples: int = 1) -> list[dict[str, np.ndarray]]:
    """Arrays for plans from plan_inputs (sample s seeded [seed, s], as in the runner)."""
    return ort_child.draw_feeds(plans, seed, samples)


def generate_inputs(model: onnx.ModelProto, samples: int = 3, seed: int = 0,
                    shapes: dict[str, list[int]] | None = None) -> list[dict[str, np.ndarray]]:
    """Deterministic inputs from the signature, exactly what the runner feeds for the same seed (sample 0):
    images in [0,1), token ids below the vocab, masks of ones, zeros for recurrent state."""
    return draw_feeds(plan_inputs(model, shapes), seed, samples)


def load_inputs(folder: Path, model: onnx.ModelProto) -> list[dict[str, np.ndarray]]:
    """User inputs: each .npz is one sample (keys = input names); or <input>.npy files form one sample."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputSpecError(f"{folder}: not a folder of .npy/.npz inputs")
    names = [n for n, _, _ in input_signature(model)]
    samples: list[dict[str, np.ndarray]] = []
    for f in sorted(folder.glob("*.npz")):
        with np.load(f) as z:
            missing = [n for n in names if n not in z.files]
            if missing:
                raise InputSpecError(f"{f}: missing input(s) {', '.join(missing)} (has {', '.join(z.files)})")
            samples.append({n: z[n] for n in names})
    npys = {p.stem: p for p in folder.glob("*.npy")}
    if not samples and npys:
        missing = [n for n in names if n not in npys]
        if missing:
            raise InputSpecError(f"{folder}: no {missing[0]}.npy for input '{missing[0]}'")
        samples.append({n: np.load(npys[n]) for n in names})
    if not samples:
        raise InputSpecError(f"{folder}: no .npz samples or <input>.npy files")
    return samples


# ---------------------------------------------------------------- running

def _session(model: onnx.ModelProto | Path) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1  # fidelity is not a benchmark; stay polite on shared machines
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    src = str(model) if isinstance(model, Path) else model.SerializeToString()
    try:
        return ort.InferenceSession(src, so, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001
        where = model if isinstance(model, Path) else Path("<variant>")
        raise ModelError(where, f"onnxruntime cannot load it: {str(exc).splitlines()[0]}") from exc


def run_model(model: onnx.ModelProto | Path, samples: list[dict[str, np.ndarray]]) -> list[dict[str, np.ndarray]]:
    """Run every sample; inputs are cast to each model's own input types (an fp16 model gets fp16)."""
    sess = _session(model)
    want = {i.name: ort_child.NP_TYPES.get(i.type) for i in sess.get_inputs()}
    names = [o.name for o in sess.get_outputs()]
    results = []
    for feed in samples:
        missing = [n for n in want if n not in feed]
        if missing:
            raise InputSpecError(f"model input '{missing[0]}' has no generated or given value")
        cast = {n: (feed[n].astype(want[n]) if want[n] is not None else feed[n]) for n in want}
        results.append(dict(zip(names, sess.run(names, cast))))
    return results


# ---------------------------------------------------------------- metrics

def _finite(x: float) -> float | str:
    return x if math.isfinite(x) else ("inf" if x > 0 else "-inf") if not math.isnan(x) else "nan"


def compare_arrays(ref: np.ndarray, got: np.ndarray) -> dict[str, Any]:
    """Cosine, SNR (dB; 'inf' when identical), max and mean absolute error, plus class/mask metrics."""
    if ref.shape != got.shape:
        return {"error": f"shape {list(got.shape)} != reference {list(ref.shape)}"}
    r = ref.astype(np.float64).ravel()
    g = got.astype(np.float64).ravel()
    diff = r - g
    nr, ng = float(np.linalg.norm(r)), float(np.linalg.norm(g))
    if nr == 0 and ng == 0:
        cos = 1.0
    elif nr == 0 or ng == 0:
        cos = 0.0
    else:
        cos = float(np.dot(r, g) / (nr * ng))
    noise = float(np.dot(diff, diff))
    signal = float(np.dot(r, r))
    snr = math.inf if noise == 0 else (10 * math.log10(signal / noise) if signal > 0 else -math.inf)
    m: dict[str, Any] = {
        "cosine": round(cos, 9),
        "snr_db": _finite(round(snr, 4) if math.isfinite(snr) else snr),
        "max_abs": float(np.max(np.abs(diff))) if diff.size else 0.0,
        "mean_abs": float(np.mean(np.abs(diff))) if diff.size else 0.0,
    }
    if _looks_like_scores(ref):
        a = ref.reshape(-1, ref.shape[-1]).astype(np.float64)
        b = got.reshape(-1, got.shape[-1]).astype(np.float64)
        m["top1"] = float(np.mean(np.argmax(a, -1) == np.argmax(b, -1)))
        k = min(5, a.shape[-1])
        top_a = np.argsort(-a, axis=-1, kind="stable")[:, :k]
        top_b = np.argsort(-b, axis=-1, kind="stable")[:, :k]
        m["top5"] = float(np.mean([len(set(x) & set(y)) / k for x, y in zip(top_a, top_b)]))
    elif _looks_like_mask(ref):
        ma, mb = ref > 0.5, got.astype(np.float64) > 0.5
        union = np.logical_or(ma, mb).sum()
        m["iou"] = 1.0 if union == 0 else float(np.logical_and(ma, mb).sum() / union)
    return m


def _looks_like_scores(a: np.ndarray) -> bool:
    return a.ndim == 2 and a.shape[-1] >= 10 and np.issubdtype(a.dtype, np.floating)


def _looks_like_mask(a: np.ndarray) -> bool:
    shaped = (a.ndim == 4 and a.shape[1] == 1) or a.ndim == 3
    if not shaped or not np.issubdtype(a.dtype, np.floating) or a.size == 0:
        return False
    return bool(np.min(a) >= 0.0 and np.max(a) <= 1.0)


def compare_outputs(ref: list[dict[str, np.ndarray]], got: list[dict[str, np.ndarray]]) -> dict[str, Any]:
    """Per-output metrics over all samples (samples stacked on a new axis for the global numbers)."""
    outputs: dict[str, Any] = {}
    for name in ref[0]:
        if name not in got[0]:
            outputs[name] = {"error": "output missing in variant"}
            continue
        if _looks_like_scores(ref[0][name]) or _looks_like_mask(ref[0][name]):
            a = np.concatenate([s[name] for s in ref], axis=0)
            b = np.concatenate([s[name] for s in got], axis=0) if all(s[name].shape == ref[0][name].shape for s in got) else got[0][name]
        else:
            a = np.stack([s[name] for s in ref])
            b = np.stack([s[name] for s in got]) if all(s[name].shape == ref[0][name].shape for s in got) else got[0][name]
        outputs[name] = compare_arrays(a, b)
    return {"outputs": outputs, "summary": summarize(outputs)}


def summarize(outputs: dict[str, Any]) -> dict[str, Any]:
    """Worst case across outputs: the numbers a table column shows."""
    ok = [m for m in outputs.values() if "error" not in m]
    s: dict[str, Any] = {"errors": sum(1 for m in outputs.values() if "error" in m)}
    if not ok:
        return s
    s["cosine"] = min(m["cosine"] for m in ok)
    snrs = [math.inf if m["snr_db"] == "inf" else -math.inf if m["snr_db"] == "-inf" else m["snr_db"] for m in ok
            if m["snr_db"] != "nan"]
    if snrs:
        s["snr_db"] = _finite(min(snrs))
    s["max_abs"] = max(m["max_abs"] for m in ok)
    for k in ("top1", "top5", "iou"):
        vals = [m[k] for m in ok if k in m]
        if vals:
            s[k] = min(vals)
    return s


@dataclass
class FidelityReport:
    vs_parent: dict[str, Any]
    vs_root: dict[str, Any]
    samples: int
    inputs: dict[str, dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"vs_parent": self.vs_parent, "vs_root": self.vs_root, "samples": self.samples, "inputs": self.inputs}


def measure(variant: onnx.ModelProto | Path, parent: onnx.ModelProto | Path, root: onnx.ModelProto | Path,
            samples: int = 3, seed: int = 0, inputs_dir: Path | None = None,
            shapes: dict[str, list[int]] | None = None) -> FidelityReport:
    """Compare `variant` with `parent` and `root` on the same inputs (generated from the root's signature)."""
    root_proto = root if isinstance(root, onnx.ModelProto) else onnx.load(str(root), load_external_data=False)
    var_proto = variant if isinstance(variant, onnx.ModelProto) else onnx.load(str(variant), load_external_data=False)
    # A variant with pinned shapes (fix-shape) dictates them: the dynamic root accepts them as well.
    pinned = {n: d for n, _, d in input_signature(var_proto) if d and all(isinstance(x, int) and x > 0 for x in d)}
    shapes = {**pinned, **(shapes or {})}
    source = "folder" if inputs_dir else "generated"
    feeds = load_inputs(inputs_dir, root_proto) if inputs_dir else generate_inputs(root_proto, samples, seed, shapes)
    got = run_model(variant, feeds)
    ref_root = run_model(root, feeds)
    ref_parent = ref_root if parent is root else run_model(parent, feeds)
    info = {n: {"shape": list(a.shape), "dtype": str(a.dtype), "source": source} for n, a in feeds[0].items()}
    return FidelityReport(compare_outputs(ref_parent, got), compare_outputs(ref_root, got), len(feeds), info)
