"""Generate the small demo/test ONNX models the workbench ships in resources/models/.

Why a generator and not downloaded checkpoints: the files must be reproducible byte for byte (tests compare
sha256 with the committed copies), small (< 5 MB together), and cover the graph shapes passes and runners
meet in practice (depthwise convs, unfolded BatchNorm, squeeze-excite, Resize+Concat joins, attention with
masks, recurrent state, control flow, weights held in Constant nodes). No torch: graphs are written with
onnx.helper and seeded numpy weights.

Usage: python resources/make_models.py [--out DIR] [NAME ...]
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

PRODUCER = "edge-workbench"
PRODUCER_VERSION = "demo-models-1"  # bump when a model's graph changes, so files say which generator made them
DEFAULT_OUT = Path(__file__).resolve().parent / "models"
SEED = 20240611
IR_FOR_OPSET = {12: 7, 17: 8}  # pinned, so output does not change with the installed onnx version


class GraphBuilder:
    """Accumulates nodes and weights; `const_weights` puts weights in Constant nodes (exporter style)."""

    def __init__(self, rng: np.random.Generator, const_weights: bool = False, torch_names: bool = False):
        self.rng = rng
        self.const_weights = const_weights
        self.torch_names = torch_names
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._counter = 0
        self._op_counter = 0
        self._params: set[str] = set()

    # -- naming -------------------------------------------------------------------------------------
    def fresh(self, hint: str) -> str:
        self._counter += 1
        return str(self._counter) if self.torch_names else f"{hint}_{self._counter}"

    # -- graph pieces -------------------------------------------------------------------------------
    def param(self, hint: str, array: np.ndarray) -> str:
        """Add a weight (initializer, or Constant node when mimicking in-the-wild exports)."""
        if not self.torch_names and hint in self._params:
            return hint  # shared constant (e.g. ReLU6 bounds), stored once
        name = self.fresh(hint) if self.torch_names else hint
        self._params.add(name)
        tensor = numpy_helper.from_array(np.asarray(array), name)  # not ascontiguousarray: it makes 0-d 1-d
        if self.const_weights:
            self.nodes.append(helper.make_node("Constant", [], [name], name=self._node_name("Constant"),
                                               value=tensor))
        else:
            self.initializers.append(tensor)
        return name

    def _node_name(self, op: str, hint: str | None = None) -> str:
        """Readable names from hints; exporter-style `Conv_12` names when mimicking torch exports."""
        name = hint if hint and not self.torch_names else f"{op}_{self._op_counter}"
        self._op_counter += 1
        return name

    def op(self, op_type: str, inputs: Sequence[str], hint: str | None = None, n_out: int = 1,
           outputs: Sequence[str] | None = None, **attrs) -> str | list[str]:
        base = hint or op_type.lower()
        outs = list(outputs) if outputs else [self.fresh(base) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outs,
                                           name=self._node_name(op_type, hint), **attrs))
        return outs[0] if len(outs) == 1 else outs

    # -- weights ------------------------------------------------------------------------------------
    def he(self, shape: Sequence[int], fan_in: int, gain: float = 2.0) -> np.ndarray:
        return (self.rng.standard_normal(shape) * math.sqrt(gain / fan_in)).astype(np.float32)

    def small(self, shape: Sequence[int], scale: float = 0.05) -> np.ndarray:
        return (self.rng.standard_normal(shape) * scale).astype(np.float32)

    # -- layers -------------------------------------------------------------------------------------
    def conv(self, x: str, cin: int, cout: int, k: int, s: int = 1, groups: int = 1, bias: bool = False,
             name: str = "conv") -> str:
        w = self.param(f"{name}.weight", self.he((cout, cin // groups, k, k), fan_in=(cin // groups) * k * k))
        ins = [x, w]
        if bias:
            ins.append(self.param(f"{name}.bias", self.small((cout,))))
        p = k // 2
        return self.op("Conv", ins, hint=name, kernel_shape=[k, k], strides=[s, s], pads=[p, p, p, p],
                       group=groups)

    def batchnorm(self, x: str, c: int, name: str, huge_var_channels: int = 0) -> str:
        """Unfolded BatchNorm; `huge_var_channels` gives the first channels running variances > fp16 max."""
        var = self.rng.uniform(0.5, 1.5, c).astype(np.float32)
        gamma = (1.0 + 0.1 * self.rng.standard_normal(c)).astype(np.float32)
        if huge_var_channels:
            var[:huge_var_channels] = self.rng.uniform(7e4, 3e5, huge_var_channels).astype(np.float32)
            gamma[:huge_var_channels] *= np.sqrt(var[:huge_var_channels])  # keeps the output in range
        ins = [x, self.param(f"{name}.weight", gamma), self.param(f"{name}.bias", self.small((c,), 0.1)),
               self.param(f"{name}.running_mean", self.small((c,), 0.1)), self.param(f"{name}.running_var", var)]
        return self.op("BatchNormalization", ins, hint=name, epsilon=1e-5)

    def act(self, x: str, kind: str | None, name: str) -> str:
        if kind is None:
            return x
        if kind == "Relu6":
            lo = self.param("relu6.min", np.array(0.0, np.float32))
            hi = self.param("relu6.max", np.array(6.0, np.float32))
            return self.op("Clip", [x, lo, hi], hint=name)
        return self.op(kind, [x], hint=name)

    def conv_bn_act(self, x: str, cin: int, cout: int, k: int, s: int = 1, groups: int = 1,
                    act: str | None = "Relu", name: str = "cba", huge_var_channels: int = 0) -> str:
        h = self.conv(x, cin, cout, k, s, groups, name=f"{name}.conv")
        h = self.batchnorm(h, cout, name=f"{name}.bn", huge_var_channels=huge_var_channels)
        return self.act(h, act, name=f"{name}.act")

    def squeeze_excite(self, x: str, c: int, name: str, gate: str = "HardSigmoid") -> str:
        r = max(8, c // 4)
        s = self.op("GlobalAveragePool", [x], hint=f"{name}.pool")
        s = self.conv(s, c, r, 1, bias=True, name=f"{name}.fc1")
        s = self.op("Relu", [s], hint=f"{name}.relu")
        s = self.conv(s, r, c, 1, bias=True, name=f"{name}.fc2")
        s = self.op(gate, [s], hint=f"{name}.gate")
        return self.op("Mul", [x, s], hint=f"{name}.scale")

    def inverted_residual(self, x: str, cin: int, cexp: int, cout: int, k: int, s: int, act: str,
                          se: bool, name: str) -> str:
        h = self.conv_bn_act(x, cin, cexp, 1, act=act, name=f"{name}.expand")
        h = self.conv_bn_act(h, cexp, cexp, k, s, groups=cexp, act=act, name=f"{name}.dw")
        if se:
            h = self.squeeze_excite(h, cexp, name=f"{name}.se")
        h = self.conv_bn_act(h, cexp, cout, 1, act=None, name=f"{name}.project")
        if s == 1 and cin == cout:
            h = self.op("Add", [x, h], hint=f"{name}.residual")
        return h

    def resize_like(self, x: str, ref: str, name: str) -> str:
        """Nearest upsample of x to ref's H,W: sizes come from Shape, so any input resolution joins up."""
        nc = self.op("Shape", [x], hint=f"{name}.shape_nc", start=0, end=2)
        hw = self.op("Shape", [ref], hint=f"{name}.shape_hw", start=2, end=4)
        sizes = self.op("Concat", [nc, hw], hint=f"{name}.sizes", axis=0)
        return self.op("Resize", [x, "", "", sizes], hint=name, mode="nearest")


def _model(graph: onnx.GraphProto, opset: int, doc: str, meta: dict[str, str] | None = None) -> onnx.ModelProto:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name=PRODUCER,
                              producer_version=PRODUCER_VERSION, doc_string=doc)
    model.ir_version = IR_FOR_OPSET[opset]
    helper.set_model_props(model, dict(sorted((meta or {}).items())))
    return model


def build_mobilenet_se(rng: np.random.Generator) -> onnx.ModelProto:
    b = GraphBuilder(rng)
    h = b.conv_bn_act("image", 3, 16, 3, 2, act="HardSwish", name="stem")
    h = b.inverted_residual(h, 16, 64, 24, 3, 2, "Relu6", se=False, name="block1")
    h = b.inverted_residual(h, 24, 72, 24, 3, 1, "Relu6", se=False, name="block2")
    c3 = b.inverted_residual(h, 24, 72, 40, 5, 2, "HardSwish", se=True, name="block3")
    c3 = b.inverted_residual(c3, 40, 120, 40, 5, 1, "HardSwish", se=True, name="block4")
    c4 = b.inverted_residual(c3, 40, 240, 80, 3, 2, "HardSwish", se=False, name="block5")
    c4 = b.inverted_residual(c4, 80, 240, 80, 3, 1, "HardSwish", se=True, name="block6")
    # Tiny FPN-like top-down branch: the coarse map is upsampled and joined with the finer one.
    lateral = b.conv_bn_act(c4, 80, 40, 1, act=None, name="fpn.lateral")
    up = b.resize_like(lateral, c3, name="fpn.upsample")
    fused = b.op("Concat", [up, c3], hint="fpn.concat", axis=1)
    fused = b.conv_bn_act(fused, 80, 64, 3, act="HardSwish", name="fpn.fuse")
    fpn_pool = b.op("GlobalAveragePool", [fused], hint="fpn.pool")
    head = b.conv_bn_act(c4, 80, 256, 1, act="HardSwish", name="head")
    head_pool = b.op("GlobalAveragePool", [head], hint="head.pool")
    feat = b.op("Concat", [head_pool, fpn_pool], hint="head.concat", axis=1)
    flat = b.op("Flatten", [feat], hint="head.flatten", axis=1)
    w = b.param("classifier.weight", b.he((1000, 320), fan_in=320, gain=1.0))
    bias = b.param("classifier.bias", b.small((1000,)))
    b.op("Gemm", [flat, w, bias], hint="classifier", outputs=["logits"], transB=1)
    b.op("Softmax", ["logits"], hint="softmax", outputs=["probs"], axis=1)
    graph = helper.make_graph(
        b.nodes, "mobilenet_se",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, "height", "width"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 1000]),
         helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["batch", 1000])],
        b.initializers)
    return _model(graph, 17, "MobileNetV3-style image classifier (depthwise convs, unfolded BatchNorm, "
                  "squeeze-excite, Resize+Concat FPN join) for per-layer profiling, quantization and pruning "
                  "demos. Input: RGB image NCHW float32, any H,W >= 32. Random weights.",
                  {"task": "image-classification", "num_classes": "1000", "input_layout": "NCHW"})


def build_text_encoder(rng: np.random.Generator) -> onnx.ModelProto:
    vocab, max_pos, d, heads, ffn, layers = 8000, 128, 48, 4, 192, 2
    dh = d // heads
    b = GraphBuilder(rng)
    tok = b.op("Gather", [b.param("embeddings.word", b.small((vocab, d), 0.5)), "input_ids"], hint="embed.tokens")
    # Exporter pattern (HF BERT): slice a constant position_ids buffer to the sequence length. The other
    # obvious form, Gather(table, Range(0, S, 1)), breaks onnxruntime 1.31's Gather->Slice fusion.
    seq = b.op("Shape", ["input_ids"], hint="embed.seq_len", start=1, end=2)
    positions = b.op("Slice", [b.param("embeddings.position_ids", np.arange(max_pos, dtype=np.int64)[None, :]),
                               b.param("zero_1d", np.array([0], np.int64)), seq,
                               b.param("axes1", np.array([1], np.int64))], hint="embed.positions")
    pos = b.op("Gather", [b.param("embeddings.position", b.small((max_pos, d), 0.5)), positions],
               hint="embed.pos")
    h = b.op("Add", [tok, pos], hint="embed.sum")
    h = b.op("LayerNormalization", [h, b.param("embed.ln.weight", np.ones(d, np.float32)),
                                    b.param("embed.ln.bias", np.zeros(d, np.float32))], hint="embed.ln", axis=-1)
    mask_f = b.op("Cast", ["attention_mask"], hint="mask.float", to=TensorProto.FLOAT)
    inv = b.op("Sub", [b.param("one_f", np.array(1.0, np.float32)), mask_f], hint="mask.invert")
    neg = b.op("Mul", [inv, b.param("mask.neg_big", np.array(-1e4, np.float32))], hint="mask.bias")
    mask_bias = b.op("Unsqueeze", [neg, b.param("axes12", np.array([1, 2], np.int64))], hint="mask.bias4d")
    split_shape = b.param("shape.split_heads", np.array([0, 0, heads, dh], np.int64))
    merge_shape = b.param("shape.merge_heads", np.array([0, 0, d], np.int64))
    scale = b.param("attn.scale", np.array(1.0 / math.sqrt(dh), np.float32))

    def dense(x: str, cin: int, cout: int, name: str) -> str:
        y = b.op("MatMul", [x, b.param(f"{name}.weight", b.he((cin, cout), fan_in=cin, gain=1.0))], hint=name)
        return b.op("Add", [y, b.param(f"{name}.bias", b.small((cout,)))], hint=f"{name}.add_bias")

    def layer_norm(x: str, name: str) -> str:
        return b.op("LayerNormalization", [x, b.param(f"{name}.weight", np.ones(d, np.float32)),
                                           b.param(f"{name}.bias", np.zeros(d, np.float32))], hint=name, axis=-1)

    for i in range(layers):
        p = f"layer{i}"
        q = b.op("Reshape", [dense(h, d, d, f"{p}.attn.q"), split_shape], hint=f"{p}.attn.q_split")
        k = b.op("Reshape", [dense(h, d, d, f"{p}.attn.k"), split_shape], hint=f"{p}.attn.k_split")
        v = b.op("Reshape", [dense(h, d, d, f"{p}.attn.v"), split_shape], hint=f"{p}.attn.v_split")
        q = b.op("Transpose", [q], hint=f"{p}.attn.q_t", perm=[0, 2, 1, 3])
        k = b.op("Transpose", [k], hint=f"{p}.attn.k_t", perm=[0, 2, 3, 1])
        v = b.op("Transpose", [v], hint=f"{p}.attn.v_t", perm=[0, 2, 1, 3])
        scores = b.op("Mul", [b.op("MatMul", [q, k], hint=f"{p}.attn.qk"), scale], hint=f"{p}.attn.scaled")
        scores = b.op("Add", [scores, mask_bias], hint=f"{p}.attn.masked")
        probs = b.op("Softmax", [scores], hint=f"{p}.attn.softmax", axis=-1)
        ctx = b.op("MatMul", [probs, v], hint=f"{p}.attn.context")
        ctx = b.op("Transpose", [ctx], hint=f"{p}.attn.ctx_t", perm=[0, 2, 1, 3])
        ctx = b.op("Reshape", [ctx, merge_shape], hint=f"{p}.attn.merge")
        h = layer_norm(b.op("Add", [h, dense(ctx, d, d, f"{p}.attn.out")], hint=f"{p}.attn.residual"),
                       f"{p}.attn.ln")
        f = dense(h, d, ffn, f"{p}.ffn.up")
        # GELU (erf form): opset 17 has no Gelu op, exporters emit exactly this pattern.
        erf = b.op("Erf", [b.op("Mul", [f, b.param(f"{p}.gelu.inv_sqrt2", np.array(1 / math.sqrt(2), np.float32))],
                                hint=f"{p}.gelu.scale")], hint=f"{p}.gelu.erf")
        erf = b.op("Add", [erf, "one_f"], hint=f"{p}.gelu.one_plus")
        f = b.op("Mul", [b.op("Mul", [f, erf], hint=f"{p}.gelu.mul"),
                         b.param(f"{p}.gelu.half", np.array(0.5, np.float32))], hint=f"{p}.gelu")
        f = dense(f, ffn, d, f"{p}.ffn.down")
        h = layer_norm(b.op("Add", [h, f], hint=f"{p}.ffn.residual"), f"{p}.ffn.ln")
    b.op("Identity", [h], hint="last_hidden", outputs=["last_hidden_state"])
    # Pooled output: mask-weighted mean over tokens, then a tanh projection (BERT-pooler style).
    m = b.op("Unsqueeze", [mask_f, b.param("axes2", np.array([2], np.int64))], hint="pool.mask3d")
    summed = b.op("ReduceSum", [b.op("Mul", [h, m], hint="pool.masked"), b.param("axes1", np.array([1], np.int64))],
                  hint="pool.sum", keepdims=0)
    count = b.op("ReduceSum", [m, "axes1"], hint="pool.count", keepdims=0)
    count = b.op("Max", [count, "one_f"], hint="pool.count_clamped")
    mean = b.op("Div", [summed, count], hint="pool.mean")
    b.op("Tanh", [dense(mean, d, d, "pooler.dense")], hint="pooler.tanh", outputs=["pooled"])
    graph = helper.make_graph(
        b.nodes, "text_encoder",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"])],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", d]),
         helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["batch", d])],
        b.initializers)
    return _model(graph, 17, f"Small transformer text encoder ({layers} layers, {heads} heads, hidden {d}) with "
                  "masked self-attention, for int64-input and dynamic-sequence demos. Token ids must be < "
                  f"vocab_size and sequence length <= max_position_embeddings. Random weights.",
                  {"task": "feature-extraction", "vocab_size": str(vocab), "max_position_embeddings": str(max_pos),
                   "hidden_size": str(d)})


def _loop_body(rng: np.random.Generator, hidden: int) -> tuple[onnx.GraphProto, list[onnx.TensorProto]]:
    """One refinement step y <- y + 0.5 * tanh(y @ W + b); W and b live in the outer graph."""
    w = numpy_helper.from_array((rng.standard_normal((hidden, hidden)) / math.sqrt(hidden)).astype(np.float32),
                                "refine.weight")
    bias = numpy_helper.from_array((rng.standard_normal(hidden) * 0.05).astype(np.float32), "refine.bias")
    nodes = [
        helper.make_node("Identity", ["refine.cond_in"], ["refine.cond_out"], name="refine.keep_going"),
        helper.make_node("MatMul", ["refine.y_in", "refine.weight"], ["refine.mm"], name="refine.matmul"),
        helper.make_node("Add", ["refine.mm", "refine.bias"], ["refine.pre"], name="refine.add_bias"),
        helper.make_node("Tanh", ["refine.pre"], ["refine.delta"], name="refine.tanh"),
        helper.make_node("Mul", ["refine.delta", "refine.step"], ["refine.scaled"], name="refine.scale"),
        helper.make_node("Add", ["refine.y_in", "refine.scaled"], ["refine.y_out"], name="refine.update"),
    ]
    body = helper.make_graph(
        nodes, "refine_body",
        [helper.make_tensor_value_info("refine.iter", TensorProto.INT64, []),
         helper.make_tensor_value_info("refine.cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("refine.y_in", TensorProto.FLOAT, None)],
        [helper.make_tensor_value_info("refine.cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("refine.y_out", TensorProto.FLOAT, None)])
    step = numpy_helper.from_array(np.array(0.5, np.float32), "refine.step")
    return body, [w, bias, step]


def build_recurrent_state(rng: np.random.Generator) -> onnx.ModelProto:
    feat, hidden, steps = 16, 32, 3
    b = GraphBuilder(rng)
    xt = b.op("Transpose", ["x"], hint="to_time_major", perm=[1, 0, 2])
    w = b.param("gru.W", b.he((1, 3 * hidden, feat), fan_in=feat, gain=1.0))
    r = b.param("gru.R", b.he((1, 3 * hidden, hidden), fan_in=hidden, gain=1.0))
    bias = b.param("gru.B", b.small((1, 6 * hidden), 0.1))
    seq, last = b.op("GRU", [xt, w, r, bias, "", "h0"], hint="gru", n_out=2, hidden_size=hidden,
                     linear_before_reset=1)
    y = b.op("Squeeze", [seq, b.param("axes1", np.array([1], np.int64))], hint="drop_direction")
    y = b.op("Transpose", [y], hint="to_batch_major", perm=[1, 0, 2])
    body, body_weights = _loop_body(rng, hidden)
    b.initializers.extend(body_weights)
    trips = b.param("refine.trip_count", np.array(steps, np.int64))
    b.op("Loop", [trips, "", y], hint="refine", outputs=["y"], body=body)
    # Control flow on data: loud sequences get their final state RMS-normalized, quiet ones pass through.
    energy = b.op("ReduceMean", [b.op("Abs", ["x"], hint="gate.abs")], hint="gate.energy", keepdims=0)
    loud = b.op("Greater", [energy, b.param("gate.threshold", np.array(1.0, np.float32))], hint="gate.is_loud")
    b.param("gate.eps", np.array(1e-5, np.float32))
    then_nodes = [
        helper.make_node("Mul", [last, last], ["gate.sq"], name="gate.square"),
        helper.make_node("ReduceMean", ["gate.sq"], ["gate.ms"], name="gate.mean_square", axes=[-1], keepdims=1),
        helper.make_node("Add", ["gate.ms", "gate.eps"], ["gate.ms_eps"], name="gate.add_eps"),
        helper.make_node("Sqrt", ["gate.ms_eps"], ["gate.rms"], name="gate.rms"),
        helper.make_node("Div", [last, "gate.rms"], ["gate.h_norm"], name="gate.normalize"),
    ]
    then_g = helper.make_graph(then_nodes, "gate_normalize", [],
                               [helper.make_tensor_value_info("gate.h_norm", TensorProto.FLOAT, None)])
    else_g = helper.make_graph([helper.make_node("Identity", [last], ["gate.h_pass"], name="gate.pass")],
                               "gate_passthrough", [],
                               [helper.make_tensor_value_info("gate.h_pass", TensorProto.FLOAT, None)])
    b.op("If", [loud], hint="gate", outputs=["h_n"], then_branch=then_g, else_branch=else_g)
    graph = helper.make_graph(
        b.nodes, "recurrent_state",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "time", feat]),
         helper.make_tensor_value_info("h0", TensorProto.FLOAT, [1, "batch", hidden])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "time", hidden]),
         helper.make_tensor_value_info("h_n", TensorProto.FLOAT, [1, "batch", hidden])],
        b.initializers)
    return _model(graph, 17, "Recurrent model with explicit state (GRU, h0 in / h_n out) plus control flow: a "
                  f"Loop of {steps} refinement steps and an If that RMS-normalizes the state of loud inputs "
                  "(mean |x| > 1). Covers stateful and subgraph handling. Random weights.",
                  {"task": "sequence-model", "state_inputs": "h0", "state_outputs": "h_n"})


def build_wild_cnn(rng: np.random.Generator) -> onnx.ModelProto:
    b = GraphBuilder(rng, const_weights=True, torch_names=True)
    h1 = b.conv_bn_act("input", 3, 24, 3, 2, name="conv1")
    h = b.conv_bn_act(h1, 24, 24, 3, name="conv2")
    h = b.conv_bn_act(h, 24, 24, 3, act=None, name="conv3", huge_var_channels=3)
    h = b.op("Relu", [b.op("Add", [h, h1])])
    h = b.squeeze_excite(h, 24, name="se", gate="Sigmoid")
    a = b.conv_bn_act(h, 24, 32, 3, 2, name="branch_a", huge_var_channels=2)
    pooled = b.op("MaxPool", [h], kernel_shape=[2, 2], strides=[2, 2])
    c = b.conv_bn_act(pooled, 24, 16, 1, name="branch_b")
    h = b.op("Concat", [a, c], axis=1)
    h = b.conv_bn_act(h, 48, 64, 3, 2, name="conv4")
    h = b.op("GlobalAveragePool", [h])
    # PyTorch-export style flatten: Shape -> Gather -> Unsqueeze -> Concat -> Reshape, all from Constants.
    n = b.op("Gather", [b.op("Shape", [h]), b.param("idx", np.array(0, np.int64))], axis=0)
    n = b.op("Unsqueeze", [n], axes=[0])
    shape = b.op("Concat", [n, b.param("minus_one", np.array([-1], np.int64))], axis=0)
    h = b.op("Reshape", [h, shape])
    w = b.param("fc.weight", b.he((10, 64), fan_in=64, gain=1.0))
    b.op("Gemm", [h, w, b.param("fc.bias", b.small((10,)))], outputs=["output"], alpha=1.0, beta=1.0, transB=1)
    graph = helper.make_graph(
        b.nodes, "torch_jit",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, 96, 96])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 10])])
    return _model(graph, 12, "In-the-wild style export: opset 12, every weight in a Constant node (no "
                  "initializers), numeric tensor names, unfolded BatchNorm with running variances above the "
                  "fp16 maximum (65504), residual Add, squeeze-excite, Concat join. Input fixed 3x96x96, "
                  "dynamic batch. Exercises constant folding, BN folding and fp16 overflow checks. Random weights.",
                  {"task": "image-classification", "num_classes": "10", "input_layout": "NCHW"})


BUILDERS: dict[str, Callable[[np.random.Generator], onnx.ModelProto]] = {
    "mobilenet_se": build_mobilenet_se,
    "text_encoder": build_text_encoder,
    "recurrent_state": build_recurrent_state,
    "wild_cnn": build_wild_cnn,
}


def build(name: str) -> onnx.ModelProto:
    """Build one demo model; each has its own seed so adding a model never changes the others."""
    if name not in BUILDERS:
        raise KeyError(f"unknown demo model {name!r} (known: {', '.join(BUILDERS)})")
    seed = SEED + sorted(BUILDERS).index(name)
    model = BUILDERS[name](np.random.default_rng(seed))
    onnx.checker.check_model(model)
    return model


def write(name: str, out_dir: Path) -> Path:
    """Serialize deterministically and replace atomically (two processes may generate at once)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = build(name).SerializeToString(deterministic=True)
    target = out_dir / f"{name}.onnx"
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=out_dir)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"models to build (default all: {', '.join(BUILDERS)})")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BUILDERS]
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(BUILDERS)}")
    for name in args.names or list(BUILDERS):
        path = write(name, args.out)
        print(f"{path}  {path.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
