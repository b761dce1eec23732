"""prune-channels: remove whole Conv output channels so the model really gets smaller and faster.

Channels are followed as *groups*: starting from a Conv, every tensor carrying the same channels is
traced forward (BatchNorm, activations, pooling, depthwise convs) to the Convs that read them, and
through element-wise joins (residual Add, squeeze-excite Mul) back to every other Conv feeding the
join, since all branches of a join must lose the same channels. A group that reaches anything whose
channel layout we would have to rewrite (Concat, Reshape/Flatten, Shape, Gemm, model outputs,
subgraphs, shared weights) is left untouched and named in the notes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import numpy_helper
from pydantic import Field

from workbench.api import FloatRange, Pass, PassContext, PassOutput, PassParams, PassRefused, SearchSpace

from . import _graph

# Element-wise on input 0, channel layout unchanged (extra inputs, if any, are scalars like Clip's min/max).
PASS_THROUGH = {"Relu", "Clip", "HardSwish", "HardSigmoid", "Sigmoid", "LeakyRelu", "Tanh", "Elu", "Selu",
                "Softplus", "Mish", "Gelu", "Identity", "Dropout", "GlobalAveragePool", "GlobalMaxPool",
                "MaxPool", "AveragePool", "LpPool", "Resize", "Upsample", "Neg", "Abs", "Erf", "Softsign"}
PER_CHANNEL = {"BatchNormalization": (1, 2, 3, 4), "PRelu": (1,), "InstanceNormalization": (1, 2)}
JOINS = {"Add", "Sub", "Mul", "Div", "Max", "Min", "Sum", "Mean"}


@dataclass
class _Group:
    channels: int
    rank: int
    sources: dict[str, onnx.NodeProto] = field(default_factory=dict)
    sinks: dict[str, onnx.NodeProto] = field(default_factory=dict)
    depthwise: dict[str, onnx.NodeProto] = field(default_factory=dict)
    params: set[str] = field(default_factory=set)  # per-channel initializers, sliced on the channel axis
    tensors: set[str] = field(default_factory=set)
    blocked: str | None = None


class _Tracer:
    """Builds channel groups over one graph (read-only)."""

    def __init__(self, graph: onnx.GraphProto) -> None:
        self.graph = graph
        self.inits = _graph.initializer_map(graph)
        self.prod = _graph.producers(graph)
        self.cons = _graph.consumers(graph)
        self.counts = _graph.use_counts(graph)
        self.outputs = {o.name for o in graph.output}
        self.subrefs = _graph.subgraph_references(graph)

    def conv_kind(self, node: onnx.NodeProto) -> str | None:
        """'dense' (group 1), 'depthwise' (group == in == out channels) or None (anything else)."""
        if node.op_type != "Conv" or node.input[1] not in self.inits:
            return None
        if len(node.input) > 2 and node.input[2] and node.input[2] not in self.inits:
            return None
        w = self.inits[node.input[1]].dims
        group = int(_graph.get_attr(node, "group", 1))
        if group == 1:
            return "dense"
        if w[1] == 1 and w[0] == group:
            return "depthwise"
        return None

    def trace(self, start: onnx.NodeProto) -> _Group:
        w = self.inits[start.input[1]].dims
        g = _Group(channels=int(w[0]), rank=len(w))
        g.sources[start.name] = start
        queue = [start.output[0]]
        while queue and g.blocked is None:
            t = queue.pop()
            if t in g.tensors:
                continue
            g.tensors.add(t)
            if t in self.outputs:
                g.blocked = f"{t} is a model output"
                break
            if t in self.subrefs:
                g.blocked = f"{t} is used inside a subgraph"
                break
            self._backward(g, t, queue)
            for node in self.cons.get(t, []):
                if g.blocked:
                    break
                self._forward(g, node, t, queue)
        return g

    def _add_source(self, g: _Group, node: onnx.NodeProto) -> None:
        if self.inits[node.input[1]].dims[0] != g.channels:
            g.blocked = f"{node.name} has a different channel count"
        g.sources[node.name] = node

    def _backward(self, g: _Group, t: str, queue: list[str]) -> None:
        node = self.prod.get(t)
        if node is None:
            g.blocked = f"{t} comes from a model input"
            return
        if node.name in g.sources or node.name in g.depthwise:
            return
        kind = self.conv_kind(node)
        if kind == "dense":
            self._add_source(g, node)
        elif kind == "depthwise":
            g.depthwise[node.name] = node
            queue.append(node.input[0])
        elif node.op_type in PASS_THROUGH or node.op_type in PER_CHANNEL:
            self._through(g, node, queue, backward=True)
        elif node.op_type in JOINS:
            self._join(g, node, queue)
        else:
            g.blocked = f"{t} is produced by {node.op_type} {node.name}"

    def _forward(self, g: _Group, node: onnx.NodeProto, t: str, queue: list[str]) -> None:
        idx = [i for i, name in enumerate(node.input) if name == t]
        kind = self.conv_kind(node)
        if kind and idx == [0]:
            if kind == "depthwise":
                g.depthwise[node.name] = node
                queue.append(node.output[0])
            elif node.name not in g.sources:
                g.sinks[node.name] = node
        elif (node.op_type in PASS_THROUGH or node.op_type in PER_CHANNEL) and idx == [0]:
            self._through(g, node, queue, backward=False)
        elif node.op_type in JOINS:
            self._join(g, node, queue)
        else:
            g.blocked = f"channels reach {node.op_type} {node.name}"

    def _through(self, g: _Group, node: onnx.NodeProto, queue: list[str], backward: bool) -> None:
        if node.op_type in ("Resize", "Upsample"):
            sizes = node.input[3] if len(node.input) > 3 else ""
            scales = node.input[2] if node.op_type == "Resize" and len(node.input) > 2 else ""
            if sizes or (scales and scales not in self.inits):
                g.blocked = f"{node.op_type} {node.name} sets its output size from computed shapes"
                return
        for idx in PER_CHANNEL.get(node.op_type, ()):
            if idx < len(node.input) and node.input[idx]:
                name = node.input[idx]
                if name not in self.inits:
                    g.blocked = f"{node.op_type} {node.name} has non-constant parameters"
                    return
                size = int(np.prod(self.inits[name].dims))
                if size == g.channels:
                    g.params.add(name)
                elif size != 1:
                    g.blocked = f"{node.op_type} {node.name} parameter {name} is not per-channel"
                    return
        if backward:
            queue.append(node.input[0])
        queue.append(node.output[0])

    def _join(self, g: _Group, node: onnx.NodeProto, queue: list[str]) -> None:
        for name in node.input:
            if not name:
                continue
            if name in self.inits:
                dims = list(self.inits[name].dims)
                if int(np.prod(dims)) == 1:
                    continue
                padded = [1] * (g.rank - len(dims)) + dims
                if len(padded) == g.rank and padded[1] == g.channels and int(np.prod(dims)) == g.channels:
                    g.params.add(name)
                    continue
                g.blocked = f"{node.op_type} {node.name} mixes in constant {name} of shape {dims}"
                return
            queue.append(name)
        queue.append(node.output[0])


class PruneChannelsPass(Pass):
    """Structured pruning by L1 norm: fewer channels, fewer MACs, a smaller file - no sparse kernels needed."""

    id = "prune-channels"
    title = "Channel pruning (structured)"
    description = ("Remove the lowest-L1 output channels of Conv layers, following them through BN, activations, "
                   "depthwise convs, residual Add and squeeze-excite Mul. Fine-tune afterwards for accuracy.")

    class Params(PassParams):
        ratio: float = Field(0.25, gt=0.0, lt=1.0, description="Fraction of each prunable group's channels removed.")
        min_channels: int = Field(8, ge=1, description="Never keep fewer channels than this in a group.")
        round_to: int = Field(8, ge=1, description="Round kept channel counts up to a multiple of this "
                                                   "(SIMD-friendly; 1 = exact ratio).")
        fold_batchnorm: bool = Field(True, description="Fold BN into Conv first, so L1 norms include BN scale.")

    search_space = SearchSpace(dims={"ratio": FloatRange(low=0.05, high=0.6)})

    def apply(self, model: onnx.ModelProto, params: PassParams, ctx: PassContext) -> PassOutput:
        p = self.Params.model_validate(params.model_dump())
        out, notes = _graph.prepared_copy(model, fold_bn=p.fold_batchnorm)
        tracer = _Tracer(out.graph)
        convs = [n for n in out.graph.node if tracer.conv_kind(n) == "dense"]
        if not convs:
            raise PassRefused(self.id, "model has no prunable Conv layers (dense Conv with constant weights); "
                                       "structured channel pruning applies to CNNs")
        groups: list[_Group] = []
        seen: set[str] = set()
        for conv in convs:
            if conv.name in seen:
                continue
            g = tracer.trace(conv)
            seen.update(g.sources)
            if g.blocked is None:
                g.blocked = self._shared_weights(tracer, g)
            groups.append(g)
        macs_before = _graph.conv_macs(out)
        pruned = skipped = removed_total = 0
        for i, g in enumerate(groups):
            ctx.check_cancelled(self.id)
            ctx.progress(i, len(groups), "pruning channels")
            label = "+".join(sorted(g.sources))
            if g.blocked:
                skipped += 1
                notes.append(f"left {label}: {g.blocked}")
                continue
            keep_n = self._keep_count(g.channels, p)
            if keep_n >= g.channels:
                notes.append(f"left {label}: {g.channels} channels would keep {keep_n} (min_channels "
                             f"{p.min_channels}, round_to {p.round_to}); lower round_to to prune small layers")
                continue
            keep = self._keep_indices(out.graph, g, keep_n)
            self._apply(out.graph, g, keep)
            pruned += 1
            removed_total += g.channels - keep_n
            notes.append(f"pruned {label}: {g.channels} -> {keep_n} channels")
        if pruned == 0:
            reasons = "; ".join(n.removeprefix("left ") for n in notes if n.startswith("left "))[:400]
            raise PassRefused(self.id, f"no Conv channel group can be pruned ({reasons})")
        _graph.strip_value_info(out)
        _graph.check_loads(out, self.id)
        macs_after = _graph.conv_macs(out)
        notes.insert(0, f"pruned {pruned} channel group(s), left {skipped}; removed {removed_total} channels; "
                        f"Conv MACs {macs_before / 1e6:.1f}M -> {macs_after / 1e6:.1f}M (batch 1, dynamic H/W = 224); "
                        "accuracy needs fine-tuning")
        return PassOutput(out, notes=notes, metrics={
            "macs_before": float(macs_before), "macs_after": float(macs_after),
            "groups_pruned": float(pruned), "groups_left": float(skipped),
            "channels_removed": float(removed_total),
            "bytes_before": float(model.ByteSize()), "bytes_after": float(out.ByteSize())})

    @staticmethod
    def _shared_weights(tracer: _Tracer, g: _Group) -> str | None:
        nodes = {**g.sinks, **g.depthwise, **g.sources}  # a Conv can be source and sink of one group
        names = [n.input[i] for n in nodes.values() for i in (1, 2) if i < len(n.input) and n.input[i]]
        names += sorted(g.params)
        for name in names:
            if tracer.counts.get(name, 0) != 1 or names.count(name) > 1:
                return f"initializer {name} is shared"
        return None

    @staticmethod
    def _keep_count(channels: int, p: "PruneChannelsPass.Params") -> int:
        keep = channels - int(math.floor(channels * p.ratio))
        keep = max(keep, p.min_channels)
        keep = int(math.ceil(keep / p.round_to) * p.round_to)
        return min(keep, channels)

    @staticmethod
    def _keep_indices(graph: onnx.GraphProto, g: _Group, keep_n: int) -> np.ndarray:
        """Channels with the highest L1 norm summed over the group's sources (each normalized to max 1)."""
        inits = _graph.initializer_map(graph)
        score = np.zeros(g.channels)
        for node in g.sources.values():
            w = numpy_helper.to_array(inits[node.input[1]]).astype(np.float64)
            l1 = np.abs(w).reshape(w.shape[0], -1).sum(axis=1)
            score += l1 / (l1.max() or 1.0)
        order = np.argsort(-score, kind="stable")  # stable: ties keep the lower index, output is deterministic
        return np.sort(order[:keep_n])

    @staticmethod
    def _apply(graph: onnx.GraphProto, g: _Group, keep: np.ndarray) -> None:
        inits = _graph.initializer_map(graph)

        def take(name: str, axis: int) -> None:
            arr = numpy_helper.to_array(inits[name])
            _graph.set_initializer(graph, name, np.take(arr, keep, axis=axis))

        for node in (*g.sources.values(), *g.depthwise.values()):
            take(node.input[1], 0)
            if len(node.input) > 2 and node.input[2]:
                take(node.input[2], 0)
        for node in g.depthwise.values():
            _graph.set_int_attr(node, "group", len(keep))
        for node in g.sinks.values():
            take(node.input[1], 1)
        for name in g.params:
            arr = numpy_helper.to_array(inits[name])
            if arr.ndim <= 1:
                take(name, 0)
            else:
                take(name, arr.ndim - (g.rank - 1))  # the channel axis, right-aligned as broadcasting does
