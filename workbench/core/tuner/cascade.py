"""Confidence cascade: run the light variant, escalate to the heavy one when the light is unsure.

The threshold is tuned on real outputs of both models: for each candidate threshold we know exactly
which inputs would escalate, the resulting agreement with the heavy model, and the mean cost per input
(light always runs; heavy only on escalation). We pick the cheapest threshold meeting the target.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import onnxruntime as ort

from workbench.core.errors import ModelError, WorkbenchError

Measure = Literal["top1_prob", "margin"]


def as_probs(x: np.ndarray) -> np.ndarray:
    """Rows of class probabilities; logits (negative values or rows not summing to 1) get a softmax."""
    x = np.asarray(x, dtype=np.float64).reshape(-1, np.asarray(x).shape[-1])
    if np.all(x >= 0) and np.allclose(x.sum(axis=1), 1.0, atol=1e-3):
        return x
    z = x - x.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def confidence(probs: np.ndarray, measure: Measure) -> np.ndarray:
    s = np.sort(probs, axis=1)
    return s[:, -1] if measure == "top1_prob" else s[:, -1] - s[:, -2]


@dataclass
class CascadePoint:
    threshold: float
    agreement: float  # fraction of inputs whose final top-1 equals the heavy model's
    escalation_rate: float
    cost_ms: float  # mean per input: light + escalation_rate * heavy


def sweep(light: np.ndarray, heavy: np.ndarray, light_ms: float, heavy_ms: float,
          measure: Measure = "top1_prob") -> list[CascadePoint]:
    """Every distinct threshold (each observed confidence, plus 0 = never escalate), sorted by threshold."""
    lp, hp = as_probs(light), as_probs(heavy)
    if lp.shape != hp.shape:
        raise WorkbenchError(f"light and heavy outputs differ in shape: {lp.shape} vs {hp.shape}")
    conf = confidence(lp, measure)
    same = np.argmax(lp, 1) == np.argmax(hp, 1)
    order = np.argsort(conf, kind="stable")
    conf_s, same_s = conf[order], same[order]
    n = len(conf)
    # threshold = conf_s[k] escalates exactly the k inputs below it (ties escalate together)
    points = [CascadePoint(0.0, float(same.mean()), 0.0, light_ms)]
    for k in range(1, n + 1):
        if k < n and conf_s[k] == conf_s[k - 1]:
            continue
        thr = float(conf_s[k]) if k < n else float(np.nextafter(conf_s[-1], np.inf))
        agree = (k + same_s[k:].sum()) / n
        rate = k / n
        points.append(CascadePoint(min(thr, 1.0), float(agree), rate, light_ms + rate * heavy_ms))
    return points


def tune_threshold(points: list[CascadePoint], target_agreement: float) -> CascadePoint:
    """Cheapest point meeting the target; the always-escalate point always meets it (agreement 1)."""
    ok = [p for p in points if p.agreement >= target_agreement]
    return min(ok, key=lambda p: (p.cost_ms, p.threshold))


def _session(path: Path, threads: int) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own untyped errors
        raise ModelError(path, f"onnxruntime cannot load it: {str(exc).splitlines()[0]}") from exc


def run_pair(light_path: Path, heavy_path: Path, feeds: list[dict[str, np.ndarray]], output: str | None = None,
             threads: int = 1, repeats: int = 3) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Run both models on the same inputs with onnxruntime; returns (light scores, heavy scores,
    light median ms, heavy median ms). Latency is the median over inputs x repeats."""
    results = []
    for path in (light_path, heavy_path):
        sess = _session(Path(path), threads)
        names = [o.name for o in sess.get_outputs()]
        name = output or names[0]
        if name not in names:
            raise ModelError(path, f"has no output {name!r} (outputs: {', '.join(names)})")
        outs, times = [], []
        for feed in feeds:
            sess.run([name], feed)  # warm this shape
            for _ in range(repeats):
                t = time.perf_counter()
                y = sess.run([name], feed)[0]
                times.append((time.perf_counter() - t) * 1e3)
            outs.append(y.reshape(-1, y.shape[-1]))
        results.append((np.concatenate(outs), float(np.median(times))))
    (lo, lms), (ho, hms) = results
    return lo, ho, lms, hms
