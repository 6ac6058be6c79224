"""StyleGAN layers (ganzoo/layers/style.py) against hand computations in NumPy."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from ganzoo.layers import (
    AdaptiveInstanceNormalization,
    BiasActivation,
    EqualizedConv2D,
    EqualizedDense,
    LearnedConstant,
    MinibatchStdDev,
    ModulatedConv2D,
    NoiseInjection,
    PixelNormalization,
    Truncation,
)


def numpy_of(x):
    return keras.ops.convert_to_numpy(x)


def lrelu(x):
    return np.where(x >= 0, x, 0.2 * x) * math.sqrt(2.0)


def rng(seed=0):
    return np.random.default_rng(seed)


def test_equalized_dense_scales_weights_at_run_time_by_lr_over_sqrt_fan_in():
    layer = EqualizedDense(3, lr_multiplier=0.01, bias_init=1.0, activation="lrelu")
    x = rng().standard_normal((5, 4)).astype("float32")
    out = numpy_of(layer(x))
    kernel, bias = (numpy_of(v) for v in (layer.kernel, layer.bias))
    # Stored as N(0, 1 / lr): the effective weights start at N(0, 1 / fan_in).
    assert np.allclose(bias * 0.01, 1.0)
    expected = lrelu(x @ (kernel * 0.01 / math.sqrt(4)) + bias * 0.01)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="lr_multiplier must be a positive number"):
        EqualizedDense(3, lr_multiplier=0)
    with pytest.raises(ValueError, match="activation must be 'linear' or 'lrelu'"):
        EqualizedDense(3, activation="relu")


def test_equalized_conv_is_a_convolution_with_kernel_over_sqrt_fan_in():
    layer = EqualizedConv2D(2, 3, activation="linear")
    x = rng(1).standard_normal((2, 5, 5, 3)).astype("float32")
    out = numpy_of(layer(x))
    kernel = numpy_of(layer.kernel) / math.sqrt(3 * 9)
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    expected = np.zeros((2, 5, 5, 2), "float32")
    for i in range(5):
        for j in range(5):
            expected[:, i, j] = np.einsum("bhwc,hwco->bo", padded[:, i:i + 3, j:j + 3], kernel)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


def per_example_modulated_conv(x, styles, kernel, demodulate):
    """The authors' formula: each example convolved with its own modulated kernel."""
    outputs = []
    for b in range(len(x)):
        w = kernel * styles[b][None, None, :, None]  # (k, k, I, O)
        if demodulate:
            w = w / np.sqrt(np.sum(w**2, axis=(0, 1, 2), keepdims=True) + 1e-8)
        outputs.append(numpy_of(tf.nn.conv2d(x[b:b + 1], w, 1, "SAME"))[0])
    return np.stack(outputs)


@pytest.mark.parametrize("demodulate", [True, False])
def test_modulated_conv_equals_convolving_each_example_with_its_own_kernel(demodulate):
    layer = ModulatedConv2D(4, 3, demodulate=demodulate)
    x = rng(2).standard_normal((3, 6, 6, 5)).astype("float32")
    styles = rng(3).uniform(0.2, 2.0, (3, 5)).astype("float32")
    out = numpy_of(layer([x, styles]))
    kernel = numpy_of(layer.kernel) / math.sqrt(5 * 9)
    np.testing.assert_allclose(out, per_example_modulated_conv(x, styles, kernel, demodulate),
                               rtol=1e-4, atol=1e-5)


def test_demodulation_gives_every_output_channel_unit_variance_for_random_styles():
    """For x with i.i.d. unit-variance entries, y_o = sum_ik w'_oik x_ik has variance
    sum_ik w'_oik^2, which demodulation makes 1 whatever the style."""
    layer = ModulatedConv2D(16, 3)
    generator = rng(4)
    x = generator.standard_normal((256, 10, 10, 8)).astype("float32")
    # Styles far from 1 (log-normal, spread over two orders of magnitude).
    styles = np.exp(generator.normal(0.0, 1.5, (256, 8))).astype("float32")
    out = numpy_of(layer([x, styles]))[:, 1:-1, 1:-1]  # interior: no zero padding
    variances = out.var(axis=(0, 1, 2))  # per output channel, over examples and positions
    np.testing.assert_allclose(variances, 1.0, atol=0.08)
    # Without demodulation the variance follows the styles (the check has power).
    plain = numpy_of(ModulatedConv2D(16, 3, demodulate=False)([x, styles]))[:, 1:-1, 1:-1]
    assert np.max(np.abs(plain.var(axis=(0, 1, 2)) - 1.0)) > 0.5


def test_adain_normalises_each_channel_of_each_example_then_scales_and_shifts():
    x = rng(5).normal(3.0, 2.0, (2, 4, 4, 3)).astype("float32")
    scale = rng(6).uniform(0.5, 2.0, (2, 3)).astype("float32")
    offset = rng(7).normal(size=(2, 3)).astype("float32")
    out = numpy_of(AdaptiveInstanceNormalization()([x, scale, offset]))
    mean = x.mean(axis=(1, 2), keepdims=True)
    std = np.sqrt(x.var(axis=(1, 2), keepdims=True) + 1e-8)
    expected = (x - mean) / std * scale[:, None, None] + offset[:, None, None]
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


def test_noise_injection_adds_one_map_per_example_times_a_per_channel_strength():
    layer = NoiseInjection()
    x = rng(8).normal(size=(2, 3, 3, 4)).astype("float32")
    noise = rng(9).normal(size=(2, 3, 3, 1)).astype("float32")
    np.testing.assert_array_equal(numpy_of(layer([x, noise])), x)  # zero strength at first
    strength = np.array([0.0, 1.0, -2.0, 0.5], "float32")
    layer.strength.assign(strength)
    np.testing.assert_allclose(numpy_of(layer([x, noise])), x + noise * strength, rtol=1e-6)


def test_noise_injection_per_layer_has_one_scalar_strength_and_round_trips_its_config():
    layer = NoiseInjection(per_channel=False)
    x = rng(8).normal(size=(2, 3, 3, 4)).astype("float32")
    noise = rng(9).normal(size=(2, 3, 3, 1)).astype("float32")
    layer([x, noise])
    assert tuple(layer.strength.shape) == ()
    layer.strength.assign(-1.5)
    np.testing.assert_allclose(numpy_of(layer([x, noise])), x - 1.5 * noise, rtol=1e-6)
    assert NoiseInjection.from_config(layer.get_config()).per_channel is False
    with pytest.raises(ValueError, match="per_channel must be True or False"):
        NoiseInjection(per_channel="yes")


def test_bias_activation_pixel_norm_and_learned_constant():
    x = rng(10).normal(size=(2, 3, 3, 4)).astype("float32")
    layer = BiasActivation("lrelu")
    layer.build(x.shape)
    layer.bias.assign(np.array([0.5, -0.5, 0.0, 1.0], "float32"))
    np.testing.assert_allclose(numpy_of(layer(x)), lrelu(x + numpy_of(layer.bias)), rtol=1e-6)
    z = rng(11).normal(size=(5, 6)).astype("float32")
    normed = numpy_of(PixelNormalization()(z))
    np.testing.assert_allclose(np.mean(normed**2, axis=1), 1.0, rtol=1e-5)
    constant = LearnedConstant(7)
    out = numpy_of(constant(np.zeros((3, 2), "float32")))
    assert out.shape == (3, 4, 4, 7)
    np.testing.assert_array_equal(out[2], numpy_of(constant.constant))


def test_truncation_keeps_w_at_psi_one_gives_w_avg_at_zero_and_tracks_the_mean():
    layer = Truncation()
    w = rng(12).normal(size=(4, 5)).astype("float32")
    layer([w, np.ones((4, 1), "float32")])
    w_avg = rng(13).normal(size=5).astype("float32")
    layer.w_avg.assign(w_avg)
    np.testing.assert_array_equal(numpy_of(layer([w, np.ones((4, 1), "float32")])), w)
    np.testing.assert_allclose(numpy_of(layer([w, np.zeros((4, 1), "float32")])),
                               np.tile(w_avg, (4, 1)), rtol=1e-6)
    half = numpy_of(layer([w, np.full((4, 1), 0.5, "float32")]))
    np.testing.assert_allclose(half, w_avg + 0.5 * (w - w_avg), rtol=1e-5, atol=1e-6)
    layer.track(w.mean(axis=0), 0.995)
    np.testing.assert_allclose(numpy_of(layer.w_avg),
                               w.mean(axis=0) + 0.995 * (w_avg - w.mean(axis=0)), rtol=1e-5)
    assert not layer.w_avg.trainable


def minibatch_stddev_by_hand(x, group):
    stats = []
    for start in range(0, len(x), group):
        chunk = x[start:start + group]
        stats += [np.sqrt(chunk.var(axis=0) + 1e-8).mean()] * group
    extra = np.broadcast_to(np.array(stats)[:, None, None, None], x.shape[:3] + (1,))
    return np.concatenate([x, extra], axis=-1)


@pytest.mark.parametrize("batch, group", [(8, 4), (6, 3), (5, 1)])
def test_minibatch_stddev_over_groups_of_consecutive_examples(batch, group):
    """Groups of 4 consecutive images, or the largest size up to 4 that splits the batch."""
    x = rng(14).normal(size=(batch, 3, 3, 2)).astype("float32")
    out = numpy_of(MinibatchStdDev(group_size=4)(x))
    np.testing.assert_allclose(out, minibatch_stddev_by_hand(x, group), rtol=1e-5, atol=1e-6)
    # Consecutive groups: the first half of a batch gets the same statistics alone.
    if batch == 8:
        np.testing.assert_allclose(numpy_of(MinibatchStdDev(4)(x[:4])), out[:4], rtol=1e-6)


def test_layers_round_trip_through_their_config():
    for layer in (EqualizedDense(3, lr_multiplier=0.5, bias_init=1.0, activation="lrelu"),
                  EqualizedConv2D(2, 3, activation="lrelu", use_bias=False),
                  ModulatedConv2D(4, 1, demodulate=False), MinibatchStdDev(2, 1),
                  BiasActivation("linear"), LearnedConstant(5, size=4)):
        clone = type(layer).from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()
