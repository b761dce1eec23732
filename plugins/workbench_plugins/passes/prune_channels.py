"""prune-channels: remove whole Conv output channels so the model really gets smaller and faster.

Every tensor that carries Conv output channels gets a *layout*: an ordered list of channel segments.
A dense Conv starts a segment; BatchNorm, activations, pooling, Resize and depthwise convs pass the
layout on; a channel Concat (axis 1) joins its inputs' layouts end to end, so input k owns the range
[offset_k, offset_k + C_k) of the output; an element-wise join (residual Add, squeeze-excite Mul) ties
its inputs' layouts channel by channel, splitting a segment where the other side has a boundary. The
tied segments form the *groups*: every group is pruned with one mask, and every reader of a tensor is
rewritten at the indices its layout gives (a Conv after a Concat loses the shifted channels of each
input). Masks are decided for all groups first and applied once, so offsets never go stale.
A classifier head (Flatten, Squeeze, or Reshape to [N, -1] / [N, C] -> Gemm / MatMul) keeps the layout
with each channel spread over the H*W features it flattens to (known from shape inference: 1 after a
global pool), so the head's weight loses the columns (Gemm transB) or rows of the pruned channels'
features. Anything that reads the channel layout in a way we do not rewrite (other Reshapes, Shape feeding
anything but a consistent Resize size or head Reshape, model outputs, subgraphs, shared weights, Concat
on other axes, joins of flattened feature maps) pins the segments it reads: those groups are left whole
and named in the notes.
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
                "MaxPool", "AveragePool", "LpPool", "Neg", "Abs", "Erf", "Softsign"}
PER_CHANNEL = {"BatchNormalization": (1, 2, 3, 4), "PRelu": (1,), "InstanceNormalization": (1, 2)}
JOINS = {"Add", "Sub", "Mul", "Div", "Max", "Min", "Sum", "Mean"}
RESIZES = {"Resize", "Upsample"}
FLATTENS = {"Flatten", "Reshape", "Squeeze"}  # to [N, C*H*W]: the classifier-head entry
HEADS = {"Gemm", "MatMul"}  # dense layers whose K axis reads a flattened layout


@dataclass
class _Seg:
    """A run of channels; tied segments share a union-find root, a split root lists its two halves."""
    length: int
    parent: int | None = None
    children: tuple[int, int] | None = None
    fixed: str | None = None  # why these channels must all stay
    sources: list[tuple[str, int]] = field(default_factory=list)  # (Conv name, first output channel), roots only


class _Segments:
    """Union-find over channel segments with splitting: the algebra behind Concat offsets and join ties."""

    def __init__(self) -> None:
        self.segs: list[_Seg] = []

    def new(self, length: int, source: str | None = None, fixed: str | None = None) -> int:
        self.segs.append(_Seg(length, fixed=fixed, sources=[(source, 0)] if source else []))
        return len(self.segs) - 1

    def find(self, i: int) -> int:
        while self.segs[i].parent is not None:
            i = self.segs[i].parent
        return i

    def length(self, layout: list[int]) -> int:
        return sum(self.segs[i].length for i in layout)

    def leaves(self, layout: list[int]) -> list[int]:
        """The current unsplit roots a layout consists of, in channel order."""
        out: list[int] = []
        stack = [*reversed(layout)]
        while stack:
            r = self.find(stack.pop())
            if self.segs[r].children:
                stack.extend(reversed(self.segs[r].children))
            else:
                out.append(r)
        return out

    def _split(self, r: int, at: int) -> None:
        seg = self.segs[r]
        a, b = self.new(at, fixed=seg.fixed), self.new(seg.length - at, fixed=seg.fixed)
        self.segs[a].sources = list(seg.sources)
        self.segs[b].sources = [(conv, off + at) for conv, off in seg.sources]
        seg.children, seg.sources = (a, b), []

    def _union(self, a: int, b: int) -> None:
        sa, sb = self.segs[a], self.segs[b]
        sb.parent = a
        sa.sources += sb.sources
        sa.fixed = sa.fixed or sb.fixed
        sb.sources = []

    def unify(self, x: list[int], y: list[int]) -> bool:
        """Tie two layouts channel by channel (False when their channel counts differ)."""
        if self.length(x) != self.length(y):
            return False
        a, b = self.leaves(x), self.leaves(y)
        i = j = 0
        while i < len(a):
            p, q = self.find(a[i]), self.find(b[j])
            if self.segs[p].children:
                a[i:i + 1] = self.segs[p].children
                continue
            if self.segs[q].children:
                b[j:j + 1] = self.segs[q].children
                continue
            lp, lq = self.segs[p].length, self.segs[q].length
            if p == q:
                i, j = i + 1, j + 1
            elif lp == lq:
                self._union(p, q)
                i, j = i + 1, j + 1
            elif lp > lq:
                self._split(p, lq)
            else:
                self._split(q, lp)
        return True

    def fix(self, layout: list[int], reason: str) -> None:
        for r in self.leaves(layout):
            if self.segs[r].fixed is None:
                self.segs[r].fixed = reason


class _Analysis:
    """One walk over the graph in topological order: layouts, the rewrites they imply, and what pins them."""

    def __init__(self, model: onnx.ModelProto) -> None:
        self.model = model
        graph = model.graph
        self.graph = graph
        self.inits = _graph.initializer_map(graph)
        self.counts = _graph.use_counts(graph)
        self.opset = _graph.opset_version(model)
        self.segs = _Segments()
        self.layout: dict[str, list[int]] = {}
        self.rank: dict[str, int] = {}
        self.sources: list[onnx.NodeProto] = []
        self.sinks: list[onnx.NodeProto] = []  # dense Convs whose input channels follow their input's layout
        self.depthwise: list[onnx.NodeProto] = []
        self.params: list[tuple[str, int, str]] = []  # (initializer, channel axis, tensor whose layout it follows)
        self.spatial: dict[str, int] = {}  # rank-2 flattened tensors: features per channel (H*W), absent = 1
        self.heads: list[tuple[onnx.NodeProto, str, int]] = []  # (Gemm/MatMul, weight, K axis) reading features
        self.targets: list[tuple[str, str]] = []  # (Reshape target initializer, output): entry 1 = feature count
        self._inferred: dict[str, list[int]] | None = None
        self.shapes = _graph.ShapeValues(graph, self.rank_of)
        for node in graph.node:
            self._step(node)
        refs = _graph.subgraph_references(graph)
        for name in [o.name for o in graph.output] + sorted(refs):
            where = "a model output" if name in {o.name for o in graph.output} else "used inside a subgraph"
            if name in self.layout:
                self.segs.fix(self.layout[name], f"{name} is {where}")
            self._escape(name, f"{name} is {where}")
        self._pin_shared_weights()

    # -- shapes of tensors we do not trace (Concat inputs from elsewhere, ranks for Shape) --
    def inferred(self, name: str) -> list[int] | None:
        if self._inferred is None:
            self._inferred = {}
            try:
                m = onnx.shape_inference.infer_shapes(self.model, data_prop=True)
            except Exception:  # noqa: BLE001 - a model shape inference cannot follow: treat every shape as unknown
                m = self.model
            for vi in list(m.graph.value_info) + list(m.graph.input) + list(m.graph.output):
                if vi.type.tensor_type.HasField("shape"):
                    self._inferred[vi.name] = [d.dim_value for d in vi.type.tensor_type.shape.dim]
            for t in self.graph.initializer:
                self._inferred[t.name] = list(t.dims)
        return self._inferred.get(name)

    def rank_of(self, name: str) -> int | None:
        if name in self.rank:
            return self.rank[name]
        shape = self.inferred(name)
        return len(shape) if shape is not None else None

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

    # -- the walk --
    def _step(self, node: onnx.NodeProto) -> None:
        shape_op = self.shapes.step(node)
        # Resize sizes / Reshape targets of a traced input are checked by _resize / _flatten instead
        followed = node.domain in ("", "ai.onnx") and node.input and node.input[0] in self.layout
        for i, name in enumerate(node.input):
            sizes_of_traced_resize = followed and node.op_type == "Resize" and i == 3
            target_of_traced_reshape = followed and node.op_type == "Reshape" and i == 1
            if name and not shape_op and not sizes_of_traced_resize and not target_of_traced_reshape:
                self._escape(name, f"the channel count of {{t}} is read by {node.op_type} {node.name}")
        traced = [i for i, name in enumerate(node.input) if name in self.layout]
        kind = self.conv_kind(node)
        op = node.op_type
        if traced and node.domain not in ("", "ai.onnx"):
            self._pin(node, traced, f"channels reach {op} {node.name} (domain {node.domain})")
        elif not traced or op == "Shape":
            pass  # Shape only reads sizes: ShapeValues follows what it reads into
        elif op in HEADS and traced == [0]:
            self._head(node)
        elif any(self.spatial.get(node.input[i], 1) > 1 for i in traced) and op not in PASS_THROUGH:
            # a flattened feature map is [N, C*H*W]: channel-wise joins, Concats and parameters no longer line up
            reason = f"a flattened feature map reaches {op} {node.name}"
            self._pin(node, traced, reason)
            for name in node.input[1:]:  # a Reshape target read no channel count only if it was followed
                self._escape(name, reason)
        elif op in FLATTENS and traced == [0]:
            self._flatten(node)
        elif kind == "dense" and traced == [0]:
            self.sinks.append(node)
        elif kind == "depthwise" and traced == [0]:
            self.depthwise.append(node)
            self._pass_on(node)
        elif op in RESIZES and traced == [0]:
            self._resize(node)
        elif (op in PASS_THROUGH or op in PER_CHANNEL) and traced == [0]:
            self._through(node)
        elif op in JOINS:
            self._join(node)
        elif op == "Concat":
            self._concat(node)
        else:
            self._pin(node, traced, f"channels reach {op} {node.name}")
        if kind == "dense":
            w = self.inits[node.input[1]].dims
            self.layout[node.output[0]] = [self.segs.new(int(w[0]), source=node.name)]
            self.rank[node.output[0]] = len(w)
            self.sources.append(node)

    def _pin(self, node: onnx.NodeProto, traced: list[int], reason: str) -> None:
        for i in traced:
            self.segs.fix(self.layout[node.input[i]], reason)

    def _escape(self, name: str, reason: str) -> None:
        """A shape value holding a traced tensor's channel count reached a reader we cannot rewrite."""
        for entry in self.shapes.values.get(name, ()):
            if isinstance(entry, tuple) and entry[1] == 1 and entry[0] in self.layout:
                self.segs.fix(self.layout[entry[0]], reason.format(t=entry[0]))

    def _pass_on(self, node: onnx.NodeProto) -> None:
        src = node.input[0]
        extra = [o for o in node.output[1:] if o and self.counts.get(o)]
        if extra:  # e.g. MaxPool indices, Dropout mask: channel-shaped tensors we would have to follow too
            self.segs.fix(self.layout[src], f"{node.op_type} {node.name} output {extra[0]} is used")
        self.layout[node.output[0]] = self.layout[src]
        self.rank[node.output[0]] = self.rank[src]
        if src in self.spatial:
            self.spatial[node.output[0]] = self.spatial[src]

    def _through(self, node: onnx.NodeProto) -> None:
        lay, n = self.layout[node.input[0]], self.segs.length(self.layout[node.input[0]])
        for idx in PER_CHANNEL.get(node.op_type, ()):
            if idx < len(node.input) and node.input[idx]:
                name = node.input[idx]
                if name not in self.inits:
                    self.segs.fix(lay, f"{node.op_type} {node.name} has non-constant parameters")
                    continue
                arr_dims = list(self.inits[name].dims)
                size = int(np.prod(arr_dims))
                if size == n and size > 1:
                    self.params.append((name, 0 if len(arr_dims) <= 1 else len(arr_dims) - (self.rank[node.input[0]] - 1),
                                        node.input[0]))
                elif size != 1:
                    self.segs.fix(lay, f"{node.op_type} {node.name} parameter {name} is not per-channel")
        self._pass_on(node)

    def _resize(self, node: onnx.NodeProto) -> None:
        """Channel-preserving Resize: constant scales with 1 on the channel axis, or sizes whose channel entry
        is the channel count of a tensor pruned with the same mask (Shape(x)[1], as FPN exports write it).
        Anything else pins the input, and the output is not traced (its channel count may differ)."""
        x, rank = node.input[0], self.rank[node.input[0]]
        lay = self.layout[x]
        axes = _graph.get_attr(node, "axes", None)
        pos = 1 if axes is None else next((i for i, a in enumerate(axes) if a % rank == 1), None)
        if node.op_type == "Upsample" or self.opset < 11:
            scales, sizes = (node.input[1] if len(node.input) > 1 else ""), ""
        else:
            scales = node.input[2] if len(node.input) > 2 else ""
            sizes = node.input[3] if len(node.input) > 3 else ""
        attr_scales = _graph.get_attr(node, "scales", None)  # Upsample-7
        label = f"{node.op_type} {node.name}"
        problem = None
        if scales and scales not in self.inits:
            problem = f"{label} sets its output size from computed scales"
        elif scales or attr_scales is not None:
            vals = (numpy_helper.to_array(self.inits[scales]).reshape(-1) if scales
                    else np.asarray(attr_scales, dtype=np.float64))
            if pos is not None and pos < len(vals) and vals[pos] != 1:
                problem = f"{label} scales the channel axis"
        if sizes and problem is None:
            vals = self.shapes.values.get(sizes)
            for i, e in enumerate(vals or ()):
                if isinstance(e, tuple) and e[1] == 1 and e[0] in self.layout and i != pos:
                    self.segs.fix(self.layout[e[0]], f"the channel count of {e[0]} sets a spatial size of {label}")
            entry = vals[pos] if vals is not None and pos is not None and pos < len(vals) else None
            if vals is None:
                problem = f"{label} sets its output size from shapes we cannot follow"
            elif pos is None:
                pass
            elif not (isinstance(entry, tuple) and entry[1] == 1 and entry[0] in self.layout):
                what = "a constant" if isinstance(entry, int) else "a tensor whose channels are not traced"
                problem = f"{label} takes its channel count from {what}"
            elif not self.segs.unify(self.layout[entry[0]], lay):
                self.segs.fix(self.layout[entry[0]], f"{label} changes the channel count")
                problem = f"{label} changes the channel count"
        if problem:
            self.segs.fix(lay, problem)
            if sizes:  # its channel entries were exempt from the escape check only for a traced Resize
                self._escape(sizes, problem)
            return
        self._pass_on(node)

    def _flatten(self, node: onnx.NodeProto) -> None:
        """Flatten(axis 1), Squeeze of the spatial axes, or Reshape to [N, -1] / [N, C]: [N, C, H, W] becomes
        [N, C*H*W] with channel c at features [c*H*W, (c+1)*H*W). H*W comes from shape inference (1 after a
        global pool); an unknown spatial size, or any other reshape, pins the input."""
        x, rank = node.input[0], self.rank[node.input[0]]
        label = f"{node.op_type} {node.name}"
        n_ch = self.segs.length(self.layout[x])
        shape = self.inferred(x)
        per_channel = self.spatial.get(x, 1)
        problem = None
        if shape is None or len(shape) != rank or any(d <= 0 for d in shape[2:]):
            problem = f"{label} flattens a feature map whose spatial size shape inference cannot tell"
        elif shape[1] > 0 and shape[1] != n_ch * per_channel:
            problem = f"{label} reads {shape[1]} features where {n_ch * per_channel} were traced"
        else:
            per_channel *= int(np.prod(shape[2:], dtype=np.int64))
            if node.op_type == "Flatten":
                axis = int(_graph.get_attr(node, "axis", 1))
                if (axis + rank if axis < 0 else axis) != 1:
                    problem = f"{label} flattens at axis {axis} (only axis 1 keeps channels whole per row)"
            elif node.op_type == "Squeeze":
                problem = self._squeeze_problem(node, shape, label)
            else:
                problem = self._reshape_problem(node, per_channel, label)
        if problem:
            self.segs.fix(self.layout[x], problem)
            if node.op_type == "Reshape":  # its target's channel entries were exempt only for a followed Reshape
                self._escape(node.input[1], problem)
            return
        out = node.output[0]
        self.layout[out], self.rank[out] = self.layout[x], 2
        if per_channel > 1:
            self.spatial[out] = per_channel

    def _squeeze_problem(self, node: onnx.NodeProto, shape: list[int], label: str) -> str | None:
        """Squeeze is a flatten only when it drops exactly the (size-1) spatial axes of [N, C, 1, 1]."""
        rank = len(shape)
        axes = _graph.get_attr(node, "axes", None)
        if axes is None and len(node.input) > 1 and node.input[1]:
            axes = self.shapes.values.get(node.input[1])
        if axes is None or not all(isinstance(a, int) for a in axes):
            return f"{label} squeezes axes we cannot tell (the batch axis may go too)"
        if sorted(a + rank if a < 0 else a for a in axes) != list(range(2, rank)):
            return f"{label} squeezes axes {list(axes)}, not exactly the spatial axes"
        return None

    def _reshape_problem(self, node: onnx.NodeProto, per_channel: int, label: str) -> str | None:
        """A head Reshape's target must be [batch, -1], [batch or -1, Shape(x)[1]] (when H*W = 1) or
        [batch or -1, C*H*W] in an initializer of its own (rewritten to the pruned feature count)."""
        x, target = node.input[0], node.input[1]
        vals = self.shapes.values.get(target)
        if vals is None:
            return f"{label} takes its target shape from values we cannot follow"
        if len(vals) != 2:
            return f"{label} reshapes to rank {len(vals)} (only [N, -1] / [N, C] heads are followed)"
        a, b = vals
        shape = self.inferred(x) or [0]
        batch = (a == (x, 0) or (isinstance(a, tuple) and a[1] == 0 and self.layout.get(a[0]) is self.layout[x])
                 or (a == 0 and not _graph.get_attr(node, "allowzero", 0))
                 or (isinstance(a, int) and a > 0 and a == shape[0]))
        if not batch and a != -1:
            return f"{label} reshapes to [{a}, ...] whose first entry is not the batch size"
        if b == -1:
            return None if batch else f"{label} reshapes to [-1, -1]"
        if isinstance(b, tuple):
            e = b[0]
            if b[1] != 1 or e not in self.layout or per_channel != 1 or self.spatial.get(e, 1) != 1:
                return f"{label} takes its feature count from a size of {e} that does not follow its channels"
            if not self.segs.unify(self.layout[e], self.layout[x]):
                self.segs.fix(self.layout[e], f"{label} changes the channel count")
                return f"{label} changes the channel count"
            return None
        if b != self.segs.length(self.layout[x]) * per_channel:
            return f"{label} reshapes to [{a}, {b}], not [N, C*H*W]"
        if target not in self.inits or self.counts.get(target, 0) != 1:
            return f"{label} takes its feature count {b} from a computed or shared shape we cannot rewrite"
        self.targets.append((target, node.output[0]))
        return None

    def _head(self, node: onnx.NodeProto) -> None:
        """Gemm (no transA) or MatMul reading a traced [N, C*H*W] tensor with a constant 2-D weight: its K axis
        (Gemm columns with transB, else rows) follows the features, so pruned features lose their K slices."""
        x, w = node.input[0], node.input[1]
        label = f"{node.op_type} {node.name}"
        features = self.segs.length(self.layout[x]) * self.spatial.get(x, 1)
        axis = int(_graph.get_attr(node, "transB", 0)) if node.op_type == "Gemm" else 0
        problem = None
        if self.rank[x] != 2:
            problem = f"channels reach {label} as a rank-{self.rank[x]} tensor (flatten to [N, C] first)"
        elif node.op_type == "Gemm" and _graph.get_attr(node, "transA", 0):
            problem = f"{label} reads its input transposed (transA)"
        elif w not in self.inits or len(self.inits[w].dims) != 2:
            problem = f"{label} weight {w} is not a constant 2-D matrix"
        elif self.inits[w].dims[axis] != features:
            problem = f"{label} weight {w} has {self.inits[w].dims[axis]} inputs where {features} were traced"
        if problem:
            self.segs.fix(self.layout[x], problem)
            return
        self.heads.append((node, w, axis))

    def _join(self, node: onnx.NodeProto) -> None:
        """Element-wise join: all traced inputs lose the same channels; per-channel constants are sliced."""
        traced = [n for n in node.input if n in self.layout]
        rank = max(self.rank[n] for n in traced)
        n_ch = self.segs.length(self.layout[traced[0]])
        reason = None
        for name in node.input:
            if not name or name in self.layout:
                continue
            if name not in self.inits:
                reason = f"{node.op_type} {node.name} also reads {name}, whose channels are not traced"
                continue
            dims = list(self.inits[name].dims)
            if int(np.prod(dims)) == 1:
                continue
            padded = [1] * (rank - len(dims)) + dims
            if len(padded) == rank and padded[1] == n_ch and int(np.prod(dims)) == n_ch:
                self.params.append((name, len(dims) - (rank - 1), traced[0]))
            else:
                reason = f"{node.op_type} {node.name} mixes in constant {name} of shape {dims}"
        for other in traced[1:]:
            if not self.segs.unify(self.layout[traced[0]], self.layout[other]):
                reason = (f"{node.op_type} {node.name} joins {n_ch} channels with "
                          f"{self.segs.length(self.layout[other])}")
        if reason:
            for name in traced:
                self.segs.fix(self.layout[name], reason)
        self.layout[node.output[0]] = self.layout[traced[0]]
        self.rank[node.output[0]] = rank

    def _concat(self, node: onnx.NodeProto) -> None:
        """Channel Concat: the output layout is the inputs' layouts end to end (input k at offset sum C_<k)."""
        traced = [i for i, n in enumerate(node.input) if n in self.layout]
        rank = self.rank[node.input[traced[0]]]
        axis = int(_graph.get_attr(node, "axis", 1))
        axis = axis + rank if axis < 0 else axis
        if axis != 1:
            self._pin(node, traced, f"channels reach Concat {node.name} on axis {axis} (not the channel axis)")
            return
        parts: list[int] = []
        for name in node.input:
            if name in self.layout:
                parts += self.layout[name]
                continue
            shape = self.inferred(name)
            if not shape or len(shape) != rank or shape[1] <= 0:
                self._pin(node, traced, f"Concat {node.name} input {name} has an unknown channel count")
                return
            parts.append(self.segs.new(shape[1], fixed=f"Concat {node.name} also joins {name}, not a traced Conv output"))
        self.layout[node.output[0]] = parts
        self.rank[node.output[0]] = rank

    def _pin_shared_weights(self) -> None:
        """Slicing an initializer another reader (or another axis of ours) also uses would corrupt that reader."""
        uses: list[tuple[str, str, list[int]]] = []  # (initializer, node, layout it follows)
        for node in self.sources:
            uses += [(n, node.name, self.layout[node.output[0]]) for n in node.input[1:3] if n]
        for node in self.sinks:
            uses.append((node.input[1], node.name, self.layout[node.input[0]]))
        for node in self.depthwise:
            uses += [(n, node.name, self.layout[node.input[0]]) for n in node.input[1:3] if n]
        for name, _, tensor in self.params:
            uses.append((name, f"param:{tensor}", self.layout[tensor]))
        for node, name, _ in self.heads:
            uses.append((name, node.name, self.layout[node.input[0]]))
        readers: dict[str, set[str]] = {}
        for name, who, _ in uses:
            readers.setdefault(name, set()).add(who)
        for name, who, lay in uses:
            if self.counts.get(name, 0) != 1 or len(readers[name]) > 1:
                self.segs.fix(lay, f"initializer {name} is shared")

    # -- decisions and rewrite --
    def groups(self) -> list[int]:
        """Leaf segments holding Conv output channels, in graph order of their first Conv."""
        seen: list[int] = []
        for node in self.sources:
            for r in self.segs.leaves(self.layout[node.output[0]]):
                if r not in seen:
                    seen.append(r)
        return seen

    def label(self, r: int) -> str:
        seg = self.segs.segs[r]
        names = []
        for conv, off in seg.sources:
            full = int(self.inits[next(n for n in self.sources if n.name == conv).input[1]].dims[0])
            names.append(conv if (off, seg.length) == (0, full) else f"{conv}[{off}:{off + seg.length}]")
        return "+".join(sorted(dict.fromkeys(names)))

    def indices(self, tensor: str, keep: dict[int, np.ndarray]) -> np.ndarray:
        """Kept channel indices of a traced tensor: each segment's kept channels, shifted by its offset."""
        out, off = [], 0
        for r in self.segs.leaves(self.layout[tensor]):
            n = self.segs.segs[r].length
            out.append(off + keep.get(r, np.arange(n)))
            off += n
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)

    def features(self, tensor: str, keep: dict[int, np.ndarray]) -> np.ndarray:
        """Kept feature indices of a flattened tensor: channel c owns features [c*S, (c+1)*S), S = H*W."""
        idx, per = self.indices(tensor, keep), self.spatial.get(tensor, 1)
        return (idx[:, None] * per + np.arange(per)).reshape(-1)


class PruneChannelsPass(Pass):
    """Structured pruning by L1 norm: fewer channels, fewer MACs, a smaller file - no sparse kernels needed."""

    id = "prune-channels"
    title = "Channel pruning (structured)"
    description = ("Remove the lowest-L1 output channels of Conv layers, following them through BN, activations, "
                   "Resize, depthwise convs, channel Concat, residual Add, squeeze-excite Mul and into a "
                   "Flatten/Reshape -> Gemm/MatMul classifier head. "
                   "Fine-tune afterwards for accuracy.")

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
        an = _Analysis(out)
        if not an.sources:
            raise PassRefused(self.id, "model has no prunable Conv layers (dense Conv with constant weights); "
                                       "structured channel pruning applies to CNNs")
        groups = an.groups()
        macs_before = _graph.conv_macs(out)
        keep: dict[int, np.ndarray] = {}
        pruned = skipped = small = removed_total = 0
        for i, r in enumerate(groups):
            ctx.check_cancelled(self.id)
            ctx.progress(i, len(groups), "choosing channels")
            seg, label = an.segs.segs[r], an.label(r)
            if seg.fixed:
                skipped += 1
                notes.append(f"left {label}: {seg.fixed}")
                continue
            keep_n = self._keep_count(seg.length, p)
            if keep_n >= seg.length:
                small += 1
                notes.append(f"left {label}: {seg.length} channels would keep {keep_n} (min_channels "
                             f"{p.min_channels}, round_to {p.round_to}); lower round_to to prune small layers")
                continue
            keep[r] = self._keep_indices(an, r, keep_n)
            pruned += 1
            removed_total += seg.length - keep_n
            notes.append(f"pruned {label}: {seg.length} -> {keep_n} channels")
        if pruned == 0:
            reasons = "; ".join(n.removeprefix("left ") for n in notes if n.startswith("left "))[:400]
            raise PassRefused(self.id, f"no Conv channel group can be pruned ({reasons})")
        self._rewrite(an, keep)
        _graph.strip_value_info(out)
        _graph.check_loads(out, self.id)
        macs_after = _graph.conv_macs(out)
        notes.insert(0, f"pruned {pruned} channel group(s), left {skipped}; removed {removed_total} channels; "
                        f"Conv MACs {macs_before / 1e6:.1f}M -> {macs_after / 1e6:.1f}M (batch 1, dynamic H/W = 224); "
                        "accuracy needs fine-tuning")
        return PassOutput(out, notes=notes, metrics={
            "macs_before": float(macs_before), "macs_after": float(macs_after),
            "groups_pruned": float(pruned), "groups_left": float(skipped), "groups_too_small": float(small),
            "channels_removed": float(removed_total),
            "bytes_before": float(model.ByteSize()), "bytes_after": float(out.ByteSize())})

    @staticmethod
    def _keep_count(channels: int, p: "PruneChannelsPass.Params") -> int:
        keep = channels - int(math.floor(channels * p.ratio))
        keep = max(keep, p.min_channels)
        keep = int(math.ceil(keep / p.round_to) * p.round_to)
        return min(keep, channels)

    @staticmethod
    def _keep_indices(an: _Analysis, r: int, keep_n: int) -> np.ndarray:
        """Channels with the highest L1 norm summed over the group's Conv slices (each Conv normalized to max 1)."""
        seg = an.segs.segs[r]
        score = np.zeros(seg.length)
        convs = {n.name: n for n in an.sources}
        for conv, off in seg.sources:
            w = numpy_helper.to_array(an.inits[convs[conv].input[1]]).astype(np.float64)
            l1 = np.abs(w).reshape(w.shape[0], -1).sum(axis=1)
            score += l1[off:off + seg.length] / (l1.max() or 1.0)
        order = np.argsort(-score, kind="stable")  # stable: ties keep the lower index, output is deterministic
        return np.sort(order[:keep_n])

    @staticmethod
    def _rewrite(an: _Analysis, keep: dict[int, np.ndarray]) -> None:
        """Apply every group's mask at once; each reader takes the indices its own tensor's layout gives."""
        graph = an.graph
        inits = _graph.initializer_map(graph)

        def take(name: str, axis: int, idx: np.ndarray) -> None:
            arr = numpy_helper.to_array(inits[name])
            if len(idx) != arr.shape[axis]:
                _graph.set_initializer(graph, name, np.take(arr, idx, axis=axis))

        for node in an.sources:
            idx = an.indices(node.output[0], keep)
            for name in node.input[1:3]:
                if name:
                    take(name, 0, idx)
        for node in an.depthwise:
            idx = an.indices(node.input[0], keep)
            for name in node.input[1:3]:
                if name:
                    take(name, 0, idx)
            _graph.set_int_attr(node, "group", len(idx))
        for node in an.sinks:
            take(node.input[1], 1, an.indices(node.input[0], keep))
        for name, axis, tensor in an.params:
            take(name, axis, an.indices(tensor, keep))
        for node, name, axis in an.heads:
            take(name, axis, an.features(node.input[0], keep))
        for name, tensor in an.targets:
            target = numpy_helper.to_array(inits[name]).copy()
            target[1] = len(an.features(tensor, keep))
            _graph.set_initializer(graph, name, target)
