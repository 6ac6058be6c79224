"""SAGAN (ganzoo.models.SAGAN): the shared family checks and the paper's own points.

Hand computations: the projection discriminator's logit is the unconditional logit plus
<SN-embedding(y), pooled features>; conditional batch norm is batch norm (no own scale or
offset) times the class's scale plus the class's offset. The layers' own hand computations
(softmax(QK^T)V, largest singular value 1) are in tests/layers.
"""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import ganzoo
from ganzoo import losses, models

import family_helpers
from cli_helpers import assert_error_line, ganzoo as ganzoo_command, ganzoo_cli_inprocess

# Tiny constructor arguments for the shared family checks (tests/models/test_models.py's
# TINY table). attention_gamma_init is not the paper's 0: with gamma = 0 the attention
# block's convolutions get no gradient in a first step (the block's output is multiplied
# by gamma), and the shared checks ask every weight to move in one step.
TINY_SAGAN = dict(image_shape=(16, 16, 1), latent_dim=8, generator_filters=4,
                  discriminator_filters=4, attention_resolution=8, attention_gamma_init=0.5)


def tiny(**overrides):
    return models.SAGAN(**{**TINY_SAGAN, "seed": 1, **overrides})


def random_images(n, shape=(16, 16, 1), seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, *shape)).astype("float32")


def numpy_of(x):
    return keras.ops.convert_to_numpy(x)


class LabelledByImageSAGAN(models.SAGAN):
    """Conditional test double: each image's label is a fixed function of its pixels, so a
    run on N replicas gives every image the label one device gives it (the shared checks
    feed images only)."""

    def unpack_batch(self, data):
        images, _ = models.SAGAN.unpack_batch(data)
        totals = tf.round(tf.reduce_sum(images, axis=[1, 2, 3]) * 10.0)
        labels = tf.cast(tf.math.floormod(totals, float(self.num_classes)), tf.int32)
        return images, labels


# -- shapes, architecture, gradients, config, presets --------------------------------------


def test_generator_and_discriminator_shapes_and_inputs_named_by_role():
    gan = tiny()
    assert [t.name for t in gan.generator.inputs] == ["latent"]
    images = gan.generator(np.zeros((3, 8), "float32"))
    assert images.shape == (3, 16, 16, 1) and np.all(np.abs(images) <= 1.0)
    assert gan.discriminator(images).shape == (3, 1)

    conditional = tiny(num_classes=3)
    assert [t.name for t in conditional.generator.inputs] == ["latent", "label"]
    labels = np.array([0, 1, 2], "int32")
    images = numpy_of(conditional.generator([np.zeros((3, 8), "float32"), labels]))
    assert images.shape == (3, 16, 16, 1)
    assert conditional.discriminator([images, labels]).shape == (3, 1)


@pytest.mark.parametrize("resolution", [8, 16])
def test_attention_sits_at_the_chosen_resolution_in_both_networks(resolution):
    gan = models.SAGAN(image_shape=(32, 32, 1), latent_dim=4, generator_filters=2,
                       discriminator_filters=2, attention_resolution=resolution)
    for network in (gan.generator, gan.discriminator):
        blocks = [layer for layer in network.layers
                  if isinstance(layer, ganzoo.layers.SelfAttention)]
        assert len(blocks) == 1, network.name
        assert tuple(blocks[0].output.shape[1:3]) == (resolution, resolution)
        assert blocks[0].spectral_norm
        assert float(numpy_of(blocks[0].gamma)) == 0.0  # the paper's start: the identity


def test_every_convolution_and_dense_layer_of_both_networks_is_spectrally_normalised():
    gan = tiny(num_classes=3)
    for network in (gan.generator, gan.discriminator):
        wrapped = [layer for layer in network.layers
                   if isinstance(layer, ganzoo.layers.SpectralNormalization)]
        bare = [layer.name for layer in network.layers
                if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))]
        assert wrapped and bare == [], network.name
    # The projection's class embedding is normalised too; conditional batch norm's
    # per-class scales and offsets are not (they are gains, as in the authors' code).
    assert isinstance(gan.discriminator.get_layer("class_embedding_sn"),
                      ganzoo.layers.SpectralNormalization)


def test_one_fit_step_of_the_conditional_model_updates_every_weight():
    # The unconditional model is checked by tests/models/test_models.py (TINY table).
    gan = tiny(num_classes=3)
    gan.compile(keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-2))
    variables = gan.generator.trainable_variables + gan.discriminator.trainable_variables
    before = [v.numpy().copy() for v in variables]
    data = (random_images(8), np.arange(8, dtype="int32") % 3)
    history = gan.fit(tf.data.Dataset.from_tensor_slices(data).batch(8), epochs=1, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss"}
    assert all(np.isfinite(values[-1]) for values in history.history.values())
    unchanged = [v.path for v, old in zip(variables, before) if np.array_equal(old, v.numpy())]
    assert unchanged == []


def test_config_round_trip_and_bad_arguments():
    gan = tiny(num_classes=4)
    clone = models.SAGAN.from_config(gan.get_config())
    assert clone.get_config() == gan.get_config()
    assert gan.get_config()["attention_resolution"] == 8
    assert gan.get_config()["num_classes"] == 4
    for kwargs, message in [
        (dict(attention_resolution=16), r"one of \[8\]. Received: attention_resolution=16"),
        (dict(attention_resolution=4), "attention_resolution"),
        (dict(image_shape=(24, 24, 1)), "power-of-two"),
        (dict(num_classes=0), "num_classes"),
        (dict(generator_filters=0), "generator_filters"),
        (dict(attention_gamma_init="a"), "attention_gamma_init must be a number"),
    ]:
        with pytest.raises(ValueError, match=message):
            tiny(**kwargs)


def test_preset_round_trip_reproduces_both_networks_and_the_spectral_norm_state(tmp_path):
    gan = tiny(num_classes=3)
    gan.compile()
    # Training calls move the spectral-norm vectors and the moving statistics away from
    # their initial values: the preset must keep them.
    labels = np.array([0, 1, 2, 0], "int32")
    fakes = numpy_of(gan.generator([ganzoo._sampling.latents(4, 8, seed=9), labels],
                                   training=True))
    gan.discriminator([fakes, labels], training=True)
    path = gan.save_to_preset(tmp_path / "p", data="digits")
    loaded = models.SAGAN.from_preset(path)
    assert loaded.get_config() == gan.get_config() and loaded.conditional
    inputs = [ganzoo._sampling.latents(4, 8, seed=0), np.array([0, 1, 2, 0], "int32")]
    np.testing.assert_allclose(loaded.generator(inputs), gan.generator(inputs), atol=1e-6)
    images = random_images(2)
    labels = np.array([1, 2], "int32")
    np.testing.assert_allclose(loaded.discriminator([images, labels]),
                               gan.discriminator([images, labels]), atol=1e-6)
    np.testing.assert_allclose(ganzoo.load_generator(path)(inputs), gan.generator(inputs),
                               atol=1e-6)


# -- the paper's defaults and conditioning -------------------------------------------------


def test_compile_defaults_are_hinge_loss_and_two_time_scale_adam():
    gan = tiny()
    gan.compile()
    assert gan.loss_name == "hinge"
    assert (gan.d_loss_fn, gan.g_loss_fn) == (losses.hinge_discriminator_loss,
                                              losses.hinge_generator_loss)
    for optimizer, rate in ((gan.g_optimizer, 1e-4), (gan.d_optimizer, 4e-4)):
        assert isinstance(optimizer, keras.optimizers.Adam)
        assert float(optimizer.learning_rate) == pytest.approx(rate)
        assert (optimizer.beta_1, optimizer.beta_2) == (0.0, 0.9)
    defaults = models.SAGAN.__init__.__signature__.parameters
    assert defaults["attention_gamma_init"].default == 0.0
    assert defaults["num_classes"].default is None


def test_projection_logit_is_the_plain_logit_plus_embedding_dot_features():
    gan = tiny(num_classes=3)
    discriminator = gan.discriminator
    images = random_images(4, seed=5)
    labels = np.array([0, 1, 2, 1], "int32")
    features = numpy_of(keras.Model(discriminator.inputs,
                                    discriminator.get_layer("sum_pool").output)(
        [images, labels]))
    weights = numpy_of(discriminator.get_layer("logit_sn").normalized_kernel())
    embeddings = numpy_of(discriminator.get_layer("class_embedding_sn").normalized_kernel())
    expected = features @ weights + np.sum(embeddings[labels] * features, axis=1,
                                           keepdims=True)
    np.testing.assert_allclose(numpy_of(discriminator([images, labels])), expected,
                               rtol=1e-4, atol=1e-5)


def test_conditional_batch_norm_scales_and_shifts_by_class():
    gan = tiny(num_classes=3)
    generator = gan.generator
    scale = np.array([[1.0, 2.0, 0.5, 1.5, 1.0, 1.0, 3.0, 0.2]] * 3, "float32")
    scale[1] *= -1.0
    offset = np.arange(24, dtype="float32").reshape(3, 8) / 10.0
    generator.get_layer("up8_bn1_scale").set_weights([scale])
    generator.get_layer("up8_bn1_offset").set_weights([offset])
    latents = ganzoo._sampling.latents(6, 8, seed=2)
    labels = np.array([0, 1, 2, 2, 1, 0], "int32")
    probe = keras.Model(generator.inputs, [generator.get_layer("up8_bn1").output,
                                           generator.get_layer("up8_bn1_shifted").output])
    normalised, conditioned = (numpy_of(x) for x in probe([latents, labels]))
    expected = normalised * scale[labels][:, None, None, :] + offset[labels][:, None, None, :]
    np.testing.assert_allclose(conditioned, expected, rtol=1e-5, atol=1e-6)


def test_conditional_samples_follow_the_labels_and_the_class_attribute_stays_false():
    gan = tiny(num_classes=3)
    assert gan.conditional and models.SAGAN.conditional is False
    assert type(tiny()).conditional is False and not tiny().conditional
    # A visible conditioning: class 1 shifts the last batch norm far up.
    gan.generator.get_layer("out_bn_offset").set_weights(
        [np.array([[0.0] * 4, [5.0] * 4, [-5.0] * 4], "float32")])
    class_one = gan.sample(4, seed=0, labels=1)
    np.testing.assert_array_equal(class_one, gan.sample(4, seed=0, labels=1))
    assert not np.array_equal(class_one, gan.sample(4, seed=0, labels=2))
    drawn = gan.generate(5, seed=3)
    np.testing.assert_allclose(gan.generate(5, seed=3, batch_size=2), drawn, atol=1e-5)
    latents = ganzoo._sampling.latents(5, 8, seed=3)
    labels = ganzoo._sampling.labels_for(5, 3, seed=3)
    np.testing.assert_allclose(gan.generator([latents, labels], training=False), drawn,
                               atol=1e-6)
    with pytest.raises(ValueError, match=r"Labels must lie in \[0, 2\]"):
        gan.sample(2, labels=3)
    with pytest.raises(ValueError, match="unconditional"):
        tiny().sample(2, labels=1)


def test_a_conditional_model_given_images_only_is_one_clear_error():
    gan = tiny(num_classes=3)
    gan.compile()
    with pytest.raises(ValueError, match=r"SAGAN\(num_classes=3\) is conditional and trains "
                                         r"on \(images, labels\) batches"):
        gan.fit(tf.data.Dataset.from_tensor_slices(random_images(8)).batch(8), verbose=0)


def test_cli_trains_a_conditional_sagan_on_labelled_data_only(tmp_path):
    """`--model-option num_classes=K` makes the run load (images, labels) batches."""
    import json

    common = ["--image-size", "16", "--batch-size", "8", "--latent-dim", "8", "--steps", "1",
              "--model-option", "generator_filters=2", "--model-option",
              "discriminator_filters=2", "--model-option", "attention_resolution=8",
              "--model-option", "num_classes=10", "--samples", "4"]
    result = ganzoo_cli_inprocess(["train", "sagan", "--data", "digits", *common,
                                   "--out", tmp_path / "run"])
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "run" / "preset" / "config.json").read_text())
    assert config["num_classes"] == 10
    assert config["class_names"] == [str(digit) for digit in range(10)]
    result = ganzoo_cli_inprocess(["train", "sagan", "--data", "textures/grass", *common,
                                   "--out", tmp_path / "grass"])
    assert_error_line(result, "has no labels")


def test_exported_conditional_generator_samples_what_keras_samples(tmp_path):
    gan = tiny(num_classes=3)
    metadata = ganzoo.export.to_onnx(gan, tmp_path / "bundle")
    assert [(entry["name"], entry["role"]) for entry in metadata["inputs"]] == [
        ("latent", "latent"), ("label", "label")]
    assert metadata["parity"]["max_abs_diff"] <= 1e-4
    generator = ganzoo.runtime.load(tmp_path / "bundle")
    for labels in (None, 2, [0, 1, 2, 0, 1]):
        bundle_images = generator.sample(5, seed=4, labels=labels).astype(int)
        keras_images = gan.sample(5, seed=4, labels=labels).astype(int)
        assert np.abs(bundle_images - keras_images).max() <= 1


# -- the shared family checks --------------------------------------------------------------


@pytest.mark.slow
def test_discriminator_learns_real_above_fake_and_generator_raises_fake_logits():
    family_helpers.check_direction(models.SAGAN, {**TINY_SAGAN, "seed": 1})


@pytest.mark.slow
def test_conditional_discriminator_and_generator_learn_in_the_right_direction():
    family_helpers.check_direction(LabelledByImageSAGAN,
                                   {**TINY_SAGAN, "num_classes": 3, "seed": 1})


@pytest.mark.slow
def test_one_sgd_step_on_two_replicas_equals_one_step_on_one_device(two_cpu_strategy):
    report = family_helpers.check_equal_weights_under_distribution(
        models.SAGAN, {**TINY_SAGAN, "seed": 1}, two_cpu_strategy)
    # The spectral-norm vectors are among the weights checked (moved, equal everywhere).
    vectors = [path for path in report["weights"] if path.endswith("vector_u")]
    assert vectors and all(report["weights"][p]["step"] > 0 for p in vectors)


@pytest.mark.slow
def test_conditional_step_on_two_replicas_equals_one_step_on_one_device(two_cpu_strategy):
    family_helpers.check_equal_weights_under_distribution(
        LabelledByImageSAGAN, {**TINY_SAGAN, "num_classes": 3, "seed": 1}, two_cpu_strategy)


# -- end to end ----------------------------------------------------------------------------

TINY_TRAIN_SAGAN = ["--data", "digits", "--image-size", "16", "--batch-size", "16",
                    "--latent-dim", "8", "--model-option", "generator_filters=4",
                    "--model-option", "discriminator_filters=4",
                    "--model-option", "attention_resolution=8",
                    "--model-option", "attention_gamma_init=0.5", "--samples", "16"]


def read_png(path):
    return np.asarray(Image.open(path)).astype(int)


@pytest.mark.slow
def test_train_sample_export_and_sample_the_bundle(tmp_path):
    run = tmp_path / "run"
    ganzoo_command("train", "sagan", *TINY_TRAIN_SAGAN, "--steps", "4", "--out", run)
    config = json.loads((run / "preset" / "config.json").read_text())
    assert config["family"] == "sagan" and config["config"]["attention_resolution"] == 8

    ganzoo_command("sample", run, "-n", "16", "--seed", "3", "--out", tmp_path / "keras.png")
    result = ganzoo_command("export", run, "--format", "onnx", "--out", tmp_path / "bundle")
    metadata = json.loads((tmp_path / "bundle" / "ganzoo.json").read_text())
    assert metadata["family"] == "sagan"
    assert metadata["parity"]["max_abs_diff"] <= 1e-4, result.stdout
    ganzoo_command("sample", tmp_path / "bundle", "-n", "16", "--seed", "3",
                   "--out", tmp_path / "onnx.png")
    keras_grid, onnx_grid = read_png(tmp_path / "keras.png"), read_png(tmp_path / "onnx.png")
    assert keras_grid.shape == onnx_grid.shape
    assert np.abs(keras_grid - onnx_grid).max() <= 1
    assert keras_grid.std() > 0
