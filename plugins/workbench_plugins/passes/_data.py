"""Model inputs for calibration: read the user's folder, or generate a plausible set (and say so).

Generated samples come from the workbench's one input generator (`workbench.api.plan_inputs` /
`draw_feeds`, the runner's own rules), so int8 calibration sees exactly the arrays a benchmark and a
fidelity check see for the same seed. `hw` and `seq_len` set the size of dynamic H/W and sequence dims.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx

from workbench.api import InputPlan, draw_feeds, plan_inputs

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}


@dataclass(frozen=True)
class InputSpec:
    name: str
    dtype: np.dtype
    shape: tuple[int, ...]
    vocab: int | None = None  # exclusive upper bound for generated integer ids
    plan: InputPlan | None = field(default=None, compare=False, repr=False)  # how `generate` draws it


def input_specs(model: onnx.ModelProto, hw: int = 224, seq_len: int = 16) -> list[InputSpec]:
    """One spec per real input, shapes and id bounds resolved by the shared generator's rules."""
    specs = []
    for p in plan_inputs(model, dims={"spatial": hw, "seq": seq_len}):
        dtype = np.dtype(p.numpy_dtype)
        specs.append(InputSpec(p.name, dtype, tuple(p.shape), p.high or None, p))
    return specs


def generate(specs: list[InputSpec], count: int, seed: int = 0) -> list[dict[str, np.ndarray]]:
    """Deterministic synthetic samples (same seed, same data as fidelity and the runner)."""
    missing = [s.name for s in specs if s.plan is None]
    if missing:
        raise ValueError(f"input spec(s) {', '.join(missing)} were not made by input_specs(); cannot generate")
    return draw_feeds([s.plan for s in specs], seed, count)


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
