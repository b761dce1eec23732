"""prune-channels through channel Concat joins, proven on small hand-built graphs.

The exactness proofs plant all-zero output channels (zero weights, zero bias, BN shift 0) in every Conv
of a group at scattered positions, so those channels carry exact zeros to every reader. Removing exactly
those channels at the right shifted indices must leave the outputs unchanged (max abs diff < 1e-5);
removing any wrong channel after a Concat (a wrong offset) changes them by far more.
"""
from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from workbench.api import PassContext
from workbench_plugins.passes.prune_channels import PruneChannelsPass


RATIO = 0.3  # 8 channels -> 2 pruned, 16 -> 4: with round_to=1, min_channels=1
EXACT = PruneChannelsPass.Params(ratio=RATIO, round_to=1, min_channels=1, fold_batchnorm=True)


class Net:
    """A tiny graph builder whose Convs can be told which output channels are all-zero."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.n = 0

    def _name(self, base: str) -> str:
        self.n += 1
        return f"{base}{self.n}"

    def const(self, arr: np.ndarray) -> str:
        name = self._name("c")
        self.inits.append(numpy_helper.from_array(arr, name))
        return name

    def op(self, op: str, inputs: list[str], name: str | None = None, **attrs) -> str:
        out = self._name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=name or self._name(op), **attrs))
        return out

    def conv(self, x: str, cin: int, cout: int, zero: tuple[int, ...] = (), k: int = 3, stride: int = 1,
             group: int = 1, name: str | None = None) -> str:
        w = self.rng.standard_normal((cout, cin // group, k, k)).astype(np.float32) * 0.3
        b = self.rng.standard_normal(cout).astype(np.float32) * 0.1
        w[list(zero)] = 0.0
        b[list(zero)] = 0.0
        return self.op("Conv", [x, self.const(w), self.const(b)], name=name, kernel_shape=[k, k],
                       strides=[stride, stride], pads=[k // 2] * 4, group=group)

    def bn(self, x: str, c: int, zero: tuple[int, ...] = ()) -> str:
        scale = self.rng.uniform(0.5, 1.5, c).astype(np.float32)
        beta = (self.rng.standard_normal(c) * 0.1).astype(np.float32)
        mean = (self.rng.standard_normal(c) * 0.1).astype(np.float32)
        beta[list(zero)] = 0.0
        mean[list(zero)] = 0.0
        var = self.rng.uniform(0.5, 2.0, c).astype(np.float32)
        return self.op("BatchNormalization", [x] + [self.const(p) for p in (scale, beta, mean, var)])

    def model(self, out: str, channels_in: int = 3, hw: int = 16, out_rank: int = 4) -> onnx.ModelProto:
        out_dims = ["n", "c", "h", "w"][:out_rank]
        graph = helper.make_graph(self.nodes, "net",
                                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, channels_in, hw, hw])],
                                  [helper.make_tensor_value_info(out, TensorProto.FLOAT, out_dims)], self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)], ir_version=8)
        onnx.checker.check_model(model)
        return model

    def head(self, x: str, cin: int) -> str:
        """A dense Conv reading every channel (its own output is the model output, so it stays whole)."""
        return self.conv(x, cin, 5, name="head")


def concat_bn_relu_resize(za=(1, 5), zb=(0, 6), axis: int = 1) -> onnx.ModelProto:
    """convA-BN-Relu-Resize and convB-Relu meet in a Concat that also takes the raw input in the middle."""
    n = Net(1)
    a = n.op("Relu", [n.bn(n.conv("x", 3, 8, za, stride=2, name="A"), 8, za)])
    a = n.op("Resize", [a, "", n.const(np.array([1, 1, 2, 2], np.float32))], mode="nearest")
    b = n.op("Relu", [n.conv("x", 3, 8, zb, name="B")])
    cat = n.op("Concat", [a, "x", b], axis=axis)
    return n.model(n.head(cat, 19))


def fpn_sizes_from_shape(channel_entry: str = "self") -> onnx.ModelProto:
    """FPN export style: Resize(A, sizes=Concat(Shape(A)[0:2], Shape(B)[2:4])); three groups into one Concat."""
    n = Net(2)
    a = n.bn(n.conv("x", 3, 8, (2, 7), stride=2, name="A"), 8, (2, 7))
    b = n.op("Relu", [n.conv("x", 3, 8, (3, 4), name="B")])
    c = n.conv("x", 3, 16, (0, 9, 10, 15), k=1, name="C")
    if channel_entry == "self":
        nc = n.op("Shape", [a], start=0, end=2)
    elif channel_entry == "constant":
        nc = n.op("Concat", [n.op("Shape", [a], start=0, end=1), n.const(np.array([8], np.int64))], axis=0)
    else:  # the channel entry of a tensor with another channel count: Resize would change the channels
        nc = n.op("Shape", [c], start=0, end=2)
    sizes = n.op("Concat", [nc, n.op("Shape", [b], start=2, end=4)], axis=0)
    up = n.op("Resize", [a, "", "", sizes], mode="nearest")
    if channel_entry == "other":  # Resize interpolates 8 -> 16 channels; C's group must stay alone then
        cat = n.op("Concat", [up, b], axis=1)
        return n.model(n.op("Add", [n.head(cat, 24), n.op("ReduceMean", [c], axes=[1], keepdims=1)]))
    cat = n.op("Concat", [up, b, c], axis=1)
    return n.model(n.head(cat, 32))


def concat_depthwise_add() -> onnx.ModelProto:
    """Concat -> depthwise -> BN -> Relu, Add back onto the Concat, then Add a 16-channel Conv E:
    E's first 8 channels are tied to A's, its last 8 to B's (the group is split at the Concat boundary)."""
    za, zb = (0, 3), (5, 7)
    ze = za + tuple(8 + i for i in zb)
    n = Net(3)
    a = n.op("Relu", [n.conv("x", 3, 8, za, name="A")])
    b = n.conv("x", 3, 8, zb, k=1, name="B")
    cat = n.op("Concat", [a, b], axis=1)
    d = n.op("Relu", [n.bn(n.conv(cat, 16, 16, ze, group=16, name="DW"), 16, ze)])
    s = n.op("Add", [cat, d])
    s = n.op("Add", [s, n.conv("x", 3, 16, ze, name="E")])
    return n.model(n.head(s, 16))


def conv_macs(model: onnx.ModelProto) -> int:
    """Independent of the pass's own count: inferred output shapes x Cin/g x kH x kW, summed over Convs."""
    m = onnx.shape_inference.infer_shapes(model)
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in list(m.graph.value_info) + list(m.graph.output)}
    inits = {t.name: list(t.dims) for t in m.graph.initializer}
    return sum(int(np.prod(shapes[n.output[0]])) * int(np.prod(inits[n.input[1]][1:]))
               for n in m.graph.node if n.op_type == "Conv")


def run(model: onnx.ModelProto) -> np.ndarray:
    x = np.random.default_rng(0).standard_normal((1, 3, 16, 16)).astype(np.float32)
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]


def prune(model: onnx.ModelProto, tmp_path, params=EXACT):
    return PruneChannelsPass().apply(model, params, PassContext(work_dir=tmp_path))


def weight_dims(model: onnx.ModelProto, conv: str) -> list[int]:
    inits = {t.name: list(t.dims) for t in model.graph.initializer}
    (node,) = [n for n in model.graph.node if n.name == conv]
    return inits[node.input[1]]


@pytest.mark.parametrize("axis", [1, -3])
def test_concat_with_bn_relu_resize_is_exact(axis, tmp_path):
    model = concat_bn_relu_resize(axis=axis)
    result = prune(model, tmp_path)
    assert result.metrics["groups_pruned"] == 2 and result.metrics["channels_removed"] == 4
    assert weight_dims(result.model, "head")[1] == 19 - 4  # the raw-input channels in the middle stay
    assert np.abs(run(result.model) - run(model)).max() < 1e-5


def test_wrong_offset_would_show(tmp_path):
    """The exactness check can fail: give the head the columns a pass forgetting the 3 input channels in
    front of B would keep (B's kept channels unshifted) and the outputs move far beyond 1e-5."""
    model = concat_bn_relu_resize()
    pruned = prune(model, tmp_path).model
    orig = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    new = {t.name: t for t in pruned.graph.initializer}
    (head,) = [n for n in model.graph.node if n.name == "head"]
    (b_conv,) = [n for n in model.graph.node if n.name == "B"]
    (b_new,) = [n for n in pruned.graph.node if n.name == "B"]
    b_keep = [i for i in range(8) if any(np.array_equal(orig[b_conv.input[1]][i], row)
                                         for row in numpy_helper.to_array(new[b_new.input[1]]))]
    assert b_keep == [1, 2, 3, 4, 5, 7]
    right = np.r_[[0, 2, 3, 4, 6, 7], 8, 9, 10, 11 + np.array(b_keep)]
    wrong = np.r_[[0, 2, 3, 4, 6, 7], 8, 9, 10, 8 + np.array(b_keep)]
    (head_new,) = [n for n in pruned.graph.node if n.name == "head"]
    np.testing.assert_array_equal(numpy_helper.to_array(new[head_new.input[1]]), orig[head.input[1]][:, right])
    new[head_new.input[1]].CopyFrom(numpy_helper.from_array(orig[head.input[1]][:, wrong], head_new.input[1]))
    assert np.abs(run(pruned) - run(model)).max() > 1e-3


def test_fpn_resize_sizes_from_shape_three_groups_one_concat(tmp_path):
    model = fpn_sizes_from_shape("self")
    result = prune(model, tmp_path)
    assert result.metrics["groups_pruned"] == 3 and result.metrics["channels_removed"] == 2 + 2 + 4
    assert weight_dims(result.model, "head")[1] == 32 - 8
    assert np.abs(run(result.model) - run(model)).max() < 1e-5


@pytest.mark.parametrize("entry,why", [("constant", "takes its channel count from a constant"),
                                       ("other", "changes the channel count")])
def test_resize_sizes_from_other_channel_counts_refuse_that_group(entry, why, tmp_path):
    model = fpn_sizes_from_shape(entry)
    result = prune(model, tmp_path)
    left = [n for n in result.notes if n.startswith("left A:")]
    assert left and why in left[0], result.notes
    assert any(n.startswith("pruned B:") for n in result.notes)
    assert weight_dims(result.model, "A")[0] == 8
    assert run(result.model).shape == run(model).shape


def test_concat_into_depthwise_and_adds_splits_the_wide_conv(tmp_path):
    model = concat_depthwise_add()
    result = prune(model, tmp_path)
    assert any(n.startswith("pruned A+E[0:8]:") for n in result.notes), result.notes
    assert any(n.startswith("pruned B+E[8:16]:") for n in result.notes), result.notes
    assert weight_dims(result.model, "DW") == [12, 1, 3, 3] and weight_dims(result.model, "E")[0] == 12
    dw = [n for n in result.model.graph.node if n.name == "DW"][0]
    assert [a.i for a in dw.attribute if a.name == "group"] == [12]
    assert np.abs(run(result.model) - run(model)).max() < 1e-5


def test_concat_on_a_spatial_axis_is_left_and_named(tmp_path):
    n = Net(4)
    a, b = n.conv("x", 3, 8, name="A"), n.conv("x", 3, 8, name="B")
    model = n.model(n.head(n.op("Relu", [n.op("Concat", [a, b], axis=2)]), 8))
    with pytest.raises(Exception, match="Concat .* on axis 2"):
        prune(model, tmp_path)


@pytest.mark.parametrize("build", [concat_bn_relu_resize, fpn_sizes_from_shape, concat_depthwise_add])
def test_ratio_prune_cuts_macs_and_size_and_loads(build, tmp_path):
    rng_model = build()
    for t in rng_model.graph.initializer:  # no planted zeros: the plain L1 choice decides
        if t.data_type == TensorProto.FLOAT and len(t.dims) == 4:
            arr = numpy_helper.to_array(t)
            t.CopyFrom(numpy_helper.from_array(arr + np.float32(0.05), t.name))
    result = prune(rng_model, tmp_path, PruneChannelsPass.Params(ratio=0.5, round_to=1, min_channels=1))
    assert conv_macs(result.model) < conv_macs(rng_model)
    assert result.model.ByteSize() < rng_model.ByteSize()
    assert run(result.model).shape == run(rng_model).shape


def _random_net(data) -> onnx.ModelProto:
    """Random CNN DAG: Convs, BN, Relu, MaxPool, depthwise, channel Concat (nested), Add and Mul ties, ending
    in a Conv or a classifier head (pooled or 16x16 map -> Flatten / Reshape(Shape[0], -1) -> Gemm / MatMul).
    Every width is a multiple of 4 and every channel c with c % 4 == 1 is an exact zero wherever it is
    computed, so any consistent prune at ratio 0.3 removes exactly those channels and changes nothing."""
    from hypothesis import strategies as st

    n = Net(data.draw(st.integers(0, 2**16), label="seed"))
    zeros = lambda c: tuple(range(1, c, 4))  # noqa: E731
    tensors: list[tuple[str, int]] = [("x", 4)]
    first = n.conv("x", 4, 8, zeros(8))
    tensors.append((first, 8))
    for _ in range(data.draw(st.integers(2, 8), label="steps")):
        t, c = data.draw(st.sampled_from(tensors[1:]), label="tensor")
        op = data.draw(st.sampled_from(["conv", "bn", "relu", "pool", "dw", "concat", "add", "add_conv", "mul"]))
        if op == "conv":
            cout = data.draw(st.sampled_from([8, 12, 16]), label="cout")
            tensors.append((n.conv(t, c, cout, zeros(cout), k=data.draw(st.sampled_from([1, 3]))), cout))
        elif op == "bn":
            tensors.append((n.bn(t, c, zeros(c)), c))
        elif op == "relu":
            tensors.append((n.op("Relu", [t]), c))
        elif op == "pool":
            tensors.append((n.op("MaxPool", [t], kernel_shape=[3, 3], pads=[1, 1, 1, 1]), c))
        elif op == "dw":
            tensors.append((n.conv(t, c, c, zeros(c), group=c), c))
        elif op == "concat":
            u, d = data.draw(st.sampled_from(tensors), label="other")
            tensors.append((n.op("Concat", [t, u] if data.draw(st.booleans()) else [u, t], axis=1), c + d))
        elif op == "add_conv":  # a Conv as wide as t: split wherever t's layout has Concat boundaries
            tensors.append((n.op("Add", [t, n.conv("x", 4, c, zeros(c), k=1)]), c))
        else:
            same = [s for s in tensors[1:] if s[1] == c]
            u, _ = data.draw(st.sampled_from(same), label="same")
            tensors.append((n.op("Add" if op == "add" else "Mul", [t, u]), c))
    t, c = tensors[-1]
    head = data.draw(st.sampled_from(["conv", "pool_flatten_gemm", "pool_reshape_matmul", "map_flatten_gemm"]))
    if head == "conv":
        return n.model(n.head(t, c), channels_in=4)
    if head == "map_flatten_gemm":  # 16x16 map: channel c owns features [256c, 256c + 256)
        flat, features = n.op("Flatten", [t], axis=1), c * 256
    elif head == "pool_flatten_gemm":
        flat, features = n.op("Flatten", [n.op("GlobalAveragePool", [t])], axis=1), c
    else:
        pooled = n.op("GlobalMaxPool", [t])
        batch = n.op("Shape", [pooled], start=0, end=1)
        flat = n.op("Reshape", [pooled, n.op("Concat", [batch, n.const(np.array([-1], np.int64))], axis=0)])
        features = c
    w = n.rng.standard_normal((features, 5)).astype(np.float32) * 0.1
    if head == "pool_reshape_matmul":
        return n.model(n.op("MatMul", [flat, n.const(w)]), channels_in=4, out_rank=2)
    trans_b = data.draw(st.booleans(), label="transB")
    w = w.T.copy() if trans_b else w
    return n.model(n.op("Gemm", [flat, n.const(w), n.const(np.zeros(5, np.float32))], transB=int(trans_b)),
                   channels_in=4, out_rank=2)


def test_random_concat_graphs_prune_exactly(tmp_path):
    """With a Gemm/MatMul head nothing pins the last layout: every group is pruned and it must stay exact."""
    from hypothesis import HealthCheck, given, settings, strategies as st

    params = PruneChannelsPass.Params(ratio=0.3, round_to=1, min_channels=1)
    x = np.random.default_rng(1).standard_normal((1, 4, 16, 16)).astype(np.float32)

    def outputs(m):
        return ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]

    @settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def check(data):
        model = _random_net(data)
        result = PruneChannelsPass().apply(model, params, PassContext(work_dir=tmp_path))
        assert result.metrics["channels_removed"] > 0
        ref, got = outputs(model), outputs(result.model)
        assert got.shape == ref.shape
        assert np.abs(got - ref).max() <= 1e-5 * max(1.0, float(np.abs(ref).max())), result.notes
        assert conv_macs(result.model) < conv_macs(model)

    check()
