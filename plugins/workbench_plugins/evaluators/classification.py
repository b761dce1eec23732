"""Top-1/top-5 accuracy of a classifier on a folder-per-class dataset of .npy/.npz inputs.

Layout: <dataset>/<class>/<sample>.npy (one preprocessed input, with or without the batch axis) or
.npz (keys = input names). Class folders named 0, 1, 2... are used as class indices; otherwise an
optional labels.txt (one class name per line, in the model's output order) maps names to indices,
and without it folders are indexed in sorted order. Images are not decoded here on purpose:
preprocessing is model-specific, so users save exactly what their app feeds the model.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from workbench.api import EvalContext, Evaluator, InputSpecError, generate_inputs

_NP = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(double)": np.float64,
       "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(uint8)": np.uint8, "tensor(int8)": np.int8}


def _class_index(dataset: Path, folders: list[Path]) -> dict[str, int]:
    labels = dataset / "labels.txt"
    if labels.is_file():
        names = [ln.strip() for ln in labels.read_text(encoding="utf-8").splitlines() if ln.strip()]
        index = {n: i for i, n in enumerate(names)}
        unknown = [f.name for f in folders if f.name not in index]
        if unknown:
            raise InputSpecError(f"{labels}: class folder '{unknown[0]}' is not listed")
        return index
    if all(f.name.isdigit() for f in folders):
        return {f.name: int(f.name) for f in folders}
    return {f.name: i for i, f in enumerate(sorted(folders, key=lambda p: p.name))}


class FolderTop1Evaluator(Evaluator):
    id = "top1-folder"
    title = "Top-1 / top-5 accuracy (folder per class)"
    description = "dataset/<class>/*.npy|*.npz; first output must be class scores [1, C]"

    def evaluate(self, model_path: Path, dataset_dir: Path, ctx: EvalContext) -> dict[str, float]:
        dataset_dir = Path(dataset_dir)
        folders = sorted(p for p in dataset_dir.iterdir() if p.is_dir()) if dataset_dir.is_dir() else []
        if not folders:
            raise InputSpecError(f"{dataset_dir}: expected one sub-folder per class")
        index = _class_index(dataset_dir, folders)
        files = [(f, index[d.name]) for d in folders for f in sorted(d.iterdir()) if f.suffix in (".npy", ".npz")]
        if not files:
            raise InputSpecError(f"{dataset_dir}: class folders hold no .npy/.npz samples")
        so = ort.SessionOptions()
        so.log_severity_level = 3
        sess = ort.InferenceSession(str(model_path), so, providers=ctx.providers)
        inputs = sess.get_inputs()
        # Inputs a sample does not provide (masks, state) get the same defaults fidelity uses.
        defaults = generate_inputs(onnx.load(str(model_path), load_external_data=False), samples=1)[0]
        main = inputs[0]
        top1 = top5 = 0
        for i, (f, label) in enumerate(files):
            ctx.progress(i, len(files), f.name)
            if ctx.cancel.is_set():
                raise InputSpecError("evaluation cancelled")
            feed = dict(defaults)
            if f.suffix == ".npz":
                with np.load(f) as z:
                    feed.update({k: z[k] for k in z.files})
            else:
                arr = np.load(f)
                if arr.ndim == len(main.shape) - 1:
                    arr = arr[None]
                feed[main.name] = arr
            feed = {x.name: np.asarray(feed[x.name]).astype(_NP.get(x.type, feed[x.name].dtype)) for x in inputs}
            try:
                scores = np.asarray(sess.run([sess.get_outputs()[0].name], feed)[0], dtype=np.float64).reshape(-1)
            except Exception as exc:  # noqa: BLE001
                raise InputSpecError(f"{f}: model rejected this sample ({str(exc).splitlines()[0]})") from exc
            order = np.argsort(-scores, kind="stable")
            top1 += int(order[0] == label)
            top5 += int(label in order[:5])
        n = len(files)
        return {"top1": top1 / n, "top5": top5 / n, "samples": float(n)}
