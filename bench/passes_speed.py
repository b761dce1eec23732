"""Speed of pass variants on this CPU: fp32, fp16, int8-dynamic, int8-static (QDQ U8S8 per-channel), prune-channels.

Prints, per model, thread count and variant: p50 latency, speed ratio vs fp32, file size, cosine vs fp32.
Numbers, not asserts: they depend on the CPU (and on the other processes sharing it).

    python bench/passes_speed.py [--runs 50] [--models mobilenet_se,wild_cnn] [--hw 224] [--only prune]

prune-channels also prints its own account: groups pruned / left (pinned by a reader it cannot rewrite) /
too small, Conv MACs and file size before -> after.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from workbench.api import PassContext, PassRefused
from workbench_plugins.passes import _data
from workbench_plugins.passes.fp16 import Fp16Pass
from workbench_plugins.passes.prune_channels import PruneChannelsPass
from workbench_plugins.passes.quantize import Int8DynamicPass, Int8StaticPass

ROOT = Path(__file__).resolve().parents[1]


def variants(model: onnx.ModelProto, hw: int, work: Path, only: str = "") -> dict[str, onnx.ModelProto]:
    def ctx(name: str) -> PassContext:
        (work / name).mkdir(exist_ok=True)
        return PassContext(work_dir=work / name)

    out = {"fp32": model}
    if only not in ("prune",):
        out["fp16"] = Fp16Pass().apply(model, Fp16Pass.Params(), ctx("fp16")).model
        out["int8-dynamic"] = Int8DynamicPass().apply(model, Int8DynamicPass.Params(), ctx("dyn")).model
        static = Int8StaticPass.Params(format="QDQ", types="U8S8", per_channel=True, calib_hw=hw,
                                       calibration_samples=16)
        out["int8-static QDQ U8S8 pc"] = Int8StaticPass().apply(model, static, ctx("static")).model
    try:
        pruned = PruneChannelsPass().apply(model, PruneChannelsPass.Params(ratio=0.25), ctx("prune"))
    except PassRefused as refused:  # small layers: a multiple of 8 keeps every channel
        print(f"prune-channels (round_to=8) refused: {refused.reason[:100]}...; using round_to=1")
        pruned = PruneChannelsPass().apply(model, PruneChannelsPass.Params(ratio=0.25, round_to=1), ctx("prune1"))
    out["prune-channels 25%"] = pruned.model
    m = pruned.metrics
    print(f"prune-channels 25%: groups pruned {m['groups_pruned']:.0f}, left {m['groups_left']:.0f} "
          f"(too small {m.get('groups_too_small', 0):.0f}); Conv MACs {m['macs_before'] / 1e6:.1f}M -> "
          f"{m['macs_after'] / 1e6:.1f}M ({m['macs_after'] / m['macs_before']:.2f}x); file "
          f"{m['bytes_before'] / 1e6:.2f} -> {m['bytes_after'] / 1e6:.2f} MB ({m['bytes_after'] / m['bytes_before']:.2f}x)")
    for note in pruned.notes:
        if note.startswith("left ") and "would keep" not in note:
            print(f"  {note}")
    return out


def session(model_bytes: bytes, threads: int) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])


def p50s(blobs: dict[str, bytes], feed: dict, threads: int, runs: int) -> dict[str, float]:
    """Round-robin over the variants (one run each per round), so load from other processes on this
    shared machine hits every variant alike instead of whichever happened to run during a spike."""
    sessions = {k: session(b, threads) for k, b in blobs.items()}
    for sess in sessions.values():
        for _ in range(5):
            sess.run(None, feed)
    times: dict[str, list[float]] = {k: [] for k in sessions}
    for _ in range(runs):
        for key, sess in sessions.items():
            t0 = time.perf_counter()
            sess.run(None, feed)
            times[key].append(time.perf_counter() - t0)
    return {k: float(np.median(v) * 1e3) for k, v in times.items()}


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-30))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="mobilenet_se,wild_cnn")
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--hw", type=int, default=224)
    ap.add_argument("--only", choices=["", "prune"], default="", help="prune: fp32 vs prune-channels only")
    args = ap.parse_args()
    for name in args.models.split(","):
        model = onnx.load(str(ROOT / "resources" / "models" / f"{name}.onnx"))
        feed = _data.generate(_data.input_specs(model, hw=args.hw), 1, seed=7)[0]
        shape = {k: v.shape for k, v in feed.items()}
        with tempfile.TemporaryDirectory() as tmp:
            built = variants(model, args.hw, Path(tmp), args.only)
        blobs = {k: m.SerializeToString() for k, m in built.items()}
        outs = {k: ort.InferenceSession(b, providers=["CPUExecutionProvider"]).run(None, feed)[0]
                for k, b in blobs.items()}
        print(f"\n{name} input {shape}, {args.runs} runs after warmup, onnxruntime {ort.__version__}")
        print(f"{'variant':26s} {'thr':>3s} {'p50 ms':>8s} {'vs fp32':>8s} {'size MB':>8s} {'cosine':>8s}")
        ratios = {}
        for threads in (1, 2):
            p50 = p50s(blobs, feed, threads, args.runs)
            for key, blob in blobs.items():
                ratio = p50["fp32"] / p50[key]
                ratios[(key, threads)] = ratio
                flag = "  <- SLOWER than fp32" if ratio < 0.95 else ""
                print(f"{key:26s} {threads:3d} {p50[key]:8.2f} {ratio:7.2f}x {len(blob) / 1e6:8.2f} "
                      f"{cosine(outs['fp32'], outs[key]):8.4f}{flag}")
        for key in blobs:
            if key != "fp32" and ratios[(key, 1)] < 0.95:
                why = {"int8-dynamic": "ConvInteger + run-time activation quantization; use int8-static QDQ for conv nets",
                       "fp16": "onnxruntime's CPU provider computes most fp16 ops via casts; fp16 pays off on GPUs/NPUs"}
                print(f"PLAINLY: {key} is {1 / ratios[(key, 1)]:.1f}x SLOWER than fp32 on this CPU (1 thread)"
                      + (f" - {why[key]}" if key in why else ""))

if __name__ == "__main__":
    main()
