"""prune-channels into classifier heads: GlobalAveragePool / feature map -> Flatten, Squeeze or Reshape ->
Gemm / MatMul, proven exact on hand-built graphs.

As in test_prune_concat, every Conv has planted all-zero output channels, so the features they flatten to
are exact zeros and removing exactly their Gemm columns / MatMul rows leaves the logits unchanged
(max abs diff < 1e-5). A flattened 4x4 feature map puts channel c at features [16c, 16c+16): taking the
columns of the wrong features (a channel index used as a feature index, or spatial-major order) moves the
outputs far beyond that, so the proofs can fail.
"""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import load
from test_prune_concat import Net, prune, run, weight_dims

CLASSES = 7


def classifier(n: Net, out: str) -> onnx.ModelProto:
    """The builder's graph with a [1, CLASSES] output (Net.model declares a feature map)."""
    graph = helper.make_graph(n.nodes, "head", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
                              [helper.make_tensor_value_info(out, TensorProto.FLOAT, [1, CLASSES])], n.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)], ir_version=8)
    onnx.checker.check_model(model)
    return model


def dense(n: Net, x: str, features: int, op: str = "Gemm", trans_b: int = 1, name: str = "fc") -> str:
    w = n.rng.standard_normal((features, CLASSES)).astype(np.float32) * 0.2
    if op == "MatMul":
        return n.op("MatMul", [x, n.const(w)], name=name)
    return n.op("Gemm", [x, n.const(w.T.copy() if trans_b else w), n.const(np.full(CLASSES, 0.1, np.float32))],
                name=name, transB=trans_b)


def features_of(n: Net, kind: str) -> tuple[str, int]:
    """Two Conv groups (8 + 16 channels, zeros planted) meeting in a Concat, BN+Relu, at 4x4 after a stride."""
    a = n.op("Relu", [n.bn(n.conv("x", 3, 8, (1, 6), stride=4, name="A"), 8, (1, 6))])
    b = n.op("Relu", [n.conv("x", 3, 16, (0, 5, 9, 14), stride=4, name="B")])
    cat = n.op("Concat", [a, b], axis=1)
    if kind == "pool":
        return n.op("GlobalAveragePool", [cat]), 24
    return cat, 24 * 16


def head_model(flatten: str = "flatten", op: str = "Gemm", trans_b: int = 1, pool: bool = True) -> onnx.ModelProto:
    n = Net(11)
    x, feats = features_of(n, "pool" if pool else "map")
    if flatten == "flatten":
        flat = n.op("Flatten", [x], axis=1)
    elif flatten == "reshape_shape":  # torch's x.view(x.size(0), -1), as wild_cnn.onnx has it
        batch = n.op("Gather", [n.op("Shape", [x]), n.const(np.array(0, np.int64))], axis=0)
        batch = n.op("Unsqueeze", [batch, n.const(np.array([0], np.int64))])
        flat = n.op("Reshape", [x, n.op("Concat", [batch, n.const(np.array([-1], np.int64))], axis=0)])
    elif flatten == "reshape_const":  # x.view(-1, 384): the constant feature count must be rewritten
        flat = n.op("Reshape", [x, n.const(np.array([-1, feats], np.int64))])
    elif flatten == "reshape_channels":  # [N, Shape(x)[1]]: follows the channels by itself (H*W = 1 only)
        flat = n.op("Reshape", [x, n.op("Shape", [x], start=0, end=2)])
    elif flatten == "squeeze":
        flat = n.op("Squeeze", [x, n.const(np.array([2, 3], np.int64))])
    else:
        raise ValueError(flatten)
    return classifier(n, dense(n, n.op("Relu", [flat]), feats, op, trans_b))


def head_weight(model: onnx.ModelProto) -> np.ndarray:
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    (fc,) = [node for node in model.graph.node if node.name == "fc"]
    return inits[fc.input[1]]


CASES = [("flatten", "Gemm", 1, True), ("flatten", "Gemm", 0, True), ("flatten", "MatMul", 0, True),
         ("reshape_shape", "Gemm", 1, True), ("reshape_const", "Gemm", 1, True),
         ("reshape_channels", "MatMul", 0, True), ("squeeze", "Gemm", 1, True),
         ("flatten", "Gemm", 1, False), ("flatten", "MatMul", 0, False), ("reshape_shape", "Gemm", 0, False),
         ("reshape_const", "MatMul", 0, False)]


@pytest.mark.parametrize("flatten,op,trans_b,pool", CASES)
def test_head_prunes_exactly(flatten, op, trans_b, pool, tmp_path):
    model = head_model(flatten, op, trans_b, pool)
    result = prune(model, tmp_path)
    assert result.metrics["groups_pruned"] == 2 and result.metrics["groups_left"] == 0, result.notes
    assert weight_dims(result.model, "A")[0] == 6 and weight_dims(result.model, "B")[0] == 12
    per = 1 if pool else 16
    k_axis = 1 if op == "Gemm" and trans_b else 0
    kept = np.r_[[0, 2, 3, 4, 5, 7], 8 + np.array([1, 2, 3, 4, 6, 7, 8, 10, 11, 12, 13, 15])]
    cols = (kept[:, None] * per + np.arange(per)).reshape(-1)
    np.testing.assert_array_equal(head_weight(result.model), np.take(head_weight(model), cols, axis=k_axis))
    assert np.abs(run(result.model) - run(model)).max() < 1e-5


def test_wrong_feature_order_would_show(tmp_path):
    """A 4x4 map flattens channel-major: keeping channel c's features as c*16..c*16+15 is exact, while the
    same count of columns picked spatial-major (s*C + c) or by channel index alone changes the logits."""
    model = head_model("flatten", "Gemm", 1, pool=False)
    pruned = prune(model, tmp_path).model
    kept = np.r_[[0, 2, 3, 4, 5, 7], 8 + np.array([1, 2, 3, 4, 6, 7, 8, 10, 11, 12, 13, 15])]
    orig = head_weight(model)
    (fc,) = [node for node in pruned.graph.node if node.name == "fc"]
    weight = next(t for t in pruned.graph.initializer if t.name == fc.input[1])
    for wrong in [(np.arange(16)[:, None] * 24 + kept).reshape(-1), np.arange(len(kept) * 16)]:
        weight.CopyFrom(numpy_helper.from_array(orig[:, wrong], fc.input[1]))
        assert np.abs(run(pruned) - run(model)).max() > 1e-3


def test_reshape_const_target_is_rewritten(tmp_path):
    result = prune(head_model("reshape_const", pool=False), tmp_path)
    (node,) = [n for n in result.model.graph.node if n.op_type == "Reshape"]
    target = next(numpy_helper.to_array(t) for t in result.model.graph.initializer if t.name == node.input[1])
    assert target.tolist() == [-1, 18 * 16]


def pinned_head(kind: str) -> onnx.ModelProto:
    n = Net(12)
    x, feats = features_of(n, "map")
    if kind == "dynamic_hw":  # a feature map of unknown H*W: which features belong to channel c is unknown
        model = classifier(n, dense(n, n.op("Flatten", [x], axis=1), feats))
        model.graph.input[0].type.tensor_type.shape.dim[2].dim_param = "h"
        model.graph.input[0].type.tensor_type.shape.dim[3].dim_param = "w"
        return model
    if kind == "rank3":
        flat = n.op("Reshape", [x, n.const(np.array([1, 24, -1], np.int64))])
        flat = n.op("ReduceMean", [flat], axes=[2], keepdims=0)
        return classifier(n, dense(n, flat, 24))
    if kind == "computed_const":  # [Shape(x)[0], 384] from a Concat: no initializer of its own to rewrite
        batch = n.op("Shape", [x], start=0, end=1)
        flat = n.op("Reshape", [x, n.op("Concat", [batch, n.const(np.array([feats], np.int64))], axis=0)])
        return classifier(n, dense(n, flat, feats))
    if kind == "flatten_axis2":
        flat = n.op("Flatten", [x], axis=2)  # [N*C, H*W]
        return classifier(n, n.op("ReduceSum", [dense(n, flat, 16), n.const(np.array([0], np.int64))], keepdims=1))
    if kind == "reshape_by_other":  # [1, Shape(C)[1], -1] of a flattened map: pruning C would change that shape
        c = n.conv("x", 3, 16, (0, 5, 9, 14), name="C")
        target = n.op("Concat", [n.const(np.array([1], np.int64)), n.op("Shape", [c], start=1, end=2),
                                 n.const(np.array([-1], np.int64))], axis=0)
        flat = n.op("ReduceMean", [n.op("Reshape", [n.op("Flatten", [x], axis=1), target])], axes=[1], keepdims=0)
        return classifier(n, dense(n, flat, 24))
    if kind == "add_after_flatten":  # channel-wise joins do not line up with C*H*W features
        flat = n.op("Flatten", [x], axis=1)
        flat = n.op("Add", [flat, n.const(np.ones((1, feats), np.float32))])
        return classifier(n, dense(n, flat, feats))
    raise ValueError(kind)


@pytest.mark.parametrize("kind,why", [
    ("dynamic_hw", "spatial size shape inference cannot tell"),
    ("rank3", "reshapes to rank 3"),
    ("computed_const", "computed or shared shape we cannot rewrite"),
    ("flatten_axis2", "flattens at axis 2"),
    ("add_after_flatten", "a flattened feature map reaches Add"),
    ("reshape_by_other", "C: a flattened feature map reaches Reshape"),
])
def test_heads_we_cannot_rewrite_leave_the_groups_and_say_why(kind, why, tmp_path):
    model = pinned_head(kind)
    with pytest.raises(Exception, match=why):  # both groups pinned: the pass refuses, naming the reason
        prune(model, tmp_path)


def test_shared_head_weight_is_left(tmp_path):
    """Two heads on one weight: slicing it for one reader would corrupt the other."""
    n = Net(13)
    x, feats = features_of(n, "pool")
    w = n.const(n.rng.standard_normal((feats, CLASSES)).astype(np.float32))
    flat = n.op("Flatten", [x], axis=1)
    other = n.op("GlobalMaxPool", [n.conv("x", 3, 24, name="C")])
    out = n.op("Add", [n.op("MatMul", [flat, w]), n.op("MatMul", [n.op("Flatten", [other], axis=1), w])])
    model = classifier(n, out)
    with pytest.raises(Exception, match=f"initializer {w} is shared"):
        prune(model, tmp_path)


@pytest.mark.parametrize("name,params,classifier_name,k_after", [
    ("mobilenet_se", {}, "classifier", 192 + 48),  # head.conv 256 -> 192 and fpn.fuse.conv 64 -> 48, concatenated
    ("wild_cnn", {"round_to": 1}, "Gemm_71", 48)])  # Conv_54 64 -> 48 through Reshape(Shape(x)[0], -1)
def test_demo_heads_no_longer_pin(name, params, classifier_name, k_after, tmp_path):
    """The last groups of the demo CNNs (GlobalAveragePool -> Flatten / Reshape -> Gemm transB) now prune."""
    from workbench_plugins.passes.prune_channels import PruneChannelsPass

    model = load(name)
    result = prune(model, tmp_path, PruneChannelsPass.Params(ratio=0.25, **params))
    assert result.metrics["groups_left"] == 0, [n for n in result.notes if n.startswith("left ")]
    (fc,) = [n for n in result.model.graph.node if n.name == classifier_name]
    after = {t.name: list(t.dims) for t in result.model.graph.initializer}
    assert after[fc.input[1]][1] == k_after
    assert run_image(result.model, model).shape == run_image(model, model).shape


def run_image(model: onnx.ModelProto, original: onnx.ModelProto) -> np.ndarray:
    import onnxruntime as ort

    name = original.graph.input[0].name
    x = np.random.default_rng(0).standard_normal((2, 3, 96, 96)).astype(np.float32)
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {name: x})[0]
