"""Model inputs for calibration: read the user's folder, or generate a plausible set (and say so).

Shapes: a dynamic batch dim becomes 1, dynamic H/W of a 4-D input become `hw`, any other dynamic dim
becomes `seq_len`. Integer inputs that feed a Gather (token ids) are drawn below that table's size;
inputs named like a mask are all ones, so generated text batches look like real ones.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import helper

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}


@dataclass(frozen=True)
class InputSpec:
    name: str
    dtype: np.dtype
    shape: tuple[int, ...]
    vocab: int | None = None  # upper bound for integer ids, when a Gather tells us


def input_specs(model: onnx.ModelProto, hw: int = 224, seq_len: int = 16) -> list[InputSpec]:
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    specs: list[InputSpec] = []
    symbols: dict[str, int] = {}
    for inp in graph.input:
        if inp.name in inits:
            continue
        ttype = inp.type.tensor_type
        dims = list(ttype.shape.dim)
        shape: list[int] = []
        for i, d in enumerate(dims):
            if d.HasField("dim_value") and d.dim_value > 0:
                shape.append(int(d.dim_value))
                continue
            sym = d.dim_param
            if sym and sym in symbols:  # one symbol, one size: h0[1, batch, 32] must match x[batch, ...]
                value = symbols[sym]
            elif i == 0 or "batch" in sym.lower():
                value = 1
            elif len(dims) == 4 and i in (2, 3):
                value = hw
            else:
                value = seq_len
            if sym:
                symbols[sym] = value
            shape.append(value)
        dtype = np.dtype(helper.tensor_dtype_to_np_dtype(ttype.elem_type))
        specs.append(InputSpec(inp.name, dtype, tuple(shape), _vocab_for(graph, inp.name, inits)))
    return specs


def _vocab_for(graph: onnx.GraphProto, name: str, inits: dict) -> int | None:
    for node in graph.node:
        if node.op_type == "Gather" and len(node.input) > 1 and node.input[1] == name:
            table = inits.get(node.input[0])
            if table is not None and len(table.dims):
                return int(table.dims[0])
    return None


def generate(specs: list[InputSpec], count: int, seed: int = 0) -> list[dict[str, np.ndarray]]:
    """Deterministic synthetic samples (same seed, same data) matching the specs."""
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(count):
        feed: dict[str, np.ndarray] = {}
        for s in specs:
            if s.dtype.kind == "f":
                # Image-like inputs in [0, 1]; other float inputs (states, features) roughly unit scale.
                arr = rng.random(s.shape) if len(s.shape) == 4 else rng.standard_normal(s.shape) * 0.5
            elif s.dtype.kind == "b":
                arr = rng.random(s.shape) > 0.5
            elif "mask" in s.name.lower():
                arr = np.ones(s.shape)
            else:
                high = s.vocab if s.vocab else 2
                arr = rng.integers(0, high, size=s.shape)
            feed[s.name] = np.asarray(arr).astype(s.dtype)
        samples.append(feed)
    return samples


def load_folder(folder: Path, specs: list[InputSpec], limit: int) -> list[dict[str, np.ndarray]]:
    """Read calibration samples from a folder; errors name the file and what is wrong with it.

    Layouts: `*.npz` files (one sample each, or a stack along a leading axis) keyed by input name;
    `<input name>.npy` (a stack or one sample); plain `*.npy` for single-input models; images for a
    single 4-D float input (RGB, resized to the input's H x W, scaled to [0, 1], NCHW).
    """
    from workbench.api import ModelError

    if not folder.is_dir():
        raise ModelError(folder, "calibration folder does not exist")
    by_name = {s.name: s for s in specs}
    files = sorted(p for p in folder.iterdir() if p.is_file())
    columns: dict[str, list[np.ndarray]] = {s.name: [] for s in specs}
    images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
    for path in files:
        suffix = path.suffix.lower()
        if suffix == ".npz":
            with np.load(path) as data:
                missing = [n for n in by_name if n not in data.files]
                if missing:
                    raise ModelError(path, f"has no array for input(s) {', '.join(missing)} (has {', '.join(data.files)})")
                for name, spec in by_name.items():
                    columns[name].extend(_split(path, data[name], spec))
        elif suffix == ".npy":
            name = path.stem if path.stem in by_name else (specs[0].name if len(specs) == 1 else None)
            if name is None:
                raise ModelError(path, f"file name matches no input (inputs: {', '.join(by_name)})")
            columns[name].extend(_split(path, np.load(path), by_name[name]))
    if images:
        if len(specs) != 1 or len(specs[0].shape) != 4 or specs[0].dtype.kind != "f":
            raise ModelError(images[0], "images can only calibrate a model with one 4-D float input")
        columns[specs[0].name].extend(_load_image(p, specs[0]) for p in images)
    counts = {n: len(v) for n, v in columns.items()}
    if not any(counts.values()):
        raise ModelError(folder, "no .npy, .npz or image files found for calibration")
    if len(set(counts.values())) != 1:
        raise ModelError(folder, f"inputs have different sample counts: {counts}")
    n = min(limit, next(iter(counts.values())))
    return [{name: columns[name][i] for name in columns} for i in range(n)]


def _split(path: Path, arr: np.ndarray, spec: InputSpec) -> list[np.ndarray]:
    from workbench.api import ModelError

    rank = len(spec.shape)
    if arr.ndim == rank:
        arrays = [arr]
    elif arr.ndim == rank + 1:
        arrays = list(arr)
    else:
        raise ModelError(path, f"array for {spec.name} has {arr.ndim} dims, input needs {rank} (or {rank + 1} stacked)")
    return [a.astype(spec.dtype) for a in arrays]


def _load_image(path: Path, spec: InputSpec) -> np.ndarray:
    from workbench.api import ModelError

    try:
        from PIL import Image
    except ImportError as err:
        raise ModelError(path, "reading images needs Pillow (pip install pillow), or give .npy/.npz files") from err
    _, c, h, w = spec.shape
    try:
        with Image.open(path) as img:
            rgb = img.convert("RGB" if c == 3 else "L").resize((w, h), Image.BILINEAR)
    except OSError as err:
        raise ModelError(path, f"not a readable image ({err})") from err
    arr = np.asarray(rgb, dtype=np.float32) / 255.0
    arr = arr.reshape(h, w, -1).transpose(2, 0, 1)[None]
    return arr.astype(spec.dtype)
