"""Small hand-built ONNX models that carry the shapes real exports have (kept beside the demo models)."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class _B:
    def __init__(self, seed: int, constant_weights: bool = False) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.const = constant_weights
        self.n = 0

    def name(self, base: str) -> str:
        self.n += 1
        return f"{base}_{self.n}"

    def tensor(self, base: str, arr: np.ndarray) -> str:
        name = self.name(base)
        if self.const:
            self.nodes.append(helper.make_node("Constant", [], [name], value=numpy_helper.from_array(arr, name)))
        else:
            self.inits.append(numpy_helper.from_array(arr.astype(arr.dtype), name))
        return name

    def op(self, op: str, inputs: list[str], **attrs) -> str:
        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=self.name(op), **attrs))
        return out

    def conv(self, x: str, cin: int, cout: int, k: int = 3, stride: int = 1, group: int = 1, bias: bool = False) -> str:
        w = (self.rng.standard_normal((cout, cin // group, k, k)) * np.sqrt(2.0 / (cin // group * k * k)))
        ins = [x, self.tensor("w", w.astype(np.float32))]
        if bias:
            ins.append(self.tensor("b", (self.rng.standard_normal(cout) * 0.1).astype(np.float32)))
        return self.op("Conv", ins, kernel_shape=[k, k], strides=[stride, stride], pads=[k // 2] * 4, group=group)

    def bn(self, x: str, c: int, huge_var: bool = False) -> str:
        var = self.rng.uniform(0.5, 2.0, c).astype(np.float32)
        scale = self.rng.uniform(0.5, 1.5, c).astype(np.float32)
        if huge_var:  # seen in the wild: running variances far beyond fp16's 65504
            var = var * 1e6
            scale = scale * 1e3
        params = [scale, (self.rng.standard_normal(c) * 0.1).astype(np.float32),
                  (self.rng.standard_normal(c) * 0.1).astype(np.float32), var]
        return self.op("BatchNormalization", [x] + [self.tensor("bn", p) for p in params], epsilon=1e-5)


def toy_cnn() -> onnx.ModelProto:
    """Opset 13, dynamic N/H/W: conv+BN+relu, depthwise, squeeze-excite, residual, Resize + Concat, Gemm head."""
    b = _B(1)
    x = b.op("Relu", [b.bn(b.conv("image", 3, 16, stride=2), 16)])
    e = b.op("Relu", [b.bn(b.conv(x, 16, 32, k=1), 32)])
    d = b.op("Clip", [b.bn(b.conv(e, 32, 32, group=32), 32), b.tensor("lo", np.array(0, np.float32)),
                      b.tensor("hi", np.array(6, np.float32))])
    s = b.op("GlobalAveragePool", [d])
    s = b.op("Sigmoid", [b.conv(b.op("Relu", [b.conv(s, 32, 8, k=1, bias=True)]), 8, 32, k=1, bias=True)])
    d = b.op("Mul", [d, s])
    r = b.op("Add", [x, b.bn(b.conv(d, 32, 16, k=1), 16)])
    lo = b.op("Relu", [b.conv(r, 16, 24, stride=2, bias=True)])
    up = b.op("Resize", [lo, "", b.tensor("scales", np.array([1, 1, 2, 2], np.float32))], mode="nearest")
    cat = b.op("Concat", [r, up], axis=1)
    h = b.op("Flatten", [b.op("GlobalAveragePool", [b.op("Relu", [b.conv(cat, 40, 32, k=1, bias=True)])])], axis=1)
    logits = b.op("Gemm", [h, b.tensor("fc", (b.rng.standard_normal((10, 32)) * 0.2).astype(np.float32)),
                           b.tensor("fcb", np.zeros(10, np.float32))], transB=1)
    graph = helper.make_graph(
        b.nodes, "toy_cnn",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, "H", "W"])],
        [helper.make_tensor_value_info(logits, TensorProto.FLOAT, ["N", 10])], b.inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


def toy_wild() -> onnx.ModelProto:
    """Opset 12, weights in Constant nodes, BNs with variances > 65504 (one after an Add, so it cannot fold)."""
    b = _B(2, constant_weights=True)
    x = b.op("Relu", [b.bn(b.conv("input", 3, 16), 16, huge_var=True)])
    y = b.bn(b.conv(x, 16, 16), 16, huge_var=True)
    z = b.op("Relu", [b.bn(b.op("Add", [x, y]), 16, huge_var=True)])
    h = b.op("Flatten", [b.op("GlobalAveragePool", [b.op("Relu", [b.conv(z, 16, 24, bias=True)])])], axis=1)
    out = b.op("Gemm", [h, b.tensor("fc", (b.rng.standard_normal((5, 24)) * 0.3).astype(np.float32))], transB=1)
    graph = helper.make_graph(
        b.nodes, "toy_wild",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, 32, 32])],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, ["batch", 5])], b.inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 12)], ir_version=7)
