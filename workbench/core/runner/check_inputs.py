"""Catch --shape / --input mistakes before a run starts, so a typo is one line, not a failed run in history."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx

from workbench.core.errors import InputSpecError
from workbench.core.types import BenchmarkJob


def _signature(model: onnx.ModelProto) -> dict[str, tuple[int, list[int | str]]]:
    """Real graph inputs (initializers excluded): name -> (elem type, dims as ints or symbol names)."""
    inits = {t.name for t in model.graph.initializer}
    sig = {}
    for vi in model.graph.input:
        if vi.name in inits:
            continue
        t = vi.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in t.shape.dim]
        sig[vi.name] = (t.elem_type, dims)
    return sig


def _check_dims(what: str, got: list[int], want: list[int | str]) -> None:
    if len(got) != len(want):
        raise InputSpecError(f"{what}: the model input has rank {len(want)} {want}, got {len(got)} dims {got}")
    for axis, (g, w) in enumerate(zip(got, want)):
        if isinstance(w, int) and w > 0 and g != w:
            raise InputSpecError(f"{what}: axis {axis} is fixed at {w} in the model, got {g}")


def check_job_inputs(job: BenchmarkJob) -> None:
    """Raise InputSpecError naming the model, the input and the problem; does nothing for a valid job."""
    model = onnx.load(str(job.model_path), load_external_data=False)
    sig = _signature(model)
    names = ", ".join(sig) or "none"
    for option, given in (("--shape", job.shapes), ("--input", job.inputs)):
        for name in given:
            if name not in sig:
                raise InputSpecError(f"{option} {name}: {Path(job.model_path).name} has no input named {name!r} "
                                     f"(inputs: {names})")
    for name in set(job.shapes) & set(job.inputs):
        raise InputSpecError(f"--shape {name} and --input {name} both given: the .npy file fixes the shape")
    for name, dims in job.shapes.items():
        _check_dims(f"--shape {name}", list(dims), sig[name][1])
    for name, path in job.inputs.items():
        try:
            arr = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise InputSpecError(f"--input {name}: {path}: not a numeric .npy array ({exc})") from None
        want = onnx.helper.tensor_dtype_to_np_dtype(sig[name][0])
        if arr.dtype != want:
            raise InputSpecError(f"--input {name}: {path} holds {arr.dtype}, the model wants {np.dtype(want)} "
                                 f"(convert it, e.g. arr.astype(np.{np.dtype(want).name}))")
        _check_dims(f"--input {name} ({path})", list(arr.shape), sig[name][1])
