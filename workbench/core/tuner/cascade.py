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
        missing = sorted({i.name for i in sess.get_inputs()} - set(feeds[0]) if feeds else [])
        if missing:  # a cascade runs both models on the same input
            raise ModelError(path, f"takes inputs {', '.join(missing)} that the other model does not "
                                   f"(given: {', '.join(sorted(feeds[0]))}); a cascade needs two models of the same task")
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


@dataclass
class CascadeTuning:
    """The chosen operating point of a light -> heavy cascade and what it was tuned on."""

    point: CascadePoint
    points: list[CascadePoint]
    measure: Measure
    target_agreement: float
    light_ms: float
    heavy_ms: float
    inputs: int  # rows of class scores the sweep saw
    base_agreement: float  # light alone vs heavy alone

    @property
    def pays(self) -> bool:
        """Cheaper on average than always running the heavy model."""
        return self.point.cost_ms < self.heavy_ms

    def policy(self, light: str, heavy: str):
        """The profile's CascadeSwitch for this point (names are how the app knows the two variants)."""
        from workbench.core.profiles.model import CascadeSwitch

        p = self.point
        return CascadeSwitch(light=light, heavy=heavy, measure=self.measure, threshold=min(p.threshold, 1.0),
                             expected_agreement=round(p.agreement, 6), expected_escalation_rate=round(p.escalation_rate, 6),
                             expected_cost_ms=max(round(p.cost_ms, 4), 1e-4))


def cascade_feeds(heavy_path: Path, inputs_dir: Path | None = None, samples: int = 64,
                  shapes: dict[str, list[int]] | None = None, seed: int = 0) -> list[dict[str, np.ndarray]]:
    """The inputs both models see: the user's folder (.npz per sample or <input>.npy), else `samples`
    deterministic inputs generated from the heavy model's signature (batch 1, so latency is per call)."""
    import onnx

    from workbench.core.passes import fidelity as fid

    try:
        model = onnx.load(str(heavy_path), load_external_data=False)
    except Exception as exc:  # noqa: BLE001 - protobuf errors are untyped
        raise ModelError(heavy_path, f"not a readable ONNX model ({type(exc).__name__})") from exc
    if inputs_dir is not None:
        return fid.load_inputs(Path(inputs_dir), model)
    return fid.generate_inputs(model, samples=samples, seed=seed, shapes=shapes)


def tune_cascade(light_path: Path, heavy_path: Path, feeds: list[dict[str, np.ndarray]], target_agreement: float,
                 *, measure: Measure = "top1_prob", output: str | None = None, threads: int = 1,
                 repeats: int = 3) -> CascadeTuning:
    """Run both models on `feeds`, sweep every threshold, pick the cheapest meeting `target_agreement`."""
    if not 0.0 < target_agreement <= 1.0:
        raise WorkbenchError(f"target agreement {target_agreement} must be in (0, 1]")
    lo, ho, lms, hms = run_pair(light_path, heavy_path, feeds, output=output, threads=threads, repeats=repeats)
    points = sweep(lo, ho, lms, hms, measure)
    base = float(np.mean(np.argmax(lo, 1) == np.argmax(ho, 1)))
    return CascadeTuning(tune_threshold(points, target_agreement), points, measure, target_agreement, lms, hms,
                         len(lo), base)
