"""SAGAN's self-attention block against a NumPy computation of x + gamma (softmax(QK^T)V) W_o."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from ganzoo.layers import SelfAttention


def numpy_of(x):
    return keras.ops.convert_to_numpy(x)


def softmax(x, axis=-1):
    x = x - x.max(axis=axis, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)


def hand_attention(inputs, wq, wk, wv, wo, gamma):
    """x + gamma * (softmax(Q K^T) V) W_o over the H * W positions of each image."""
    batch, height, width, channels = inputs.shape
    x = inputs.reshape(batch, height * width, channels).astype("float64")
    q, k, v = x @ wq, x @ wk, x @ wv
    weights = softmax(q @ k.transpose(0, 2, 1), axis=-1)  # (B, N queries, N keys)
    out = (weights @ v) @ wo
    return (x + gamma * out).reshape(inputs.shape), weights


def block_with_weights(channels, gamma, spectral_norm=False, seed=0):
    """A built block on (2, 3, 4, channels) inputs with random 1x1 kernels and `gamma`."""
    block = SelfAttention(spectral_norm=spectral_norm, gamma_initializer=gamma, name="attn")
    block.build((None, 3, 4, channels))
    rng = np.random.default_rng(seed)
    kernels = {}
    for name in ("query", "key", "value", "output_conv"):
        conv = getattr(block, name)
        kernel_variable = conv.layer.kernel if spectral_norm else conv.kernel
        kernel = rng.normal(size=kernel_variable.shape).astype("float32")
        kernel_variable.assign(kernel)
        kernels[name] = kernel[0, 0]  # 1x1 convolution: a (in, out) matrix
    return block, kernels


def test_block_equals_softmax_of_queries_times_keys_applied_to_values():
    inputs = np.random.default_rng(1).normal(size=(2, 3, 4, 16)).astype("float32")
    block, w = block_with_weights(16, gamma=0.7)
    # C = 16: queries and keys have C/8 = 2 channels, values C/2 = 8.
    assert w["query"].shape == (16, 2) and w["value"].shape == (16, 8)
    expected, expected_weights = hand_attention(inputs, w["query"], w["key"], w["value"],
                                                w["output_conv"], 0.7)
    np.testing.assert_allclose(numpy_of(block(inputs)), expected, rtol=1e-4, atol=1e-4)
    weights = numpy_of(block.attention_weights(inputs))
    assert weights.shape == (2, 12, 12)
    np.testing.assert_allclose(weights, expected_weights, rtol=1e-4, atol=1e-6)


def test_block_is_the_identity_while_gamma_is_zero():
    inputs = np.random.default_rng(2).normal(size=(2, 3, 4, 8)).astype("float32")
    block = SelfAttention(spectral_norm=True)  # gamma starts at 0, as in the paper
    np.testing.assert_array_equal(numpy_of(block(inputs, training=True)), inputs)
    assert float(numpy_of(block.gamma)) == 0.0


def test_spectral_norm_divides_each_kernel_by_its_largest_singular_value():
    inputs = np.random.default_rng(3).normal(size=(2, 3, 4, 16)).astype("float32")
    block, w = block_with_weights(16, gamma=0.5, spectral_norm=True)
    converge = tf.function(lambda: block(inputs, training=True))
    for _ in range(60):  # power iterations converge
        converge()
    normalised = {name: kernel / np.linalg.svd(kernel, compute_uv=False)[0]
                  for name, kernel in w.items()}
    expected, _ = hand_attention(inputs, normalised["query"], normalised["key"],
                                 normalised["value"], normalised["output_conv"], 0.5)
    np.testing.assert_allclose(numpy_of(block(inputs)), expected, rtol=1e-3, atol=1e-3)


def test_every_weight_gets_a_gradient_once_gamma_is_not_zero():
    inputs = np.random.default_rng(4).normal(size=(2, 3, 4, 8)).astype("float32")
    block = SelfAttention(spectral_norm=True, gamma_initializer=0.3)
    block.build(inputs.shape)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(block(inputs, training=True)))
    gradients = tape.gradient(loss, block.trainable_variables)
    assert len(gradients) == 5  # four kernels and gamma
    assert all(g is not None and np.abs(g.numpy()).max() > 0 for g in gradients)


def test_config_round_trip_and_bad_arguments():
    block = SelfAttention(key_ratio=4, value_ratio=1, spectral_norm=True,
                          gamma_initializer=0.25, name="a")
    twin = SelfAttention.from_config(block.get_config())
    assert (twin.key_ratio, twin.value_ratio, twin.spectral_norm, twin.gamma_initializer,
            twin.name) == (4, 1, True, 0.25, "a")
    with pytest.raises(ValueError, match="key_ratio must be a positive integer"):
        SelfAttention(key_ratio=0)
    with pytest.raises(ValueError, match="known height, width and channels"):
        SelfAttention().build((None, None, None, 8))
