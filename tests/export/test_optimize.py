"""CPU graph rewrites: every rewritten graph computes what the original computes."""

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from ganzoo.export import optimize

RNG = np.random.default_rng(0)


def _graph_model(nodes, initializers, in_shape, opset=17):
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch"] + list(in_shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "c", "h", "w"])],
        initializer=[numpy_helper.from_array(array, name) for name, array in initializers.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def _run(model, x):
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


def _check_same(model, in_shape, batch=2):
    rewritten, applied = optimize.optimize_for_cpu(model)
    onnx.checker.check_model(rewritten)
    x = RNG.standard_normal((batch,) + tuple(in_shape)).astype(np.float32)
    expected, actual = _run(model, x), _run(rewritten, x)
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, atol=1e-4, rtol=1e-4)
    return rewritten, applied


def _weights(*shape):
    return (RNG.standard_normal(shape) * 0.2).astype(np.float32)


def _conv_transpose_model(in_ch, out_ch, kernel, stride, pads, output_padding=(0, 0),
                          bias=True, activation="LeakyRelu", spatial=(5, 6)):
    kernel = kernel if isinstance(kernel, tuple) else (kernel, kernel)
    inits = {"w": _weights(in_ch, out_ch, *kernel)}
    inputs = ["x", "w"]
    if bias:
        inits["b"] = _weights(out_ch)
        inputs.append("b")
    out = "t" if activation else "y"
    nodes = [helper.make_node("ConvTranspose", inputs, [out], name="up", strides=[stride] * 2,
                              pads=list(pads), output_padding=list(output_padding),
                              kernel_shape=list(kernel))]
    if activation:
        attributes = {"alpha": 0.2} if activation == "LeakyRelu" else {}
        nodes.append(helper.make_node(activation, ["t"], ["y"], name="act", **attributes))
    return _graph_model(nodes, inits, (in_ch,) + spatial)


@pytest.mark.parametrize(
    "kernel, stride, pads, output_padding, lowered",
    [
        (4, 2, (1, 1, 1, 1), (0, 0), True),  # Keras "same", the DCGAN layer
        (2, 2, (0, 0, 0, 0), (0, 0), True),
        (4, 2, (0, 0, 0, 0), (0, 0), True),  # output 2H + 2
        (3, 2, (1, 1, 0, 0), (0, 0), True),  # Keras "same" with an odd kernel
        (5, 2, (2, 2, 1, 1), (0, 0), True),
        (3, 2, (1, 1, 1, 1), (1, 1), True),
        (4, 4, (0, 0, 0, 0), (0, 0), True),
        ((4, 2), 2, (1, 0, 1, 0), (0, 0), True),
        (3, 2, (0, 0, 0, 0), (0, 0), False),  # output 2H + 1: phases differ in size
        (3, 1, (1, 1, 1, 1), (0, 0), False),  # stride 1 is already a convolution
    ],
)
def test_conv_transpose_lowering_is_exact(kernel, stride, pads, output_padding, lowered):
    model = _conv_transpose_model(6, 8, kernel, stride, pads, output_padding)
    rewritten, applied = _check_same(model, (6, 5, 6))
    assert applied["lower_conv_transpose"] == int(lowered)
    kinds = [node.op_type for node in rewritten.graph.node]
    if lowered:
        assert "ConvTranspose" not in kinds and "DepthToSpace" in kinds
        # The activation moved onto the phases, where onnxruntime fuses it into Conv.
        assert kinds.count("LeakyRelu") == stride * stride
    else:
        assert "ConvTranspose" in kinds


@pytest.mark.parametrize("activation", [None, "Relu", "Tanh", "Sigmoid"])
def test_lowering_without_bias_and_with_other_activations(activation):
    model = _conv_transpose_model(4, 5, 4, 2, (1, 1, 1, 1), bias=False, activation=activation)
    _, applied = _check_same(model, (4, 5, 6))
    assert applied["lower_conv_transpose"] == 1


@pytest.mark.parametrize("bias", [True, False])
def test_batch_norm_folds_into_the_transposed_convolution(bias):
    """Inference batch norm, as tf2onnx writes it: Mul by gamma / sqrt(var + eps), then Add
    beta - mean * that. Folding must scale the convolution's own bias too: with a bias of
    0 a fold that forgets it looks right, so the bias here is far from 0."""
    channels = 6
    rng = np.random.default_rng(3)
    gamma = rng.uniform(0.5, 2.0, channels)
    beta = rng.normal(0.0, 0.5, channels)
    moving_mean = rng.normal(0.0, 1.0, channels)
    moving_variance = rng.uniform(0.2, 3.0, channels)
    scale = gamma / np.sqrt(moving_variance + 1e-3)
    inits = {
        "w": _weights(4, channels, 4, 4),
        "scale": scale.reshape(1, channels, 1, 1).astype(np.float32),
        "shift": (beta - moving_mean * scale).reshape(1, channels, 1, 1).astype(np.float32),
    }
    inputs = ["x", "w"]
    if bias:
        signs = rng.choice([-1.0, 1.0], channels)
        inits["b"] = (rng.uniform(1.0, 3.0, channels) * signs).astype(np.float32)
        inputs.append("b")
    nodes = [
        helper.make_node("ConvTranspose", inputs, ["t"], strides=[2, 2], pads=[1] * 4),
        helper.make_node("Mul", ["t", "scale"], ["m"]),
        helper.make_node("Add", ["m", "shift"], ["a"]),
        helper.make_node("LeakyRelu", ["a"], ["y"], alpha=0.2),
    ]
    rewritten, applied = _check_same(_graph_model(nodes, inits, (4, 4, 4)), (4, 4, 4))
    assert applied["fold_channel_affine"] == 1
    kinds = [node.op_type for node in rewritten.graph.node]
    assert "Mul" not in kinds and "Add" not in kinds


def test_affine_that_is_not_per_channel_stays():
    inits = {"w": _weights(4, 6, 4, 4), "plane": _weights(1, 1, 8, 8)}
    nodes = [
        helper.make_node("ConvTranspose", ["x", "w"], ["t"], strides=[2, 2], pads=[1] * 4),
        helper.make_node("Mul", ["t", "plane"], ["y"]),
    ]
    _, applied = _check_same(_graph_model(nodes, inits, (4, 4, 4)), (4, 4, 4))
    assert applied["fold_channel_affine"] == 0


@pytest.mark.parametrize("kernel, pads, bias", [(5, 2, True), (3, 1, False), (3, 0, True)])
def test_narrow_convolution_splits_into_taps(kernel, pads, bias):
    inits = {"w": _weights(3, 80, kernel, kernel)}
    inputs = ["x", "w"]
    if bias:
        inits["b"] = _weights(3)
        inputs.append("b")
    nodes = [
        helper.make_node("Conv", inputs, ["c"], kernel_shape=[kernel] * 2, pads=[pads] * 4),
        helper.make_node("Sigmoid", ["c"], ["y"]),
    ]
    rewritten, applied = _check_same(_graph_model(nodes, inits, (80, 9, 7)), (80, 9, 7))
    assert applied["split_narrow_conv"] == 1
    assert all(node.op_type != "Conv" or node.attribute[0].ints == [1, 1]
               for node in rewritten.graph.node if node.op_type == "Conv")


def test_wide_or_strided_convolutions_are_left_alone():
    inits = {"w": _weights(16, 8, 3, 3), "v": _weights(3, 16, 3, 3)}
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3], pads=[1] * 4),
        helper.make_node("Conv", ["c", "v"], ["y"], kernel_shape=[3, 3], strides=[2, 2]),
    ]
    _, applied = _check_same(_graph_model(nodes, inits, (8, 8, 8)), (8, 8, 8))
    assert applied["split_narrow_conv"] == 0


def test_generator_tail_moves_the_pointwise_conv_before_depth_to_space():
    """ConvTranspose -> LeakyReLU -> 5x5 Conv to RGB, the keras-io DCGAN's last layers."""
    inits = {"w": _weights(8, 80, 4, 4), "b": _weights(80), "v": _weights(3, 80, 5, 5),
             "c": _weights(3)}
    nodes = [
        helper.make_node("ConvTranspose", ["x", "w", "b"], ["t"], strides=[2, 2],
                         pads=[1] * 4),
        helper.make_node("LeakyRelu", ["t"], ["a"], alpha=0.2),
        helper.make_node("Conv", ["a", "v", "c"], ["o"], kernel_shape=[5, 5], pads=[2] * 4),
        helper.make_node("Sigmoid", ["o"], ["y"]),
    ]
    rewritten, applied = _check_same(_graph_model(nodes, inits, (8, 6, 6)), (8, 6, 6), batch=3)
    assert applied == {"fold_channel_affine": 0, "lower_conv_transpose": 1,
                       "split_narrow_conv": 1, "fuse_prelu": 0}
    kinds = [node.op_type for node in rewritten.graph.node]
    # One DepthToSpace, after the 1x1 Convs: the 80-channel map is never interleaved.
    assert kinds.count("DepthToSpace") == 1
    assert kinds.count("Conv") == 8


def test_the_input_model_is_not_modified():
    model = _conv_transpose_model(4, 4, 4, 2, (1, 1, 1, 1))
    before = model.SerializeToString()
    optimize.optimize_for_cpu(model)
    assert model.SerializeToString() == before


@pytest.mark.parametrize("kernel, pads, bias", [(9, 4, True), ((5, 3), (2, 1, 2, 1), False),
                                                ((3, 4), (0, 0, 0, 0), True)])
def test_a_narrow_convolution_with_many_taps_splits_into_columns(kernel, pads, bias):
    """srgan's 9x9 Conv from 64 channels to RGB: 243 taps x channels exceed the input's
    64, so the columns are split (a kh x 1 Conv to kw*C channels, kw shifted slices)."""
    kernel = kernel if isinstance(kernel, tuple) else (kernel, kernel)
    pads = pads if isinstance(pads, tuple) else (pads,) * 4
    inits = {"w": _weights(3, 32, *kernel)}
    inputs = ["x", "w"]
    if bias:
        inits["b"] = _weights(3)
        inputs.append("b")
    nodes = [helper.make_node("Conv", inputs, ["y"], kernel_shape=list(kernel),
                              pads=list(pads))]
    rewritten, applied = _check_same(_graph_model(nodes, inits, (32, 11, 10)), (32, 11, 10))
    assert applied["split_narrow_conv"] == 1
    convs = [node for node in rewritten.graph.node if node.op_type == "Conv"]
    assert len(convs) == 1 and list(convs[0].attribute[0].ints) == [kernel[0], 1]
    assert sum(node.op_type == "Slice" for node in rewritten.graph.node) == kernel[1]


@pytest.mark.parametrize("kernel, auto_pad, in_channels", [
    (9, "SAME_UPPER", 32), (4, "SAME_UPPER", 32), (4, "SAME_LOWER", 32), (3, "VALID", 32),
    (5, "SAME_UPPER", 80)])
def test_narrow_convolutions_with_auto_pad_split_too(kernel, auto_pad, in_channels):
    """tf2onnx writes a Keras "same" Conv of dynamic size with auto_pad SAME_UPPER."""
    inits = {"w": _weights(3, in_channels, kernel, kernel), "b": _weights(3)}
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["y"], kernel_shape=[kernel] * 2,
                              auto_pad=auto_pad)]
    shape = (in_channels, 11, 10)
    _, applied = _check_same(_graph_model(nodes, inits, shape), shape)
    assert applied["split_narrow_conv"] == 1


@pytest.mark.parametrize("swapped", [False, True])
def test_tf2onnx_prelu_becomes_one_prelu(swapped):
    """Keras PReLU as tf2onnx writes it: Relu(x) + Mul(Relu(Neg(x)), -alpha)."""
    alpha = np.abs(_weights(1, 4, 1, 1))
    inits = {"neg_alpha": -alpha}
    mul_inputs = ["nr", "neg_alpha"][::-1] if swapped else ["nr", "neg_alpha"]
    add_inputs = ["m", "r"] if swapped else ["r", "m"]
    nodes = [
        helper.make_node("Relu", ["x"], ["r"]),
        helper.make_node("Neg", ["x"], ["n"]),
        helper.make_node("Relu", ["n"], ["nr"]),
        helper.make_node("Mul", mul_inputs, ["m"]),
        helper.make_node("Add", add_inputs, ["y"]),
    ]
    rewritten, applied = _check_same(_graph_model(nodes, inits, (4, 5, 6)), (4, 5, 6))
    assert applied["fuse_prelu"] == 1
    assert [node.op_type for node in rewritten.graph.node] == ["PRelu"]


def test_a_prelu_look_alike_with_another_use_stays():
    """The negative branch also feeds the output: fusing would lose it."""
    inits = {"neg_alpha": -np.abs(_weights(1, 4, 1, 1))}
    nodes = [
        helper.make_node("Relu", ["x"], ["r"]),
        helper.make_node("Neg", ["x"], ["n"]),
        helper.make_node("Relu", ["n"], ["nr"]),
        helper.make_node("Mul", ["nr", "neg_alpha"], ["m"]),
        helper.make_node("Add", ["r", "m"], ["s"]),
        helper.make_node("Add", ["s", "nr"], ["y"]),
    ]
    _, applied = _check_same(_graph_model(nodes, inits, (4, 5, 6)), (4, 5, 6))
    assert applied["fuse_prelu"] == 0
