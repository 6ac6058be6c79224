"""ONNX graph rewrites that make generators fast on onnxruntime's CPU provider.

A bundle keeps the graph tf2onnx wrote in `model.onnx` (what GPU providers and other
runtimes get) and adds `model.cpu.onnx`: this graph after the rewrites below and after
onnxruntime's own graph optimisations at the EXTENDED level, for the CPU provider.
docs/export.md explains why; each rewrite is exact arithmetic, up to float rounding, and
the export checks the result against Keras like the plain graph.

The rewrites use standard ONNX operators only (Conv, Concat, DepthToSpace, Pad, Slice,
Add), so the rewritten graph still runs anywhere:

- `fold_channel_affine`: a per-channel Mul / Add after a ConvTranspose (inference batch
  norm, as tf2onnx writes it) goes into the ConvTranspose's weights and bias.
- `lower_conv_transpose`: onnxruntime runs ConvTranspose as one GEMM into a column buffer
  followed by a single-threaded col2im, several times slower than its blocked (NCHWc)
  Conv kernels. A ConvTranspose of stride s is s*s ordinary convolutions, one per output
  phase, on the un-upsampled input (sub-pixel convolution), interleaved by DepthToSpace.
  The activation after it moves onto each phase, where onnxruntime fuses it into the
  Conv.
- `split_narrow_conv`: a k x k Conv to a few channels (the RGB output layer) runs at a
  fraction of the speed of a wide one, because the blocked kernels pad output channels
  to 8 or 16. It becomes a 1x1 Conv to k*k*C channels and a sum of k*k shifted slices.
  When its input is a DepthToSpace of per-phase Convs, the 1x1 Conv moves before the
  DepthToSpace, so the wide tensor at full resolution is never interleaved. A narrow
  Conv with more taps than that allows (srgan's 9x9 to RGB from 64 channels) has only
  its columns split: a kh x 1 Conv to kw*C channels and a sum of kw shifted slices.
- `fuse_prelu`: tf2onnx writes Keras' PReLU as Relu(x) + Mul(Relu(Neg(x)), -alpha), four
  passes over the tensor and a fifth for the sum; it becomes one ONNX PRelu.

This module needs NumPy and onnx only.
"""

import numpy as np
import onnx
from onnx import helper, numpy_helper

# Unary element-wise operators that commute with Concat and DepthToSpace.
_ELEMENTWISE = {
    "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Elu", "Selu", "HardSigmoid", "Softplus",
    "Clip", "Identity",
}
# Output channels below this leave onnxruntime's blocked Conv kernels mostly idle
# (their block is 8 floats on AVX2, 16 on AVX-512).
_NARROW_CHANNELS = 8
_INT64_MAX = np.iinfo(np.int64).max
# The rewrites, in the order they apply.
REWRITES = ("fold_channel_affine", "lower_conv_transpose", "split_narrow_conv", "fuse_prelu")


def optimize_for_cpu(model, rewrites=None):
    """Rewrite an ONNX model for onnxruntime's CPU provider.

    Args:
        model: `onnx.ModelProto`. Left untouched; a rewritten copy is returned.
        rewrites: names from `REWRITES` to apply, in that order, or None for all.

    Returns:
        `(rewritten_model, applied)`: `applied` maps each rewrite's name to how many
        times it applied (0 for those not asked for).
    """
    wanted = REWRITES if rewrites is None else tuple(rewrites)
    unknown = sorted(set(wanted) - set(REWRITES))
    if unknown:
        raise ValueError(f"rewrites must be among {', '.join(REWRITES)}. Received: "
                         f"{', '.join(unknown)}")
    rewritten = onnx.ModelProto()
    rewritten.CopyFrom(model)
    graph = _Graph(rewritten.graph)
    functions = {"fold_channel_affine": fold_channel_affine,
                 "lower_conv_transpose": lower_conv_transpose,
                 "split_narrow_conv": split_narrow_conv, "fuse_prelu": fuse_prelu}
    applied = {name: functions[name](graph) if name in wanted else 0 for name in REWRITES}
    graph.commit()
    return rewritten, applied


class _Graph:
    """A mutable view of a GraphProto: nodes in order, initializers by name."""

    def __init__(self, graph):
        self.proto = graph
        self.nodes = list(graph.node)
        self.initializers = {init.name: init for init in graph.initializer}
        self.outputs = {value.name for value in graph.output}
        self._names = {node.name for node in self.nodes} | set(self.initializers)
        self._names |= {name for node in self.nodes for name in node.output}
        self._arrays = {}

    def array(self, name):
        if name not in self.initializers:
            return None
        if name not in self._arrays:
            self._arrays[name] = numpy_helper.to_array(self.initializers[name])
        return self._arrays[name]

    def producer(self, name):
        return next((node for node in self.nodes if name in node.output), None)

    def consumers(self, name):
        return [node for node in self.nodes if name in node.input]

    def only_consumer(self, name):
        """The single node reading `name`, if `name` is not also a graph output."""
        users = self.consumers(name)
        if len(users) != 1 or name in self.outputs:
            return None
        return users[0]

    def fresh(self, base):
        name, index = base, 1
        while name in self._names:
            name, index = f"{base}_{index}", index + 1
        self._names.add(name)
        return name

    def constant(self, base, array):
        name = self.fresh(base)
        self.initializers[name] = numpy_helper.from_array(np.ascontiguousarray(array), name)
        self._arrays[name] = array
        return name

    def replace(self, old_nodes, new_nodes):
        """Put `new_nodes` where the first of `old_nodes` was and drop `old_nodes`."""
        old_ids = {id(node) for node in old_nodes}
        position = min(index for index, node in enumerate(self.nodes) if id(node) in old_ids)
        kept = [node for node in self.nodes if id(node) not in old_ids]
        before = sum(1 for node in self.nodes[:position] if id(node) not in old_ids)
        self.nodes = kept[:before] + list(new_nodes) + kept[before:]

    def commit(self):
        """Write nodes back in topological order and drop unused initializers."""
        used = {name for node in self.nodes for name in node.input}
        used |= self.outputs
        del self.proto.node[:]
        self.proto.node.extend(_topological(self.nodes, self.proto))
        del self.proto.initializer[:]
        self.proto.initializer.extend(
            init for name, init in self.initializers.items() if name in used
        )


def _topological(nodes, graph):
    ready = {value.name for value in graph.input} | {init.name for init in graph.initializer}
    produced = {name for node in nodes for name in node.output}
    ordered, pending = [], list(nodes)
    while pending:
        progress = False
        for node in list(pending):
            if all(not name or name in ready or name not in produced for name in node.input):
                ordered.append(node)
                ready.update(node.output)
                pending.remove(node)
                progress = True
        if not progress:
            raise ValueError("graph rewrite produced a cycle")
    return ordered


def _attribute(node, name, default=None):
    for attribute in node.attribute:
        if attribute.name == name:
            value = helper.get_attribute_value(attribute)
            return value.decode() if isinstance(value, bytes) else value
    return default


def _is_plain_2d(node, weights, same_padding=False):
    """A 2-D convolution onnxruntime's blocked kernels handle: group 1, no dilation;
    explicit pads, or with `same_padding` also tf2onnx's `auto_pad` (SAME_UPPER for a
    Keras "same" Conv of dynamic size) at stride 1, which `_pads` makes explicit."""
    padding = _attribute(node, "auto_pad", "NOTSET")
    return (
        weights is not None
        and weights.ndim == 4
        and weights.dtype == np.float32
        and _attribute(node, "group", 1) == 1
        and list(_attribute(node, "dilations", [1, 1])) == [1, 1]
        and (padding == "NOTSET" or same_padding and padding in _AUTO_PADS
             and list(_attribute(node, "strides", [1, 1])) == [1, 1])
    )


# `auto_pad` values a stride-1 Conv's explicit pads follow from.
_AUTO_PADS = ("SAME_UPPER", "SAME_LOWER", "VALID")


def _pads(node, height, width):
    """[top, left, bottom, right] of a stride-1 Conv of kernel height x width: its `pads`,
    or what its `auto_pad` amounts to (SAME: k - 1 in all, the odd one after the input
    for SAME_UPPER, before it for SAME_LOWER; VALID: none)."""
    padding = _attribute(node, "auto_pad", "NOTSET")
    if padding == "NOTSET":
        return list(_attribute(node, "pads", [0, 0, 0, 0]))
    if padding == "VALID":
        return [0, 0, 0, 0]
    small = [(height - 1) // 2, (width - 1) // 2]
    large = [height - 1 - small[0], width - 1 - small[1]]
    return small + large if padding == "SAME_UPPER" else large + small


# --- fuse_prelu ------------------------------------------------------------------------


def fuse_prelu(graph):
    """Replace Add(Relu(x), Mul(Relu(Neg(x)), c)) with PRelu(x, -c), c a constant."""
    count = 0
    for node in list(graph.nodes):
        if node.op_type != "Add" or len(node.input) != 2 or node not in graph.nodes:
            continue
        found = _prelu_parts(graph, node)
        if found is None:
            continue
        source, slope, parts = found
        graph.replace(parts + [node], [helper.make_node(
            "PRelu", [source, graph.constant(f"{node.name}_slope", slope)], [node.output[0]],
            name=graph.fresh(f"{node.name}_prelu"))])
        count += 1
    return count


def _prelu_parts(graph, add):
    """(x, slope, the nodes to drop) when `add` sums tf2onnx's PReLU pattern, else None."""
    for positive_name, negative_name in (add.input, add.input[::-1]):
        relu, mul = graph.producer(positive_name), graph.producer(negative_name)
        if not (relu and mul and relu.op_type == "Relu" and mul.op_type == "Mul"):
            continue
        for branch_name, constant_name in (mul.input, mul.input[::-1]):
            constant = graph.array(constant_name)
            negative_relu = graph.producer(branch_name)
            if constant is None or not negative_relu or negative_relu.op_type != "Relu":
                continue
            neg = graph.producer(negative_relu.input[0])
            if not neg or neg.op_type != "Neg" or neg.input[0] != relu.input[0]:
                continue
            inner = [relu.output[0], mul.output[0], negative_relu.output[0], neg.output[0]]
            if any(graph.only_consumer(name) is None for name in inner):
                continue
            # PRelu's slope broadcasts to x from the right: drop leading ones of (1, C, 1, 1).
            slope = -constant.astype(np.float32)
            while slope.ndim > 1 and slope.shape[0] == 1:
                slope = slope[0]
            return relu.input[0], slope, [relu, mul, negative_relu, neg]
    return None


# --- fold_channel_affine ---------------------------------------------------------------


def fold_channel_affine(graph):
    """Fold per-channel constant Mul / Add after a ConvTranspose into its weights and bias."""
    count = 0
    for node in list(graph.nodes):
        if node.op_type != "ConvTranspose" or len(node.input) < 2:
            continue
        weights = graph.array(node.input[1])
        if not _is_plain_2d(node, weights):
            continue
        channels = weights.shape[1]
        bias = graph.array(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        if len(node.input) > 2 and node.input[2] and bias is None:
            continue
        bias = np.zeros(channels, np.float32) if bias is None else bias.copy()
        folded, output = [], node.output[0]
        while True:
            follower = graph.only_consumer(output)
            if follower is None or follower.op_type not in ("Mul", "Add"):
                break
            other = [name for name in follower.input if name != output]
            if len(other) != 1 or list(follower.input).count(output) != 1:
                break
            constant = _channel_vector(graph.array(other[0]), channels)
            if constant is None:
                break
            if follower.op_type == "Mul":
                weights = weights * constant[None, :, None, None]
                bias = bias * constant
            else:
                bias = bias + constant
            folded.append(follower)
            output = follower.output[0]
        if not folded:
            continue
        inputs = [
            node.input[0],
            graph.constant(node.input[1] + "_folded", weights.astype(np.float32)),
            graph.constant(node.name + "_bias_folded", bias.astype(np.float32)),
        ]
        replacement = helper.make_node(
            "ConvTranspose", inputs, [output], name=node.name, domain=node.domain
        )
        replacement.attribute.extend(node.attribute)
        graph.replace([node] + folded, [replacement])
        count += 1
    return count


def _channel_vector(array, channels):
    """`array` as one value per NCHW channel, or None if it does not broadcast that way."""
    if array is None or array.dtype != np.float32:
        return None
    if array.size == 1:
        return np.full(channels, array.reshape(()), np.float32)
    shape = tuple(array.shape)
    if shape in ((channels, 1, 1), (1, channels, 1, 1)):
        return array.reshape(channels)
    return None


# --- lower_conv_transpose --------------------------------------------------------------


def lower_conv_transpose(graph):
    """Replace each stride-s ConvTranspose by s*s phase Convs + Concat + DepthToSpace."""
    count = 0
    for node in list(graph.nodes):
        if node.op_type != "ConvTranspose" or len(node.input) < 2:
            continue
        weights = graph.array(node.input[1])
        plan = _phase_plan(node, weights)
        if plan is None:
            continue
        has_bias = len(node.input) > 2 and bool(node.input[2])
        if has_bias and graph.array(node.input[2]) is None:
            continue
        stride, axes = plan
        activation = graph.only_consumer(node.output[0])
        if activation is not None and activation.op_type not in _ELEMENTWISE:
            activation = None
        if activation is not None and any(
            graph.array(name) is None for name in activation.input[1:] if name
        ):
            activation = None
        final_output = (activation or node).output[0]
        new_nodes, phases = [], []
        for row in range(stride):
            for col in range(stride):
                (k0y, taps_y, top, bottom), (k0x, taps_x, left, right) = axes[0][row], axes[1][col]
                rows = [k0y + stride * (taps_y - 1 - j) for j in range(taps_y)]
                cols = [k0x + stride * (taps_x - 1 - j) for j in range(taps_x)]
                # ConvTranspose weights are (in, out, kh, kw); Conv wants (out, in, kh, kw).
                kernel = weights[:, :, rows][:, :, :, cols].transpose(1, 0, 2, 3)
                phase = graph.fresh(f"{node.name}_phase{row}{col}")
                inputs = [node.input[0], graph.constant(phase + "_W", kernel)]
                if has_bias:
                    inputs.append(node.input[2])
                new_nodes.append(
                    helper.make_node(
                        "Conv", inputs, [phase], name=phase, kernel_shape=[taps_y, taps_x],
                        pads=[top, left, bottom, right], strides=[1, 1],
                    )
                )
                if activation is not None:
                    activated = graph.fresh(f"{phase}_{activation.op_type.lower()}")
                    step = helper.make_node(
                        activation.op_type, [phase] + list(activation.input[1:]), [activated],
                        name=activated, domain=activation.domain,
                    )
                    step.attribute.extend(activation.attribute)
                    new_nodes.append(step)
                    phase = activated
                phases.append(phase)
        concat = graph.fresh(f"{node.name}_phases")
        new_nodes.append(helper.make_node("Concat", phases, [concat], name=concat, axis=1))
        new_nodes.append(
            helper.make_node(
                "DepthToSpace", [concat], [final_output], name=graph.fresh(f"{node.name}_d2s"),
                blocksize=stride, mode="DCR",
            )
        )
        graph.replace([node] + ([activation] if activation is not None else []), new_nodes)
        count += 1
    return count


def _phase_plan(node, weights):
    """`(stride, per-axis [(first tap, taps, pad before, pad after)] per phase)` or None.

    Output o of a ConvTranspose takes input i through tap k where o = s*i + k - pad_begin.
    Phase r (o = s*m + r) uses taps k = k0 + s*t, k0 = (r + pad_begin) mod s, reading
    input m + q - t: a stride-1 Conv over the input with the taps reversed.
    """
    if not _is_plain_2d(node, weights) or _attribute(node, "output_shape") is not None:
        return None
    strides = list(_attribute(node, "strides", [1, 1]))
    if len(strides) != 2 or strides[0] != strides[1] or strides[0] < 2:
        return None
    stride = strides[0]
    pads = list(_attribute(node, "pads", [0, 0, 0, 0]))
    output_padding = list(_attribute(node, "output_padding", [0, 0]))
    axes = []
    for axis in range(2):
        size = weights.shape[2 + axis]
        begin, end = pads[axis], pads[axis + 2]
        # Output length is s*in + extra; phases line up for DepthToSpace when s | extra.
        extra = size - stride + output_padding[axis] - begin - end
        if extra % stride or size < stride:
            return None
        phases = []
        for residue in range(stride):
            first = (residue + begin) % stride
            taps = -(-(size - first) // stride)
            shift = (residue + begin - first) // stride
            before = taps - 1 - shift
            after = extra // stride - before + taps - 1
            if before < 0 or after < 0:
                return None
            phases.append((first, taps, before, after))
        axes.append(phases)
    return stride, axes


# --- split_narrow_conv -----------------------------------------------------------------


def split_narrow_conv(graph):
    """Replace a k x k Conv to few channels by a 1x1 Conv to k*k*C channels + shifted sum."""
    count = 0
    for node in list(graph.nodes):
        if node.op_type != "Conv" or len(node.input) < 2:
            continue
        weights = graph.array(node.input[1])
        if not _is_plain_2d(node, weights, same_padding=True):
            continue
        out_channels, in_channels, height, width = weights.shape
        taps = height * width
        if (
            out_channels >= _NARROW_CHANNELS
            or taps < 2
            or list(_attribute(node, "strides", [1, 1])) != [1, 1]
        ):
            continue
        has_bias = len(node.input) > 2 and bool(node.input[2])
        if has_bias and graph.array(node.input[2]) is None:
            continue
        if taps * out_channels > in_channels:
            # Too many taps for one wide 1x1 Conv (srgan's 9x9 to RGB from 64 channels):
            # split the columns only.
            if width < 2 or width * out_channels > in_channels:
                continue
            _split_columns(graph, node, weights, has_bias)
            count += 1
            continue
        top, left, bottom, right = _pads(node, height, width)
        # Channel (i*kw + j)*C + c of the 1x1 Conv holds tap (i, j) of output channel c.
        pointwise = weights.transpose(2, 3, 0, 1).reshape(taps * out_channels, in_channels)
        pointwise = pointwise[:, :, None, None]
        new_nodes = []
        name = graph.fresh(f"{node.name}_taps")
        wide = _pointwise_through_depth_to_space(graph, node.input[0], pointwise, name, new_nodes)
        padded = wide
        if any((top, left, bottom, right)):
            padded = graph.fresh(f"{node.name}_padded")
            pads = graph.constant(f"{padded}_pads", np.array(
                [0, 0, top, left, 0, 0, bottom, right], np.int64))
            new_nodes.append(helper.make_node("Pad", [wide, pads], [padded], name=padded))
        total = None
        for i in range(height):
            for j in range(width):
                tap = i * width + j
                starts = [tap * out_channels, i, j]
                ends = [
                    (tap + 1) * out_channels,
                    _INT64_MAX if i == height - 1 else i - (height - 1),
                    _INT64_MAX if j == width - 1 else j - (width - 1),
                ]
                sliced = graph.fresh(f"{node.name}_tap{i}{j}")
                new_nodes.append(helper.make_node(
                    "Slice",
                    [padded,
                     graph.constant(f"{sliced}_starts", np.array(starts, np.int64)),
                     graph.constant(f"{sliced}_ends", np.array(ends, np.int64)),
                     graph.constant(f"{sliced}_axes", np.array([1, 2, 3], np.int64))],
                    [sliced], name=sliced,
                ))
                if total is None:
                    total = sliced
                else:
                    summed = graph.fresh(f"{node.name}_sum{i}{j}")
                    new_nodes.append(
                        helper.make_node("Add", [total, sliced], [summed], name=summed)
                    )
                    total = summed
        _replace_with_sum(graph, node, new_nodes, total, has_bias)
        count += 1
    return count


def _split_columns(graph, node, weights, has_bias):
    """Replace a kh x kw Conv to C channels by a kh x 1 Conv to kw*C channels (channel
    j*C + c holds column j of output channel c) and a sum of kw slices shifted along the
    width: the same products, kw times fewer shifted copies than splitting every tap."""
    out_channels, _, height, width = weights.shape
    top, left, bottom, right = _pads(node, height, width)
    columns = weights.transpose(3, 0, 1, 2).reshape(width * out_channels, -1, height, 1)
    new_nodes = []
    wide = graph.fresh(f"{node.name}_columns")
    new_nodes.append(helper.make_node(
        "Conv", [node.input[0], graph.constant(f"{wide}_W", columns)], [wide], name=wide,
        kernel_shape=[height, 1], pads=[top, 0, bottom, 0], strides=[1, 1]))
    padded = wide
    if left or right:
        padded = graph.fresh(f"{node.name}_padded")
        pads = graph.constant(f"{padded}_pads",
                              np.array([0, 0, 0, left, 0, 0, 0, right], np.int64))
        new_nodes.append(helper.make_node("Pad", [wide, pads], [padded], name=padded))
    total = None
    for j in range(width):
        sliced = graph.fresh(f"{node.name}_column{j}")
        ends = [(j + 1) * out_channels, _INT64_MAX if j == width - 1 else j - (width - 1)]
        new_nodes.append(helper.make_node(
            "Slice",
            [padded,
             graph.constant(f"{sliced}_starts", np.array([j * out_channels, j], np.int64)),
             graph.constant(f"{sliced}_ends", np.array(ends, np.int64)),
             graph.constant(f"{sliced}_axes", np.array([1, 3], np.int64))],
            [sliced], name=sliced))
        if total is None:
            total = sliced
        else:
            summed = graph.fresh(f"{node.name}_sum{j}")
            new_nodes.append(helper.make_node("Add", [total, sliced], [summed], name=summed))
            total = summed
    _replace_with_sum(graph, node, new_nodes, total, has_bias)


def _replace_with_sum(graph, node, new_nodes, total, has_bias):
    """End a split of Conv `node`: add its bias to the summed slices `total`, name the
    result as the Conv's output, and put `new_nodes` in its place."""
    if has_bias:
        bias = graph.array(node.input[2])
        bias = bias.reshape(bias.shape[0], 1, 1)
        biased = graph.fresh(f"{node.name}_biased")
        new_nodes.append(helper.make_node(
            "Add", [total, graph.constant(f"{biased}_B", bias)], [biased], name=biased))
        total = biased
    new_nodes.append(helper.make_node("Identity", [total], [node.output[0]],
                                      name=graph.fresh(f"{node.name}_out")))
    graph.replace([node], new_nodes)


def _pointwise_through_depth_to_space(graph, source, kernel, name, new_nodes):
    """Apply the 1x1 Conv `kernel` to `source`; before its DepthToSpace where possible.

    A 1x1 Conv commutes with a DCR DepthToSpace of a Concat of equal per-phase parts:
    apply it to each part and interleave the (narrower) results instead.
    """
    d2s = graph.producer(source)
    concat = graph.producer(d2s.input[0]) if d2s is not None else None
    in_channels = kernel.shape[1]
    if (
        d2s is not None
        and d2s.op_type == "DepthToSpace"
        and _attribute(d2s, "mode", "DCR") == "DCR"
        and graph.only_consumer(source) is not None
        and concat is not None
        and concat.op_type == "Concat"
        and _attribute(concat, "axis") == 1
        and len(concat.input) == _attribute(d2s, "blocksize") ** 2
        and graph.only_consumer(d2s.input[0]) is d2s
        and all(_channels(graph, part) == in_channels for part in concat.input)
    ):
        weights = graph.constant(f"{name}_W", kernel)
        parts = []
        for index, part in enumerate(concat.input):
            output = graph.fresh(f"{name}_phase{index}")
            new_nodes.append(helper.make_node("Conv", [part, weights], [output], name=output,
                                              kernel_shape=[1, 1]))
            parts.append(output)
        joined = graph.fresh(f"{name}_phases")
        new_nodes.append(helper.make_node("Concat", parts, [joined], name=joined, axis=1))
        new_nodes.append(helper.make_node(
            "DepthToSpace", [joined], [name], name=graph.fresh(f"{name}_d2s"),
            blocksize=_attribute(d2s, "blocksize"), mode="DCR"))
        graph.replace([d2s, concat], [])
        return name
    weights = graph.constant(f"{name}_W", kernel)
    new_nodes.append(helper.make_node("Conv", [source, weights], [name], name=name,
                                      kernel_shape=[1, 1]))
    return name


def _channels(graph, name):
    """Channel count of `name` when it is a Conv output (through element-wise ops)."""
    node = graph.producer(name)
    while node is not None and node.op_type in _ELEMENTWISE:
        node = graph.producer(node.input[0])
    if node is None or node.op_type != "Conv":
        return None
    weights = graph.array(node.input[1])
    return None if weights is None else weights.shape[0]
