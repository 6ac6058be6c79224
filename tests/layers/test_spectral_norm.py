"""Spectral normalisation against hand computations (numpy.linalg.svd, Miyato et al. eq. 12)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from ganzoo.layers import SpectralNormalization


def numpy_of(x):
    return keras.ops.convert_to_numpy(x)


def largest_singular_value(kernel):
    matrix = np.reshape(kernel, (-1, kernel.shape[-1]))
    return np.linalg.svd(matrix, compute_uv=False)[0]


def wrapped(layer, input_shape, seed=0):
    keras.utils.set_random_seed(seed)
    sn = SpectralNormalization(layer, name="sn")
    sn.build(input_shape)
    return sn


def iterate(sn, inputs, calls):
    """`calls` training calls (one power iteration each), traced once."""
    training_call = tf.function(lambda: sn(inputs, training=True))
    for _ in range(calls):
        training_call()


@pytest.mark.parametrize("make_layer, input_shape, inputs", [
    (lambda: keras.layers.Dense(5), (None, 7), np.ones((2, 7), "float32")),
    (lambda: keras.layers.Conv2D(6, 3), (None, 5, 5, 4), np.ones((1, 5, 5, 4), "float32")),
    (lambda: keras.layers.Embedding(10, 6), (None,), np.array([1, 2], "int32")),
])
def test_the_normalised_kernel_has_largest_singular_value_one(make_layer, input_shape,
                                                              inputs):
    sn = wrapped(make_layer(), input_shape)
    # A raw kernel whose spectral norm is far from 1, so the check cannot pass by accident.
    shape = sn._kernel_variable().shape
    kernel = 3.0 * np.random.default_rng(0).normal(size=shape).astype("float32")
    sn._kernel_variable().assign(kernel)
    assert largest_singular_value(kernel) > 5.0
    iterate(sn, inputs, 50)
    sigma = largest_singular_value(numpy_of(sn.normalized_kernel()))
    assert abs(sigma - 1.0) <= 1e-2, sigma


def test_dense_output_is_the_input_times_the_kernel_over_its_spectral_norm():
    sn = wrapped(keras.layers.Dense(3, activation="relu"), (None, 4))
    kernel = np.random.default_rng(1).normal(size=(4, 3)).astype("float32")
    bias = np.array([0.1, -0.2, 0.3], "float32")
    sn.layer.set_weights([kernel, bias])
    inputs = np.random.default_rng(2).normal(size=(5, 4)).astype("float32")
    iterate(sn, inputs, 50)
    expected = np.maximum(inputs @ (kernel / largest_singular_value(kernel)) + bias, 0.0)
    np.testing.assert_allclose(numpy_of(sn(inputs)), expected, rtol=1e-4, atol=1e-5)


def test_conv_output_is_a_convolution_with_the_normalised_kernel():
    sn = wrapped(keras.layers.Conv2D(2, 3, padding="same"), (None, 6, 6, 3))
    inputs = np.random.default_rng(3).normal(size=(2, 6, 6, 3)).astype("float32")
    iterate(sn, inputs, 50)
    kernel, bias = (numpy_of(w) for w in sn.layer.weights)
    plain = keras.layers.Conv2D(2, 3, padding="same")
    plain.build((None, 6, 6, 3))
    plain.set_weights([kernel / largest_singular_value(kernel), bias])
    np.testing.assert_allclose(numpy_of(sn(inputs)), numpy_of(plain(inputs)),
                               rtol=1e-4, atol=1e-5)


def test_gradient_goes_through_sigma_as_in_the_paper():
    # Miyato et al. 2018, eq. 12: for y = x W_SN, W_SN = W / sigma, and loss L,
    # dL/dW = (G - <G, W_SN> v u^T) / sigma, G = dL/dW_SN = x^T dL/dy, u and v the
    # singular vectors of the estimate.
    sn = wrapped(keras.layers.Dense(3, use_bias=False), (None, 4))
    kernel = np.random.default_rng(4).normal(size=(4, 3)).astype("float32")
    sn.layer.set_weights([kernel])
    inputs = np.random.default_rng(5).normal(size=(6, 4)).astype("float32")
    upstream = np.random.default_rng(6).normal(size=(6, 3)).astype("float32")
    iterate(sn, inputs, 50)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(sn(inputs) * upstream)
    gradient = tape.gradient(loss, sn.layer.kernel.value).numpy()

    u = numpy_of(sn.vector_u).astype("float64")
    w = kernel.astype("float64")
    sigma = np.linalg.norm(w @ u)
    v = w @ u / sigma
    g = inputs.T.astype("float64") @ upstream
    expected = (g - np.sum(g * w / sigma) * np.outer(v, u)) / sigma
    np.testing.assert_allclose(gradient, expected, rtol=1e-4, atol=1e-6)


def test_only_training_calls_update_u_and_the_kernel_is_never_assigned():
    sn = wrapped(keras.layers.Dense(3), (None, 4))
    inputs = np.ones((2, 4), "float32")
    kernel = numpy_of(sn.layer.kernel).copy()
    u = numpy_of(sn.vector_u).copy()
    inference = numpy_of(sn(inputs))
    np.testing.assert_array_equal(numpy_of(sn.vector_u), u)
    np.testing.assert_array_equal(numpy_of(sn(inputs, training=False)), inference)
    trained = numpy_of(sn(inputs, training=True))
    assert not np.array_equal(numpy_of(sn.vector_u), u)
    np.testing.assert_array_equal(numpy_of(sn.layer.kernel), kernel)
    # Inference uses the estimate the last training call left.
    np.testing.assert_allclose(numpy_of(sn(inputs)), trained, rtol=1e-6)


def test_u_stays_identical_on_every_replica_and_equals_one_device(two_cpu_strategy):
    inputs = np.random.default_rng(7).normal(size=(8, 4)).astype("float32")
    targets = np.random.default_rng(8).normal(size=(8, 3)).astype("float32")

    def build():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((4,)),
                                  SpectralNormalization(keras.layers.Dense(3), name="sn")])
        model.compile(keras.optimizers.SGD(0.1), "mse")
        return model

    single = build()
    with two_cpu_strategy.scope():
        replicated = build()
    replicated.set_weights(single.get_weights())
    for model in (single, replicated):
        model.fit(inputs, targets, batch_size=8, epochs=1, verbose=0, shuffle=False)
    expected = numpy_of(single.get_layer("sn").vector_u)
    copies = two_cpu_strategy.experimental_local_results(
        replicated.get_layer("sn").vector_u.value)
    assert len(copies) == 2
    for copy in copies:
        np.testing.assert_allclose(np.asarray(copy), expected, rtol=1e-5, atol=1e-6)


def test_config_round_trip():
    sn = SpectralNormalization(keras.layers.Dense(3, name="d"), power_iterations=2,
                               name="sn")
    twin = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(sn))
    assert isinstance(twin, SpectralNormalization)
    assert (twin.power_iterations, twin.name, twin.layer.units) == (2, "sn", 3)


@pytest.mark.parametrize("make, message", [
    (lambda: SpectralNormalization(keras.layers.Conv2DTranspose(2, 3)), "Conv2DTranspose"),
    (lambda: SpectralNormalization(keras.layers.ReLU()), "ReLU"),
    (lambda: SpectralNormalization(keras.layers.Dense(2), power_iterations=0),
     "power_iterations=0"),
])
def test_bad_arguments_are_one_clear_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()
