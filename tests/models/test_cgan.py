"""ConditionalGAN (`cgan`): projection discriminator, conditional batch norm, labels
everywhere (Python, CLI, bundle)."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import ganzoo
from ganzoo import _imaging, _sampling, models, presets

import family_helpers
from cli_helpers import TINY_TRAIN, assert_one_line_error, ganzoo as ganzoo_cli
from cli_helpers import ganzoo_cli_inprocess

# Tiny constructor arguments for the shared family checks (test_models.TINY["cgan"]).
TINY_CGAN = dict(num_classes=3, image_shape=(16, 16, 1), latent_dim=8, generator_filters=4,
                 discriminator_filters=4)


def tiny(**overrides):
    return models.ConditionalGAN(**{**TINY_CGAN, "seed": 1, **overrides})


def steered(gan, seed=2):
    """`gan` with random class scales and offsets: a fresh generator ignores the label
    (every class starts with scale 1 and offset 0), a trained one does not."""
    rng = np.random.default_rng(seed)
    for layer in gan.generator.layers:
        if layer.name.endswith(("_gamma", "_beta")):
            layer.embeddings.assign(
                rng.normal(1.0 if layer.name.endswith("_gamma") else 0.0, 0.5,
                           size=layer.embeddings.shape).astype("float32"))
    return gan


def random_images(n, shape=(16, 16, 1), seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, *shape)).astype("float32")


def labelled(images, labels, batch_size):
    return tf.data.Dataset.from_tensor_slices(
        (images, np.asarray(labels, np.int32))).batch(batch_size)


# -- the shared family checks, with labels fed per replica ------------------------------


def digit_labels(n, seed=0):
    """The classes of `family_helpers.digits(n, ..., seed)`, in the same order."""
    from sklearn.datasets import load_digits

    targets = load_digits().target
    order = np.random.default_rng(seed).permutation(len(targets))[:n]
    return targets[order].astype(np.int32)


def fed_labels(num_classes, n=16, seed=0):
    """ConditionalGAN whose batches carry the digits' labels, sliced per replica.

    The shared checks feed image-only batches (`family_helpers.digits`); this subclass
    gives each replica the labels of its rows of the global batch (replica 0 the first
    rows), so one device and several replicas see the same (image, label) pairs. The
    digits' classes are taken modulo `num_classes`.
    """
    feed = digit_labels(n, seed) % num_classes

    class FedLabels(models.ConditionalGAN):
        def unpack_batch(self, data):
            images, _ = models.ConditionalGAN.unpack_batch(data)
            context = tf.distribute.get_replica_context()
            replica_id = 0 if context is None else int(
                tf.get_static_value(context.replica_id_in_sync_group))
            batch = tf.shape(images)[0]
            start = replica_id * batch
            return images, tf.constant(feed)[start : start + batch]

    return FedLabels


def test_discriminator_learns_real_above_fake_and_generator_raises_fake_logits():
    family_helpers.check_direction(fed_labels(3), {**TINY_CGAN, "seed": 1})


def test_one_sgd_step_on_two_replicas_equals_one_step_on_one_device(two_cpu_strategy):
    # With the hinge loss, one step from initialisation leaves psi's bias where it is:
    # every logit starts inside the margin, so its gradient is (fakes - reals) / B = 0 and
    # the check's "every weight moves" cannot hold. The step's distribution arithmetic
    # does not depend on the loss; the non-saturating one moves every weight.
    class NonSaturating(fed_labels(3)):
        default_loss = "non_saturating"

    # A step of 0.05: with the default 1.0, the spectrally normalised ReLU discriminator's
    # first update leaves every unit dead on the fakes, and the generator gets no gradient.
    report = family_helpers.check_equal_weights_under_distribution(
        NonSaturating, {**TINY_CGAN, "seed": 1}, two_cpu_strategy, learning_rate=0.05)
    # The class embeddings are among the weights that must agree.
    assert any("embed" in path for path in report["weights"])
    assert any("gamma" in path for path in report["weights"])


# -- shapes, gradients, config --------------------------------------------------------


def test_networks_take_named_latent_image_and_int_label_inputs():
    gan = tiny()
    assert [t.name for t in gan.generator.inputs] == ["latent", "label"]
    assert [t.name for t in gan.discriminator.inputs] == ["images", "label"]
    assert [t.name for t in tiny(discriminator_type="dcgan").discriminator.inputs] == [
        "image", "label"]
    assert gan.generator.inputs[1].dtype == "int32" and gan.generator.inputs[1].shape == (None,)
    latents = _sampling.latents(3, 8, seed=0)
    images = gan.generator([latents, np.array([0, 1, 2], np.int32)])
    assert images.shape == (3, 16, 16, 1)
    assert np.all(np.abs(images) <= 1.0)
    logits = gan.discriminator([images.numpy(), np.array([0, 1, 2], np.int32)])
    assert logits.shape == (3, 1) and np.isfinite(logits).all()
    assert gan.conditional and gan.num_classes == 3


def test_one_fit_step_updates_every_weight_of_both_networks():
    gan = tiny()
    # Non-saturating: under the hinge loss psi's bias gets no gradient while every logit
    # is inside the margin, as all are at first (see the equal-weights test).
    gan.compile(keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-2),
                loss="non_saturating")
    variables = gan.generator.trainable_variables + gan.discriminator.trainable_variables
    before = {v.path: v.numpy().copy() for v in variables}
    history = gan.fit(labelled(random_images(16), np.arange(16) % 3, 8), epochs=1, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss"}
    assert all(np.isfinite(values[0]) for values in history.history.values())
    unchanged = [v.path for v in variables if np.array_equal(before[v.path], v.numpy())]
    assert unchanged == []


def test_config_round_trip_rebuilds_the_same_architecture():
    gan = tiny()
    config = gan.get_config()
    assert config == {"num_classes": 3, "image_shape": [16, 16, 1], "latent_dim": 8,
                      "generator_filters": 4, "discriminator_filters": 4, "seed": 1,
                      "name": "cgan", "discriminator_type": "sn_resnet"}
    clone = models.ConditionalGAN.from_config(config)
    assert clone.get_config() == config
    assert [w.shape for w in clone.generator.weights] == [w.shape for w in gan.generator.weights]
    assert [w.shape for w in clone.discriminator.weights] == [
        w.shape for w in gan.discriminator.weights]
    # A config saved before the paper's discriminator existed (format 1 presets) has no
    # discriminator_type: it describes the first, DCGAN-style one, and loads as that.
    legacy = dict(config)
    del legacy["discriminator_type"]
    old = models.ConditionalGAN.from_config(legacy)
    assert old.discriminator_type == "dcgan" and old.discriminator.get_layer("psi")
    with pytest.raises(ValueError, match="discriminator_type must be one of sn_resnet, dcgan"):
        tiny(discriminator_type="resnet")


def test_registry_and_defaults():
    assert models.get("cgan") is models.ConditionalGAN
    gan = tiny()
    gan.compile()
    assert gan.loss_name == "hinge"  # the paper's loss


@pytest.mark.parametrize("kwargs,message", [
    (dict(num_classes=None), "needs num_classes"),
    (dict(num_classes=0), "num_classes must be a positive integer. Received: num_classes=0"),
    (dict(num_classes=2.5), "Received: num_classes=2.5"),
    (dict(image_shape=(24, 24, 1)), "power-of-two"),
    (dict(image_shape=(32, 16, 1)), "square"),
    (dict(latent_dim=0), "latent_dim"),
    (dict(generator_filters=-1), "generator_filters"),
])
def test_bad_arguments_are_one_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        models.ConditionalGAN(**{**TINY_CGAN, **kwargs})


def test_training_on_images_without_labels_is_one_clear_error():
    gan = tiny()
    gan.compile()
    data = tf.data.Dataset.from_tensor_slices(random_images(8)).batch(4)
    with pytest.raises(ValueError, match=r"labels=True"):
        gan.fit(data, epochs=1, verbose=0)


# -- the paper's pieces, by hand --------------------------------------------------------


def test_the_papers_discriminator_projects_spectrally_normalised_sum_pooled_features():
    """Miyato & Koyama 2018: phi(x) is the global sum of ReLU features of an SN ResNet
    without batch norm; D(x, y) = psi(phi(x)) + <V[y], phi(x)>, psi and V normalised."""
    gan = tiny()
    discriminator = gan.discriminator
    kinds = {type(layer).__name__ for layer in discriminator.layers}
    assert "BatchNormalization" not in kinds and "GlobalSumPooling2D" in kinds
    for layer in discriminator.layers:
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense, keras.layers.Embedding)):
            raise AssertionError(f"{layer.name} is not spectrally normalised")
    embed = discriminator.get_layer("class_embedding_sn")
    embed.layer.embeddings.assign(
        np.random.default_rng(0).normal(size=embed.layer.embeddings.shape).astype("float32"))
    images = random_images(4)
    phi = keras.Model(discriminator.inputs, discriminator.get_layer("sum_pool").output)
    features = phi([images, np.zeros(4, np.int32)], training=False)
    psi = discriminator.get_layer("logit_sn")(features, training=False).numpy()[:, 0]
    for label in range(3):
        labels = np.full(4, label, np.int32)
        vectors = embed(labels, training=False).numpy()
        expected = psi + np.sum(features.numpy() * vectors, axis=1)
        logits = discriminator([images, labels], training=False).numpy()[:, 0]
        np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)
    gan.compile()
    for optimizer in (gan.g_optimizer, gan.d_optimizer):  # Adam(2e-4, betas (0, 0.9))
        assert (float(optimizer.learning_rate), optimizer.beta_1, optimizer.beta_2) == (
            pytest.approx(2e-4), 0.0, 0.9)


def test_the_first_discriminator_is_psi_of_features_plus_projection_on_the_class_embedding():
    gan = tiny(discriminator_type="dcgan")
    rng = np.random.default_rng(0)
    discriminator = gan.discriminator
    # Give the class embedding distinct rows (it starts near zero).
    embed = discriminator.get_layer("embed")
    embed.embeddings.assign(rng.normal(size=embed.embeddings.shape).astype("float32"))
    images = random_images(4)
    phi = keras.Model(discriminator.inputs, discriminator.get_layer("features").output)
    features = phi([images, np.zeros(4, np.int32)], training=False).numpy()
    kernel, bias = (w.numpy() for w in discriminator.get_layer("psi").weights)
    vectors = embed.embeddings.numpy()
    for label in range(3):
        labels = np.full(4, label, np.int32)
        logits = discriminator([images, labels], training=False).numpy()[:, 0]
        expected = features @ kernel[:, 0] + bias[0] + features @ vectors[label]
        np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)
    # The label enters only through the inner product: swapping classes changes the score
    # by <V[a] - V[b], phi(x)>.
    difference = (discriminator([images, np.zeros(4, np.int32)], training=False)
                  - discriminator([images, np.ones(4, np.int32)], training=False)).numpy()[:, 0]
    np.testing.assert_allclose(difference, features @ (vectors[0] - vectors[1]), rtol=1e-4,
                               atol=1e-4)


def test_generator_batch_norm_scales_and_shifts_by_class():
    gan = tiny()
    generator = gan.generator
    rng = np.random.default_rng(1)
    bn = generator.get_layer("project_bn")
    gamma = generator.get_layer("project_gamma").embeddings
    beta = generator.get_layer("project_beta").embeddings
    # Conditional: the scale starts at 1 and the offset at 0 for every class.
    np.testing.assert_array_equal(gamma.numpy(), 1.0)
    np.testing.assert_array_equal(beta.numpy(), 0.0)
    assert not bn.center and not bn.scale and bn.synchronized
    gamma.assign(rng.normal(size=gamma.shape).astype("float32"))
    beta.assign(rng.normal(size=beta.shape).astype("float32"))
    bn.moving_mean.assign(rng.normal(size=bn.moving_mean.shape).astype("float32"))
    bn.moving_variance.assign(rng.uniform(0.5, 2, size=bn.moving_variance.shape)
                              .astype("float32"))
    latents = _sampling.latents(4, 8, seed=3)
    labels = np.array([0, 1, 2, 1], np.int32)
    before = keras.Model(generator.inputs, generator.get_layer("reshape").output)
    after = keras.Model(generator.inputs, generator.get_layer("project_shift").output)
    x = before([latents, labels], training=False).numpy()
    normalised = (x - bn.moving_mean.numpy()) / np.sqrt(bn.moving_variance.numpy()
                                                         + bn.epsilon)
    expected = (normalised * gamma.numpy()[labels][:, None, None, :]
                + beta.numpy()[labels][:, None, None, :])
    np.testing.assert_allclose(after([latents, labels], training=False), expected,
                               rtol=1e-4, atol=1e-4)


def test_generator_joins_the_class_embedding_to_the_latent():
    gan = tiny()
    generator = gan.generator
    table = generator.get_layer("label_embedding").embeddings.numpy()
    assert table.shape == (3, 8)
    assert len({tuple(row) for row in table}) == 3  # a distinct vector per class
    latents, labels = _sampling.latents(4, 8, seed=1), np.array([2, 2, 0, 1], np.int32)
    joined = keras.Model(generator.inputs, generator.get_layer("latent_and_label").output)
    np.testing.assert_allclose(joined([latents, labels]),
                               np.concatenate([latents, table[labels]], axis=1), rtol=1e-6)


def test_the_label_steers_the_generator():
    gan = steered(tiny())
    latents = _sampling.latents(4, 8, seed=0)
    zeros = gan.generator([latents, np.zeros(4, np.int32)], training=False).numpy()
    twos = gan.generator([latents, np.full(4, 2, np.int32)], training=False).numpy()
    assert np.abs(zeros - twos).max() > 1e-3
    np.testing.assert_array_equal(
        zeros, gan.generator([latents, np.zeros(4, np.int32)], training=False).numpy())


def test_fakes_are_made_for_the_real_batch_labels():
    gan = tiny()
    labels = tf.constant([2, 0, 1, 1], tf.int32)
    latents, given = gan.generator_inputs(4, labels)
    assert latents.shape == (4, 8)
    np.testing.assert_array_equal(given, labels)
    images, given = gan.discriminator_inputs(tf.zeros((4, 16, 16, 1)), labels)
    np.testing.assert_array_equal(given, labels)


# -- sampling a chosen class ------------------------------------------------------------


def test_sample_draws_the_class_asked_for_with_the_runtime_latents():
    gan = steered(tiny())
    latents = _sampling.latents(5, 8, seed=7)
    threes = gan.sample(5, seed=7, labels=2)
    expected = _imaging.to_uint8(gan.generator([latents, np.full(5, 2, np.int32)],
                                               training=False))
    np.testing.assert_array_equal(threes, expected)
    assert not np.array_equal(gan.sample(5, seed=7, labels=0), threes)
    mixed = gan.sample(3, seed=7, labels=[0, 1, 2])
    expected = _imaging.to_uint8(gan.generator(
        [latents[:3], np.array([0, 1, 2], np.int32)], training=False))
    np.testing.assert_array_equal(mixed, expected)
    # Without labels: seeded classes, those `ganzoo._sampling` (and so the runtime) draws.
    drawn = _sampling.labels_for(5, 3, seed=7)
    expected = _imaging.to_uint8(gan.generator([latents, drawn], training=False))
    np.testing.assert_array_equal(gan.sample(5, seed=7), expected)


def test_generate_draws_the_same_images_in_any_batch_size():
    gan = steered(tiny())
    whole = gan.generate(10, seed=4, batch_size=256)
    np.testing.assert_allclose(gan.generate(10, seed=4, batch_size=3), whole, atol=1e-5)
    np.testing.assert_allclose(gan.generate(10, seed=4, labels=1, batch_size=3),
                               gan.generate(10, seed=4, labels=1), atol=1e-5)


@pytest.mark.parametrize("labels,message", [
    (3, r"Labels must lie in \[0, 2\]. Received: labels in \[3, 3\]"),
    (-1, r"Labels must lie in \[0, 2\]"),
    ([0, 1], "Expected one label or 4 labels. Received: 2 labels"),
    (1.5, "labels must be one integer or a 1-D sequence of integers"),
])
def test_impossible_labels_are_one_clear_error(labels, message):
    with pytest.raises(ValueError, match=message):
        tiny().sample(4, seed=0, labels=labels)


# -- presets, CLI and bundle ------------------------------------------------------------


def test_preset_round_trip_keeps_classes_and_reproduces_both_networks(tmp_path):
    gan = steered(tiny())
    gan.class_names = ["zero", "one", "two"]
    gan.compile()
    path = gan.save_to_preset(tmp_path / "p", data="digits")
    config = presets.read_config(path)
    assert config["num_classes"] == 3 and config["class_names"] == ["zero", "one", "two"]
    loaded = models.ConditionalGAN.from_preset(path)
    assert loaded.num_classes == 3 and loaded.class_names == ["zero", "one", "two"]
    np.testing.assert_array_equal(loaded.sample(6, seed=2, labels=1),
                                  gan.sample(6, seed=2, labels=1))
    images, labels = random_images(3), np.array([2, 0, 1], np.int32)
    np.testing.assert_allclose(loaded.discriminator([images, labels]),
                               gan.discriminator([images, labels]), atol=1e-6)
    generator = ganzoo.load_generator(path)
    inputs = gan.sampling_inputs(4, seed=0, labels=2)
    np.testing.assert_allclose(generator(inputs), gan.generator(inputs), atol=1e-6)


def test_cli_sample_label_draws_that_class_and_refuses_others(tmp_path):
    gan = steered(tiny())
    path = gan.save_to_preset(tmp_path / "p")
    result = ganzoo_cli_inprocess(["sample", path, "-n", "4", "--seed", "5", "--label", "2",
                                   "--out", tmp_path / "g.png"])
    assert result.exit_code == 0, result.output
    picture = np.asarray(Image.open(tmp_path / "g.png"))
    expected = _imaging.grid(gan.sample(4, seed=5, labels=2))
    np.testing.assert_array_equal(picture.reshape(expected.shape), expected)
    result = ganzoo_cli_inprocess(["sample", path, "--label", "7", "--out", tmp_path / "h.png"])
    assert_one_line_error(result, "Labels must lie in [0, 2]")


def test_bundle_samples_the_class_asked_for_like_keras(tmp_path):
    from ganzoo import runtime

    gan = steered(tiny())
    metadata = ganzoo.export.to_onnx(gan, tmp_path / "b", optimize=False)
    assert metadata["parity"]["max_abs_diff"] <= 1e-4
    assert metadata["num_classes"] == 3
    inputs = {entry["name"]: entry for entry in metadata["inputs"]}
    assert inputs["latent"]["role"] == "latent" and inputs["latent"]["shape"] == [None, 8]
    assert inputs["label"]["role"] == "label" and inputs["label"]["dtype"] == "int32"
    assert inputs["label"]["shape"] == [None]
    bundle = runtime.load(tmp_path / "b")
    for labels in (1, [2, 0, 1, 1, 0, 2], None):
        keras_images = gan.sample(6, seed=9, labels=labels).astype(int)
        onnx_images = bundle.sample(6, seed=9, labels=labels).astype(int)
        assert np.abs(keras_images - onnx_images).max() <= 1
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        bundle.sample(2, seed=0, labels=5)


@pytest.mark.slow
def test_train_sample_export_and_bundle_sample_the_same_digit(tmp_path):
    run = tmp_path / "run"
    result = ganzoo_cli("train", "cgan", *TINY_TRAIN, "--steps", "10", "--out", run)
    assert "preset:" in result.stdout
    config = json.loads((run / "preset" / "config.json").read_text())
    assert config["family"] == "cgan" and config["num_classes"] == 10
    assert config["class_names"] is not None and len(config["class_names"]) == 10
    ganzoo_cli("export", run, "--format", "onnx", "--out", tmp_path / "bundle")
    metadata = json.loads((tmp_path / "bundle" / "ganzoo.json").read_text())
    assert metadata["parity"]["max_abs_diff"] <= 1e-4
    assert [entry["name"] for entry in metadata["inputs"]] == ["latent", "label"]
    grids = {}
    for label in ("3", "5", None):
        extra = ["--label", label] if label else []
        for source, name in ((run, "keras"), (tmp_path / "bundle", "onnx")):
            out = tmp_path / f"{name}-{label}.png"
            ganzoo_cli("sample", source, "-n", "16", "--seed", "3", *extra, "--out", out)
            grids[name, label] = np.asarray(Image.open(out)).astype(int)
        assert np.abs(grids["keras", label] - grids["onnx", label]).max() <= 1
    # Ten tiny steps leave the pictures nearly grey; the label's effect shows in the floats.
    trained = ganzoo.models.load(run)
    assert np.abs(trained.generate(16, seed=3, labels=3)
                  - trained.generate(16, seed=3, labels=5)).max() > 1e-4


def test_shipped_preset_draws_the_digit_asked_for():
    if "cgan-digits" not in ganzoo.list_presets():
        pytest.skip("cgan-digits is not shipped in this checkout")
    gan = models.ConditionalGAN.from_preset("cgan-digits")
    classifier = ganzoo.metrics.get_extractor("digits")
    labels = np.repeat(np.arange(10), 20)
    images = gan.sample(len(labels), seed=0, labels=labels)
    predicted = classifier.probabilities(images).argmax(axis=1)
    assert np.mean(predicted == labels) >= 0.95


@pytest.mark.parametrize("labels, message", [
    (np.array([0, 1, 2, 5] * 4), r"not whole numbers in 0..num_classes-1 \(a batch holds 0 to 5; num_classes=3\)"),
    (np.array([0, 1, 2, -1] * 4), r"a batch holds -1 to 2"),
    (np.array([0.0, 1.5, 2.0, 1.0] * 4, "float32"), "not whole numbers"),
    (np.array(["a", "b", "c", "a"] * 4), "the data gives strings"),
    (np.eye(3, dtype="float32")[np.arange(16) % 3], r"shape \(16, 3\) \(one-hot\?\)"),
])
def test_fit_refuses_labels_that_are_not_class_indices_in_one_line(labels, message):
    gan = tiny()
    gan.compile()
    before = [v.numpy().copy() for v in gan.discriminator.trainable_variables]
    images = family_helpers.digits(16, (16, 16, 1))
    with pytest.raises(ValueError, match=message) as error:
        gan.fit(images, labels, batch_size=16, epochs=1, verbose=0)
    assert "\n" not in str(error.value)
    assert all(np.array_equal(v.numpy(), old)
               for v, old in zip(gan.discriminator.trainable_variables, before))


def test_fit_takes_whole_float_labels():
    gan = tiny()
    gan.compile()
    images = family_helpers.digits(16, (16, 16, 1))
    gan.fit(images, (np.arange(16) % 3).astype("float32"), batch_size=16, epochs=1, verbose=0)


# -- the paper's training: labels of the fakes, several discriminator steps -------------


def test_the_fakes_labels_are_drawn_uniformly_over_the_classes_not_copied():
    gan = tiny()
    gan.compile()
    real = tf.zeros(3000, tf.int32)
    drawn = gan.fake_labels(tf.constant(3000), real).numpy()
    shares = np.bincount(drawn, minlength=3) / len(drawn)
    assert drawn.min() >= 0 and drawn.max() < 3
    np.testing.assert_allclose(shares, [1 / 3] * 3, atol=0.04)
    # Fresh labels at every draw.
    assert not np.array_equal(drawn, gan.fake_labels(tf.constant(3000), real).numpy())
    gan.compile(fake_labels="data")
    assert gan.fake_labels(tf.constant(3000), real) is real
    with pytest.raises(ValueError, match="fake_labels must be 'uniform' or 'data'"):
        gan.compile(fake_labels="real")
    # The first discriminator keeps the real batch's labels, as it trained with.
    old = tiny(discriminator_type="dcgan")
    old.compile()
    assert old.fake_label_source == "data"


def test_d_steps_discriminator_updates_per_generator_update_on_shares_of_the_batch():
    gan = tiny()
    gan.compile(d_steps=2)
    images = random_images(24)
    gan.fit(labelled(images, np.arange(24) % 3, 8), epochs=1, verbose=0)
    assert int(gan.d_optimizer.iterations.numpy()) == 6
    assert int(gan.g_optimizer.iterations.numpy()) == 3
    uneven = tiny()
    uneven.compile(d_steps=3)
    with pytest.raises(ValueError, match=r"^cgan splits each batch into d_steps=3 equal "
                                         r"chunks.*multiple of 3$"):
        uneven.fit(labelled(images[:8], np.arange(8) % 3, 8), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="d_steps must be a positive integer"):
        tiny().compile(d_steps=0)


def test_a_preset_saved_before_the_papers_discriminator_loads_and_draws_the_same():
    """tests/golden/cgan-format1: a tiny cgan preset whose config has no
    discriminator_type (as every cgan preset had before it existed)."""
    from pathlib import Path

    golden = Path(__file__).parents[1] / "golden"
    config = json.loads((golden / "cgan-format1" / "config.json").read_text())
    assert "discriminator_type" not in config["config"]
    gan = models.load(golden / "cgan-format1")
    assert gan.discriminator_type == "dcgan" and gan.fake_label_source == "data"
    np.testing.assert_array_equal(gan.sample(4, seed=0, labels=[0, 1, 2, 0]),
                                  np.load(golden / "cgan-format1-samples.npy"))
