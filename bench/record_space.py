"""Record a real search space: measure the demo model on this machine across variants x resolution x
batch x threads with onnxruntime, and store every iteration's latency plus fidelity vs fp32.

The recording is what tests and bench/tuner_strategies.py replay deterministically; re-record on a
quiet machine with `python bench/record_space.py` (about a minute on 2 cores).
"""
from __future__ import annotations

import argparse
import gc
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import psutil
from onnxruntime.quantization import CalibrationDataReader, QuantType, quantize_dynamic, quantize_static

from workbench.core.passes.fidelity import generate_inputs, measure as fidelity_measure

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "resources" / "models" / "mobilenet_se.onnx"


class _Calib(CalibrationDataReader):
    def __init__(self, model: onnx.ModelProto) -> None:
        self._it = iter(generate_inputs(model, samples=8, seed=7, shapes={"image": [1, 3, 160, 160]}))

    def get_next(self):
        return next(self._it, None)


def make_variants(work: Path) -> dict[str, Path]:
    base = onnx.load(str(MODEL))
    dyn = work / "int8_dynamic.onnx"
    quantize_dynamic(str(MODEL), str(dyn), weight_type=QuantType.QInt8)
    qdq = work / "int8_qdq.onnx"
    quantize_static(str(MODEL), str(qdq), _Calib(base), weight_type=QuantType.QInt8)
    return {"fp32": MODEL, "int8_dynamic": dyn, "int8_qdq": qdq}


def time_config(path: Path, res: int, batch: int, threads: int, warmup: int, runs: int) -> dict:
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    feed = {"image": np.random.default_rng(0).random((batch, 3, res, res), dtype=np.float32)}
    for _ in range(warmup):
        sess.run(None, feed)
    lat = []
    for _ in range(runs):
        t = time.perf_counter()
        sess.run(None, feed)
        lat.append((time.perf_counter() - t) * 1e3)
    rss = psutil.Process().memory_info().rss / 2**20
    del sess
    gc.collect()
    return {"latencies_ms": [round(x, 4) for x in lat], "rss_mb": round(rss, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "data" / "mobilenet_se_space.json")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    args = ap.parse_args()
    resolutions, batches, threads = [96, 128, 160, 192, 224, 256, 288], [1, 2], [1, 2]
    with tempfile.TemporaryDirectory() as tmp:
        variants = make_variants(Path(tmp))
        fidelity = {}
        for vid, path in variants.items():
            for res in resolutions:
                rep = fidelity_measure(path, MODEL, MODEL, samples=4, seed=1, shapes={"image": [1, 3, res, res]})
                logits = rep.vs_root["outputs"]["logits"]
                fidelity[f"{vid}@{res}"] = {"cosine": logits["cosine"], "top1": logits.get("top1")}
        records = []
        for vid, path in variants.items():
            for res in resolutions:
                for b in batches:
                    for t in threads:
                        rec = time_config(path, res, b, t, args.warmup, args.runs)
                        rec.update(variant=vid, resolution=res, batch=b, threads=t, **{
                            "fidelity": fidelity[f"{vid}@{res}"]["cosine"], "top1": fidelity[f"{vid}@{res}"]["top1"]})
                        records.append(rec)
                        print(f"{vid:13s} {res:4d} b{b} t{t}: p50 {np.percentile(rec['latencies_ms'], 50):7.2f} ms",
                              file=sys.stderr)
    doc = {
        "model": MODEL.name, "recorded": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": {"cpu": platform.processor() or platform.machine(), "cores": psutil.cpu_count(),
                 "onnxruntime": ort.__version__, "loadavg_at_start": list(psutil.getloadavg())},
        "axes": {"variant": list(variants), "resolution": resolutions, "batch": batches, "threads": threads},
        "runs": args.runs, "warmup": args.warmup, "records": records,
    }
    args.out.write_text(json.dumps(doc, indent=1))
    print(f"wrote {len(records)} configs to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
