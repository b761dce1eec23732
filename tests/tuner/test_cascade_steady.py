from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from workbench.core.errors import ModelError
from workbench.core.tuner.cascade import as_probs, run_pair, sweep, tune_threshold
from workbench.core.tuner.steady import steady_state
from workbench.core.types import IterationEvent

from tests.tuner.physics import simulate


def _mlp(path, w1, b1, w2, b2):
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"]), helper.make_node("Add", ["h", "b1"], ["hb"]),
             helper.make_node("Relu", ["hb"], ["r"]), helper.make_node("MatMul", ["r", "w2"], ["o"]),
             helper.make_node("Add", ["o", "b2"], ["logits"])]
    inits = [numpy_helper.from_array(a.astype(np.float32), n) for a, n in ((w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"))]
    g = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", w1.shape[0]])],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["n", w2.shape[1]])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, path)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """Heavy: 256 -> 1024 -> 20 classifier. Light: the same net channel-pruned to its 96 strongest hidden
    units (L1 norm of outgoing weights), a real cheaper approximation that errs on low-margin inputs."""
    d = tmp_path_factory.mktemp("cascade")
    rng = np.random.default_rng(0)
    w1 = rng.normal(0, 1 / 16, (256, 1024)); b1 = rng.normal(0, 0.1, 1024)
    w2 = rng.normal(0, 1 / 32, (1024, 20)) * rng.gamma(0.5, 2.0, (1024, 1)); b2 = np.zeros(20)
    keep = np.argsort(-np.abs(w2).sum(1))[:96]
    _mlp(d / "heavy.onnx", w1, b1, w2, b2)
    _mlp(d / "light.onnx", w1[:, keep], b1[keep], w2[keep], b2)
    feeds = [{"x": rng.normal(0, 1, (64, 256)).astype(np.float32)} for _ in range(8)]
    return d / "light.onnx", d / "heavy.onnx", feeds


def test_cascade_on_real_models_meets_target_cheaper_than_heavy(pair):
    light, heavy, feeds = pair
    lo, ho, lms, hms = run_pair(light, heavy, feeds, threads=1)
    assert lo.shape == ho.shape == (512, 20)
    base_agree = float(np.mean(lo.argmax(1) == ho.argmax(1)))
    assert 0.3 < base_agree < 0.97, "light must disagree sometimes or the test proves nothing"
    for measure in ("top1_prob", "margin"):
        pts = sweep(lo, ho, lms, hms, measure)
        assert pts[0].escalation_rate == 0 and pts[-1].escalation_rate == 1 and pts[-1].agreement == 1
        assert all(a.threshold <= b.threshold and a.agreement <= b.agreement for a, b in zip(pts, pts[1:]))
        best = tune_threshold(pts, 0.95)
        assert best.agreement >= 0.95
        assert best.escalation_rate < 1.0
        # a cascade only pays if it beats always-heavy (light + escalations vs heavy alone)
        cheaper = [p for p in pts if p.agreement >= 0.95 and p.cost_ms <= best.cost_ms]
        assert cheaper == [best] or all(p.cost_ms == best.cost_ms for p in cheaper)
        # confidence is informative: escalating the least confident beats escalating at random
        random_agree = best.escalation_rate + (1 - best.escalation_rate) * base_agree
        assert best.agreement > random_agree


def test_as_probs_leaves_probabilities_and_softmaxes_logits():
    p = np.array([[0.2, 0.8], [0.5, 0.5]])
    assert as_probs(p) is not p and np.allclose(as_probs(p), p)
    q = as_probs(np.array([[2.0, -1.0]]))
    assert np.allclose(q.sum(1), 1) and q[0, 0] > q[0, 1]


def test_run_pair_names_a_missing_output(pair):
    light, heavy, feeds = pair
    with pytest.raises(ModelError, match="has no output 'probs'"):
        run_pair(light, heavy, feeds[:1], output="probs")


def test_steady_state_found_after_heat_soak():
    samples, its = simulate(3.0, 15.0, 600.0, seed=1, tau=60.0)
    t = np.array([s.t for s in samples])
    series = {"thermal.soc": np.array([s.values["thermal.soc"] for s in samples]), "cpu.load.all": np.ones(t.size)}
    ss = steady_state(t, series, its, slope_per_min=0.3, window_s=30.0)
    assert ss.reached and ss.temperature > 50
    assert 150 < ss.t_steady < 500  # tau = 60 s: settles after a few time constants
    cold = [it.latency_ms for it in its[:200]]
    assert ss.p90_ms > 1.3 * np.percentile(cold, 90), "steady state latency is the throttled one"


def test_without_thermal_channels_second_half_is_judged():
    its = [IterationEvent(i, "measure", i * 0.1, 10.0 if i < 50 else 20.0) for i in range(100)]
    ss = steady_state(np.arange(0, 10, 0.1), {"cpu.load.all": np.ones(100)}, its)
    assert not ss.reached and ss.p50_ms == 20.0 and "no thermal channel" in ss.reason
