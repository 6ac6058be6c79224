"""Class conditioning (ganzoo/layers/conditioning.py) and global sum pooling
(ganzoo/layers/pooling.py) against hand computations in NumPy.

Conditional batch norm normalises with the batch's statistics, then scales and shifts
each channel by the example's class's gamma and beta; the projection term is
sum(embedding[y] * phi); global sum pooling sums over height and width.
"""

import json

import keras
import numpy as np
import pytest

from ganzoo.layers import (
    ClassProjection,
    FeatureWiseAffine,
    GlobalSumPooling2D,
    ReflectionPadding2D,
    conditional_batch_norm,
    label_input,
    projection_logit,
)


def numpy_of(x):
    return keras.ops.convert_to_numpy(x)


# Three classes, two channels: distinct scales and offsets per class and channel.
GAMMA = np.array([[1.0, 2.0], [-0.5, 3.0], [0.25, -1.0]], "float32")
BETA = np.array([[0.0, 1.0], [10.0, -2.0], [-3.0, 0.5]], "float32")


def conditional_batch_norm_model(name="cbn", **names):
    features = keras.Input((2, 3, 2), name="features")
    label = label_input()
    out = conditional_batch_norm(features, label, 3, name, **names)
    model = keras.Model([features, label], out)
    model.get_layer(names.get("gamma_name", f"{name}_gamma")).set_weights([GAMMA])
    model.get_layer(names.get("beta_name", f"{name}_beta")).set_weights([BETA])
    return model


def test_conditional_batch_norm_uses_batch_statistics_and_the_class_gamma_and_beta():
    x = np.random.default_rng(0).normal(2.0, 3.0, (4, 2, 3, 2)).astype("float32")
    labels = np.array([2, 0, 1, 2], "int32")
    model = conditional_batch_norm_model()
    # Before any update the moving statistics are mean 0, variance 1: inference only
    # scales and shifts (x / sqrt(1 + epsilon)).
    gamma, beta = GAMMA[labels][:, None, None, :], BETA[labels][:, None, None, :]
    inference = numpy_of(model([x, labels], training=False))
    np.testing.assert_allclose(inference, x / np.sqrt(1.0 + 1e-3) * gamma + beta, rtol=1e-5,
                               atol=1e-5)
    # Statistics of the batch, per channel, over batch, height and width (biased variance);
    # Keras' batch-norm epsilon is 1e-3.
    mean = x.mean(axis=(0, 1, 2))
    variance = ((x - mean) ** 2).mean(axis=(0, 1, 2))
    normalised = (x - mean) / np.sqrt(variance + 1e-3)
    expected = normalised * gamma + beta
    got = numpy_of(model([x, labels], training=True))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    # Example 0 is class 2: channel 1 is -1 * normalised + 0.5.
    np.testing.assert_allclose(got[0, :, :, 1], -normalised[0, :, :, 1] + 0.5, rtol=1e-5,
                               atol=1e-5)


def test_conditional_batch_norm_layers_start_as_plain_batch_norm_and_take_their_names():
    features = keras.Input((2, 3, 2))
    label = label_input()
    out = conditional_batch_norm(features, label, 3, "up8_bn1", norm_name="up8_bn1",
                                 gamma_name="up8_bn1_scale", beta_name="up8_bn1_offset",
                                 output_name="up8_bn1_shifted")
    model = keras.Model([features, label], out)
    norm = model.get_layer("up8_bn1")
    assert isinstance(norm, keras.layers.BatchNormalization)
    assert norm.synchronized and not norm.center and not norm.scale
    np.testing.assert_array_equal(model.get_layer("up8_bn1_scale").get_weights()[0],
                                  np.ones((3, 2)))
    np.testing.assert_array_equal(model.get_layer("up8_bn1_offset").get_weights()[0],
                                  np.zeros((3, 2)))
    assert isinstance(model.get_layer("up8_bn1_shifted"), FeatureWiseAffine)
    default = conditional_batch_norm_model("project")
    assert [layer.name for layer in default.layers if layer.weights] == [
        "project_bn", "project_gamma", "project_beta"]
    assert default.layers[-1].name == "project_shift"


def test_feature_wise_affine_scales_and_shifts_each_example_and_channel():
    x = np.arange(2 * 1 * 2 * 3, dtype="float32").reshape(2, 1, 2, 3)
    gamma = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 0.5]], "float32")
    beta = np.array([[0.0, 0.0, 1.0], [2.0, 2.0, 2.0]], "float32")
    got = numpy_of(FeatureWiseAffine()([x, gamma, beta]))
    # By hand: example 0 is [[0, 1, 2], [3, 4, 5]] -> [[0, 2, 7], [3, 8, 16]];
    # example 1 is [[6, 7, 8], [9, 10, 11]] -> [[-4, 2, 6], [-7, 2, 7.5]].
    np.testing.assert_array_equal(got[:, 0], [[[0, 2, 7], [3, 8, 16]],
                                              [[-4, 2, 6], [-7, 2, 7.5]]])
    # Any rank: (B, C) features take one scale and offset per example and channel.
    np.testing.assert_array_equal(numpy_of(FeatureWiseAffine()([x[:, 0, 0], gamma, beta])),
                                  x[:, 0, 0] * gamma + beta)


# Three classes, three features.
EMBEDDING = np.array([[1.0, 0.0, 2.0], [0.0, -1.0, 1.0], [0.5, 0.5, 0.5]], "float32")
PHI = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], "float32")


def test_class_projection_is_the_inner_product_of_the_class_embedding_and_the_features():
    labels = np.array([1, 0])
    got = numpy_of(ClassProjection()([EMBEDDING[labels], PHI]))
    # By hand: <E[1], phi_0> = 0 - 2 + 3 = 1, <E[0], phi_1> = 4 + 0 + 12 = 16.
    np.testing.assert_array_equal(got, [[1.0], [16.0]])
    np.testing.assert_allclose(got, np.sum(EMBEDDING[labels] * PHI, axis=1, keepdims=True))


def test_projection_logit_adds_the_projection_on_the_label_embedding_to_the_logit():
    logit = keras.Input((1,), name="psi")
    features = keras.Input((3,), name="phi")
    label = label_input()
    embedding = keras.layers.Embedding(3, 3, name="embed")
    model = keras.Model([logit, features, label],
                        projection_logit(logit, features, label, embedding, dtype="float32"))
    embedding.set_weights([EMBEDDING])
    psi = np.array([[0.5], [-1.0]], "float32")
    labels = np.array([1, 2], "int32")
    got = numpy_of(model([psi, PHI, labels]))
    # By hand: 0.5 + <E[1], phi_0> = 0.5 + 1 = 1.5; -1 + <E[2], phi_1> = -1 + 7.5 = 6.5.
    np.testing.assert_array_equal(got, [[1.5], [6.5]])
    np.testing.assert_allclose(got, psi + np.sum(EMBEDDING[labels] * PHI, axis=1,
                                                 keepdims=True))
    assert model.get_layer("projection").dtype_policy.name == "float32"
    assert model.layers[-1].name == "logit"


def test_global_sum_pooling_sums_over_height_and_width():
    x = np.arange(2 * 2 * 3 * 2, dtype="float32").reshape(2, 2, 3, 2)
    got = numpy_of(GlobalSumPooling2D()(x))
    # By hand: example 0, channel 0 is 0 + 2 + 4 + 6 + 8 + 10 = 30, channel 1 is 36;
    # example 1 adds 12 to each of its six values: 102 and 108.
    np.testing.assert_array_equal(got, [[30.0, 36.0], [102.0, 108.0]])
    np.testing.assert_array_equal(got, x.sum(axis=(1, 2)))
    assert GlobalSumPooling2D().compute_output_shape((None, 5, 7, 4)) == (None, 4)


@pytest.mark.parametrize("layer, registered", [
    (FeatureWiseAffine(name="affine"), "ganzoo>FeatureWiseAffine"),
    (ClassProjection(name="projection"), "ganzoo>ClassProjection"),
    (GlobalSumPooling2D(name="sum_pool"), "ganzoo>GlobalSumPooling2D"),
    # Its registered name from before the move to ganzoo/layers/padding.py.
    (ReflectionPadding2D(2, name="pad"), "ganzoo>ReflectionPadding2D"),
])
def test_layers_are_registered_with_keras_serialization(layer, registered):
    assert keras.saving.get_registered_name(type(layer)) == registered
    config = json.loads(json.dumps(keras.saving.serialize_keras_object(layer)))
    twin = keras.saving.deserialize_keras_object(config)
    assert type(twin) is type(layer) and twin.name == layer.name


def test_a_saved_conditional_network_config_loads_and_computes_the_same():
    model = conditional_batch_norm_model()
    twin = keras.Model.from_config(json.loads(json.dumps(model.get_config())))
    twin.set_weights(model.get_weights())
    x = np.random.default_rng(1).normal(size=(3, 2, 3, 2)).astype("float32")
    labels = np.array([0, 1, 2], "int32")
    np.testing.assert_array_equal(numpy_of(twin([x, labels], training=True)),
                                  numpy_of(model([x, labels], training=True)))
