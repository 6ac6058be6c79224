"""SRGAN (ganzoo.models.SRGAN): the shared family checks and the paper's own points.

Hand computations: the generator's loss is content + adversarial_weight x -log D(G(x))
(one SGD step against a tape computed here), the MSE and VGG content losses, the
pre-training phase (generator alone, pixel MSE), tiled upscaling equal to untiled.
"""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import ganzoo
from ganzoo import losses, models
from ganzoo.data.super_resolution import bicubic_downscale
from ganzoo.models import srgan as srgan_module

import family_helpers
from cli_helpers import assert_one_line_error, ganzoo as ganzoo_command, ganzoo_cli_inprocess

# Tiny constructor arguments for the shared family checks: 16x16 RGB patches at x4 (4x4
# low-res inputs), one residual block, no pre-training phase (the shared checks train
# both networks from the first step).
TINY_SRGAN = dict(image_shape=(16, 16, 3), scale=4, filters=4, blocks=1, disc_filters=4,
                  pretrain_steps=0)


def tiny(**overrides):
    return models.SRGAN(**{**TINY_SRGAN, "seed": 1, **overrides})


def random_images(n, shape=(16, 16, 3), seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, *shape)).astype("float32")


def pairs(n, seed=0, scale=4, size=16):
    high = random_images(n, (size, size, 3), seed)
    return bicubic_downscale(high, scale).numpy(), high


def numpy_of(x):
    return keras.ops.convert_to_numpy(x)


def uint8_image(height, width, channels=3, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (height, width, channels), np.uint8)


# -- shapes, architecture, gradients, config, presets --------------------------------------


def test_generator_is_fully_convolutional_and_enlarges_by_the_scale():
    for scale in (2, 4):
        model = tiny(scale=scale)
        assert [t.name for t in model.generator.inputs] == ["image"]
        assert tuple(model.generator.input.shape) == (None, None, None, 3)
        for height, width in ((4, 4), (5, 11)):
            out = numpy_of(model.generator(random_images(2, (height, width, 3))))
            assert out.shape == (2, height * scale, width * scale, 3)
            assert np.all(np.abs(out) <= 1.0)
        assert model.discriminator(random_images(3)).shape == (3, 1)


def test_networks_follow_the_paper():
    model = models.SRGAN(image_shape=(32, 32, 3), scale=4, filters=8, blocks=3,
                         disc_filters=2)
    layers = {layer.name: layer for layer in model.generator.layers}
    assert layers["head_conv"].kernel_size == (9, 9) and layers["to_image"].kernel_size == (9, 9)
    assert [n for n in layers if n.endswith("_out")] == ["block1_out", "block2_out", "block3_out"]
    assert "long_skip" in layers and isinstance(layers["body_bn"], keras.layers.BatchNormalization)
    shuffles = [l for l in model.generator.layers if isinstance(l, ganzoo.layers.PixelShuffle)]
    assert [s.block_size for s in shuffles] == [2, 2]  # log2(4) sub-pixel blocks
    assert layers["images"].activation is keras.activations.tanh
    prelus = [l for l in model.generator.layers if isinstance(l, keras.layers.PReLU)]
    assert len(prelus) == 1 + 3 + 2 and all(p.shared_axes == [1, 2] for p in prelus)
    convs = [l for l in model.discriminator.layers if isinstance(l, keras.layers.Conv2D)]
    assert [c.filters for c in convs] == [2, 2, 4, 4, 8, 8, 16, 16]
    assert [c.strides[0] for c in convs] == [1, 2, 1, 2, 1, 2, 1, 2]
    dense = [l for l in model.discriminator.layers if isinstance(l, keras.layers.Dense)]
    assert [d.units for d in dense] == [32, 1]
    lrelus = [l for l in model.discriminator.layers if isinstance(l, keras.layers.LeakyReLU)]
    assert all(abs(l.negative_slope - 0.2) < 1e-9 for l in lrelus) and len(lrelus) == 9


def test_one_training_step_updates_every_weight_of_both_networks():
    # The step `fit` runs, eagerly (tracing it costs more than the check);
    # the slow tests below run it through `fit`.
    model = tiny()
    model.compile(keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-2))
    variables = model.generator.trainable_variables + model.discriminator.trainable_variables
    before = [v.numpy().copy() for v in variables]
    logs = model.train_step(tuple(tf.constant(x) for x in pairs(8)))
    assert set(logs) == {"d_loss", "g_loss", "content_loss"}
    assert all(np.isfinite(float(value)) for value in logs.values())
    unchanged = [v.path for v, old in zip(variables, before) if np.array_equal(old, v.numpy())]
    assert unchanged == []


def test_config_round_trip_and_bad_arguments():
    model = tiny(scale=2, content_loss="mse", adversarial_weight=0.01, pretrain_steps=3)
    clone = models.SRGAN.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    assert "latent_dim" not in model.get_config() and model.latent_dim is None
    skip = tiny(upsampled_skip=True)
    assert models.SRGAN.from_config(skip.get_config()).upsampled_skip is True
    bicubic = tiny(upsampled_skip="bicubic")
    assert models.SRGAN.from_config(bicubic.get_config()).upsampled_skip == "bicubic"
    for kwargs, message in [
        (dict(scale=3), "scale must be 2 or 4. Received: scale=3"),
        (dict(image_shape=(24, 24, 3)), "multiples of 16"),
        (dict(content_loss="l1"), "content_loss must be 'mse' or 'vgg'"),
        (dict(adversarial_weight=-1.0), "adversarial_weight"),
        (dict(pretrain_steps=-1), "pretrain_steps"),
        (dict(filters=0), "filters"),
        (dict(upsampled_skip="lanczos"), "upsampled_skip must be False, True \\(bilinear\\), "
                                          "'bilinear' or 'bicubic'. Received: "
                                          "upsampled_skip='lanczos'"),
        (dict(latent_dim=8), "leave latent_dim unset"),
    ]:
        with pytest.raises(ValueError, match=message):
            tiny(**kwargs)


def test_preset_round_trip_keeps_both_networks_and_the_phase(tmp_path):
    model = tiny(pretrain_steps=2)
    # Steps trained so far, and moving statistics moved away from their start by training
    # calls: the preset must keep them.
    model.phase_steps.assign(3)
    low, high = pairs(4)
    model.discriminator(model.generator(low, training=True), training=True)
    path = model.save_to_preset(tmp_path / "p", data="photos")
    loaded = models.SRGAN.from_preset(path)
    assert loaded.get_config() == model.get_config()
    assert int(loaded.phase_steps.numpy()) == 3
    low = random_images(2, (5, 6, 3))
    np.testing.assert_allclose(loaded.generator(low), model.generator(low), atol=1e-6)
    high = random_images(2)
    np.testing.assert_allclose(loaded.discriminator(high), model.discriminator(high),
                               atol=1e-6)
    np.testing.assert_allclose(ganzoo.load_generator(path)(low), model.generator(low),
                               atol=1e-6)


# -- the paper's losses and phases ----------------------------------------------------------


def test_compile_defaults_are_the_papers():
    model = tiny()
    model.compile()
    assert model.loss_name == "non_saturating"
    assert (model.d_loss_fn, model.g_loss_fn) == (losses.bce_discriminator_loss,
                                                  losses.non_saturating_generator_loss)
    for optimizer in (model.g_optimizer, model.d_optimizer):
        assert isinstance(optimizer, keras.optimizers.Adam)
        assert float(optimizer.learning_rate) == pytest.approx(1e-4)
        assert optimizer.beta_1 == 0.9
    defaults = models.SRGAN.__init__.__signature__.parameters
    assert defaults["adversarial_weight"].default == 1e-3
    assert defaults["content_loss"].default == "mse"
    assert (defaults["blocks"].default, defaults["filters"].default) == (16, 64)


def test_generator_step_descends_content_plus_weighted_adversarial_loss():
    """One SGD step with the discriminator frozen moves the generator by exactly
    -lr * grad(mse + w * -log D(G(x))), computed here with a tape."""
    weight, rate = 0.5, 0.1
    model = tiny(adversarial_weight=weight)
    twin = tiny(adversarial_weight=weight)
    twin.set_weights(model.get_weights())
    low, high = pairs(4, seed=3)
    with tf.GradientTape() as tape:
        generated = twin.generator(low, training=True)
        content = tf.reduce_mean(tf.square(generated - high))
        adversarial = tf.reduce_mean(tf.nn.softplus(-twin.discriminator(generated,
                                                                        training=True)))
        total = content + weight * adversarial
    variables = twin.generator.trainable_variables
    expected = [v.numpy() - rate * g.numpy()
                for v, g in zip(variables, tape.gradient(total, variables))]
    model.compile(g_optimizer=keras.optimizers.SGD(rate),
                  d_optimizer=keras.optimizers.SGD(0.0))
    logs = model.train_step((tf.constant(low), tf.constant(high)))
    for variable, value in zip(model.generator.trainable_variables, expected):
        np.testing.assert_allclose(variable.numpy(), value, rtol=1e-4, atol=1e-6,
                                   err_msg=variable.path)
    assert float(logs["content_loss"]) == pytest.approx(float(content), rel=1e-5)
    assert float(logs["g_loss"]) == pytest.approx(float(adversarial), rel=1e-5)


def test_discriminator_step_descends_the_bce_of_real_high_res_against_generated():
    """One SGD step moves the discriminator by exactly -lr * grad of
    mean softplus(-D(high)) + softplus(D(G(low))), computed here with a tape (real and
    generated images in separate calls, as batch norm sees them in the step)."""
    rate = 0.1
    model = tiny()
    model.compile(g_optimizer=keras.optimizers.SGD(rate), d_optimizer=keras.optimizers.SGD(rate))
    low, high = pairs(4, seed=5)
    variables = model.discriminator.trainable_variables
    with tf.GradientTape() as tape:
        generated = model.generator(low, training=True)
        real_logits = model.discriminator(high, training=True)
        fake_logits = model.discriminator(generated, training=True)
        bce = tf.reduce_mean(tf.nn.softplus(-real_logits) + tf.nn.softplus(fake_logits))
    expected = [v.numpy() - rate * g.numpy()
                for v, g in zip(variables, tape.gradient(bce, variables))]
    logs = model.train_step((tf.constant(low), tf.constant(high)))
    assert float(logs["d_loss"]) == pytest.approx(float(bce), rel=1e-5)
    for variable, value in zip(variables, expected):
        np.testing.assert_allclose(variable.numpy(), value, rtol=1e-4, atol=1e-6,
                                   err_msg=variable.path)


def test_pretraining_step_trains_the_generator_alone_on_pixel_mse():
    model = tiny(pretrain_steps=2, content_loss="mse")
    assert model.phase == "pretrain"
    model.compile(g_optimizer=keras.optimizers.SGD(0.1), d_optimizer=keras.optimizers.SGD(0.1))
    low, high = pairs(4, seed=2)
    discriminator_before = [v.numpy().copy() for v in model.discriminator.weights]
    generator_before = [v.numpy().copy() for v in model.generator.trainable_weights]
    mse = float(tf.reduce_mean(tf.square(model.generator(low, training=True) - high)))
    logs = model.train_step((tf.constant(low), tf.constant(high)))
    assert float(logs["content_loss"]) == pytest.approx(mse, rel=1e-5)
    assert float(logs["d_loss"]) == 0.0
    assert all(np.array_equal(a, b.numpy())
               for a, b in zip(discriminator_before, model.discriminator.weights))
    assert all(not np.array_equal(a, b.numpy())
               for a, b in zip(generator_before, model.generator.trainable_weights))


@pytest.mark.slow
def test_pretraining_trains_the_generator_alone_on_pixel_mse_then_switches():
    model = tiny(pretrain_steps=2, content_loss="mse")
    assert model.phases() == (("pretrain", 2), ("adversarial", None))
    model.compile(g_optimizer=keras.optimizers.SGD(0.1), d_optimizer=keras.optimizers.SGD(0.1))
    low, high = pairs(4, seed=2)
    discriminator_before = [v.numpy().copy() for v in model.discriminator.weights]
    generated = model.generator(low, training=True)
    mse = float(tf.reduce_mean(tf.square(generated - high)))
    history = model.fit(tf.data.Dataset.from_tensors((low, high)), epochs=1, verbose=0)
    assert history.history["content_loss"][0] == pytest.approx(mse, rel=1e-5)
    assert history.history["d_loss"][0] == 0.0  # nothing recorded: D does not train
    assert all(np.array_equal(a, b.numpy())
               for a, b in zip(discriminator_before, model.discriminator.weights))
    model.fit(tf.data.Dataset.from_tensors((low, high)).repeat(2), epochs=1, verbose=0)
    assert model.phase == "adversarial"
    assert not all(np.array_equal(a, b.numpy())
                   for a, b in zip(discriminator_before, model.discriminator.weights))


def test_mse_content_loss_is_per_example_pixel_mean_square():
    generated, real = random_images(3, seed=1), random_images(3, seed=2)
    expected = ((generated - real) ** 2).reshape(3, -1).mean(axis=1)
    np.testing.assert_allclose(srgan_module.mse_content_loss(generated, real).numpy(),
                               expected, rtol=1e-6)


@pytest.fixture(scope="module")
def random_vgg_file(tmp_path_factory):
    """A VGG19 weights file (random weights): the file-loading path of the VGG loss."""
    path = tmp_path_factory.mktemp("vgg") / "vgg19.weights.h5"
    keras.applications.VGG19(include_top=False, weights=None,
                             input_shape=(None, None, 3)).save_weights(path)
    return path


@pytest.mark.slow
def test_vgg_content_loss_is_the_rescaled_phi54_feature_mse_and_is_never_saved(
        random_vgg_file, tmp_path):
    model = tiny(content_loss="vgg")
    model.compile(vgg_weights=random_vgg_file)
    vgg = keras.applications.VGG19(include_top=False, weights=None, input_shape=(None, None, 3))
    vgg.load_weights(random_vgg_file)
    phi54 = keras.Model(vgg.input, vgg.get_layer("block5_conv4").output)
    generated, real = random_images(2, seed=1), random_images(2, seed=2)

    def features(images):  # RGB [-1, 1] -> Caffe BGR minus the ImageNet means
        pixels = (images + 1.0) * 127.5
        bgr = pixels[..., ::-1] - np.array([103.939, 116.779, 123.68], "float32")
        return numpy_of(phi54(bgr)) / 12.75

    expected = ((features(generated) - features(real)) ** 2).reshape(2, -1).mean(axis=1)
    got = model.content_loss_of(tf.constant(generated), tf.constant(real)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4)
    # One adversarial step trains with it; the VGG stays frozen and out of the presets.
    vgg_before = [w.numpy().copy() for w in model.vgg_features.weights]
    model.fit(tf.data.Dataset.from_tensors(pairs(4)), epochs=1, verbose=0)
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(vgg_before, model.vgg_features.weights))
    assert len(model.weights) == len(tiny().weights)
    path = model.save_to_preset(tmp_path / "p", data="photos")
    assert os.path.getsize(path / "model.weights.h5") < 5_000_000
    loaded = models.SRGAN.from_preset(path)  # upscaling never needs the VGG
    assert loaded.vgg_features is None and loaded.upscale(uint8_image(8, 8)).shape == (32, 32, 3)


def stand_in_vgg():
    """A tiny frozen network in VGG19's place (the real weights need a download): ReLU
    feature maps of Caffe BGR pixels, seeded random weights, nonlinear like phi_5,4."""
    pixels = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(6, 3, activation="relu",
                            kernel_initializer=keras.initializers.RandomNormal(0, 0.05, seed=1),
                            bias_initializer=keras.initializers.RandomNormal(0, 1.0, seed=2))(
        pixels)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Conv2D(5, 3, activation="relu",
                            kernel_initializer=keras.initializers.RandomNormal(0, 0.2, seed=3))(x)
    features = keras.Model(pixels, x, name="stand_in_vgg")
    features.trainable = False
    return features


def test_vgg_content_loss_rescales_the_features_by_1_over_12_75_in_the_training_step(
        monkeypatch, tmp_path):
    """With a stand-in feature network injected where compile() builds VGG19: the content
    loss is mean ((phi(G) - phi(real)) / 12.75)^2 of Caffe-BGR pixels, by hand, and one
    SGD step (adversarial weight 0) moves the generator by -lr * its gradient."""
    vgg = stand_in_vgg()
    asked = []

    def build_vgg_features(vgg_weights=None):
        asked.append(vgg_weights)
        return vgg

    monkeypatch.setattr(srgan_module, "build_vgg_features", build_vgg_features)
    assert srgan_module.VGG_RESCALE == pytest.approx(1 / 12.75)
    rate = 1e-3
    model = tiny(content_loss="vgg", adversarial_weight=0.0)
    model.compile(g_optimizer=keras.optimizers.SGD(rate), d_optimizer=keras.optimizers.SGD(0.0),
                  vgg_weights=tmp_path / "vgg19.h5")
    assert asked == [tmp_path / "vgg19.h5"] and model.vgg_features is vgg

    def phi(images):  # RGB [-1, 1] -> Caffe BGR minus the ImageNet means -> / 12.75
        pixels = (images + 1.0) * 127.5
        bgr = pixels[..., ::-1] - tf.constant([103.939, 116.779, 123.68])
        return vgg(bgr) / 12.75

    def by_hand(generated, real):
        return tf.reduce_mean(tf.square(phi(generated) - phi(real)), axis=[1, 2, 3])

    generated, real = random_images(2, seed=1), random_images(2, seed=2)
    expected = numpy_of(by_hand(tf.constant(generated), tf.constant(real)))
    assert expected.min() > 1e-3
    np.testing.assert_allclose(numpy_of(model.content_loss_of(generated, real)), expected,
                               rtol=1e-5)

    low, high = pairs(4, seed=3)
    variables = model.generator.trainable_variables
    with tf.GradientTape() as tape:
        content = tf.reduce_mean(by_hand(model.generator(low, training=True), high))
    want = [v.numpy() - rate * g.numpy()
            for v, g in zip(variables, tape.gradient(content, variables))]
    vgg_before = [w.numpy().copy() for w in vgg.weights]
    logs = model.train_step((tf.constant(low), tf.constant(high)))
    assert float(logs["content_loss"]) == pytest.approx(float(content), rel=1e-5)
    for variable, value in zip(variables, want):
        np.testing.assert_allclose(variable.numpy(), value, rtol=1e-4, atol=1e-6,
                                   err_msg=variable.path)
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(vgg_before, vgg.weights))


def test_vgg_loss_offline_without_weights_is_one_line_naming_both_ways(monkeypatch, tmp_path):
    (tmp_path / "keras").mkdir()  # Keras falls back to /tmp/.keras for a missing one
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr("ganzoo.data.tfds_source.network_reachable", lambda *a, **k: False)
    model = tiny(content_loss="vgg")
    with pytest.raises(ValueError) as error:
        model.compile()
    message = str(error.value)
    assert "\n" not in message
    assert srgan_module.VGG19_WEIGHTS_FILE in message and str(tmp_path / "keras") in message
    assert "vgg_weights=" in message
    with pytest.raises(ValueError, match="not a file"):
        model.compile(vgg_weights=tmp_path / "missing.h5")
    with pytest.raises(ValueError, match="vgg_weights is for content_loss='vgg'"):
        tiny().compile(vgg_weights=tmp_path / "missing.h5")


# -- data, previews, sampling, upscaling ----------------------------------------------------


def test_high_res_batches_alone_are_paired_with_their_bicubic_downscale():
    model = tiny()
    high = random_images(2)
    low, same = model.unpack_pair(tf.constant(high))
    np.testing.assert_array_equal(same.numpy(), high)
    np.testing.assert_allclose(low.numpy(), bicubic_downscale(high, 4).numpy())
    with pytest.raises(ValueError, match=r"load it with load_super_resolution\(\.\.\., "
                                         r"scale=4, patch_size=16\)"):
        model.unpack_pair((tf.constant(random_images(2, (8, 8, 3))), tf.constant(high)))


def test_training_data_and_previews_show_bicubic_srgan_and_original(tmp_path):
    model = tiny()
    data = model.training_data("photos", image_size=16, batch_size=4, seed=0)
    low, high = next(iter(data))
    assert low.shape == (4, 4, 4, 3) and high.shape == (4, 16, 16, 3)
    with pytest.raises(ValueError, match="remember_preview"):
        model.preview(2)
    model.remember_preview((low, high))
    preview = model.preview(3)
    assert preview.shape == (3, 16, 48, 3) and preview.dtype == np.uint8
    np.testing.assert_array_equal(preview[:, :, 32:], ganzoo._imaging.to_uint8(high.numpy()[:3]))
    # A second dataset is cyclegan's: srgan's loader takes none, and a run refuses one.
    from ganzoo.training import run as run_lib

    with pytest.raises(ValueError, match="^srgan trains on one dataset; --data-b is for cyclegan$"):
        run_lib._data_options(models.SRGAN, {"family": "srgan", "data_b": "photos"})
    # A run's epoch: the crops load_super_resolution gives at the run's patch size.
    described = models.SRGAN.describe_training_data("photos", image_size=32)
    assert described["num_examples"] == ganzoo.data.describe_super_resolution(
        "photos", 4, 32)["num_examples"] and described["channels"] == 3


def test_sampling_from_noise_is_refused_pointing_at_upscale():
    with pytest.raises(ValueError, match=r"upscales images: use upscale\(image\)"):
        tiny().sample(4)
    with pytest.raises(ValueError, match="ganzoo upscale"):
        tiny().generate(4)


def test_upscale_takes_uint8_images_of_any_size_and_converts_channels():
    model = tiny()
    out = model.upscale(uint8_image(7, 9))
    assert out.shape == (28, 36, 3) and out.dtype == np.uint8
    expected = ganzoo._imaging.to_uint8(numpy_of(model.generator(
        ganzoo._imaging.from_uint8(uint8_image(7, 9)[None]))))[0]
    np.testing.assert_array_equal(out, expected)
    assert model.upscale(uint8_image(7, 9, channels=1)).shape == (28, 36, 3)
    assert model.upscale(uint8_image(7, 9)[..., 0]).shape == (28, 36, 3)
    assert model.upscale(np.stack([uint8_image(5, 5), uint8_image(5, 5, seed=1)])).shape == (
        2, 20, 20, 3)
    with pytest.raises(ValueError, match="expects uint8 images"):
        model.upscale(np.zeros((4, 4, 3), "float32"))


def test_tiled_upscale_equals_the_untiled_one():
    # The tiny generator reaches about 10 low-res pixels: tiles overlapping by 48 blend
    # only outputs 12 pixels or more from any cut, which see no cut at all.
    model = tiny(blocks=1)
    picture = uint8_image(60, 75, seed=4)
    whole = model.upscale(picture, tile_size=100).astype(int)
    tiled = model.upscale(picture, tile_size=52, overlap=48).astype(int)
    assert np.abs(whole - tiled).max() <= 1
    default = model.upscale(uint8_image(140, 150, seed=5)).astype(int)
    assert default.shape == (560, 600, 3)


# -- the shared family checks ----------------------------------------------------------------


class DirectionSRGAN(models.SRGAN):
    """For `check_direction`, which trains each network while the other is fixed (the
    test gives it a large adversarial_weight: the content loss alone need not raise the
    fake logits). `direction_report` draws a latent feed of `latent_dim` columns, which
    an image-fed generator never reads: it gets one column."""

    @property
    def latent_dim(self):
        return 1

    @latent_dim.setter
    def latent_dim(self, value):
        if value is not None:
            raise ValueError("SRGAN takes no latent_dim")


@pytest.mark.slow
def test_discriminator_learns_real_above_fake_and_generator_raises_fake_logits():
    family_helpers.check_direction(DirectionSRGAN,
                                   {**TINY_SRGAN, "adversarial_weight": 1000.0, "seed": 1})


@pytest.mark.slow
def test_one_sgd_step_on_two_replicas_equals_one_step_on_one_device(two_cpu_strategy):
    family_helpers.check_equal_weights_under_distribution(
        models.SRGAN, {**TINY_SRGAN, "seed": 1}, two_cpu_strategy,
        make_batch=lambda images: (bicubic_downscale(images, 4), tf.constant(images)))


# -- export and end to end -------------------------------------------------------------------


@pytest.mark.parametrize("upsampled_skip", [False, True, "bicubic"])
def test_exported_generator_keeps_height_and_width_dynamic_and_upscales_as_keras(
        tmp_path, upsampled_skip):
    model = tiny(upsampled_skip=upsampled_skip)
    metadata = ganzoo.export.to_onnx(model, tmp_path / "bundle")
    assert [(entry["name"], entry["role"]) for entry in metadata["inputs"]] == [
        ("image", "image")]
    assert metadata["inputs"][0]["shape"] == [None, None, None, 3]
    assert metadata["parity"]["max_abs_diff"] <= 1e-4
    upscaler = ganzoo.runtime.load(tmp_path / "bundle")
    for height, width in ((6, 6), (13, 21)):
        picture = uint8_image(height, width, seed=height)
        from_bundle = upscaler.upscale(picture).astype(int)
        assert from_bundle.shape == (4 * height, 4 * width, 3)
        assert np.abs(from_bundle - model.upscale(picture).astype(int)).max() <= 1
    big = uint8_image(150, 140, seed=9)
    assert np.abs(upscaler.upscale(big).astype(int) - model.upscale(big).astype(int)).max() <= 1


TINY_TRAIN_SRGAN = ["--data", "photos", "--scale", "4", "--image-size", "16",
                    "--batch-size", "4", "--model-option", "filters=4",
                    "--model-option", "blocks=1", "--model-option", "disc_filters=4",
                    "--model-option", "pretrain_steps=1", "--samples", "4"]


def read_png(path):
    return np.asarray(Image.open(path)).astype(int)


@pytest.mark.slow
def test_train_upscale_export_and_upscale_from_the_bundle(tmp_path):
    run = tmp_path / "run"
    ganzoo_command("train", "srgan", *TINY_TRAIN_SRGAN, "--steps", "3", "--out", run)
    config = json.loads((run / "preset" / "config.json").read_text())
    assert config["family"] == "srgan" and config["config"]["scale"] == 4
    Image.fromarray(uint8_image(30, 41, seed=2)).save(tmp_path / "in.png")
    ganzoo_command("upscale", run, tmp_path / "in.png", tmp_path / "keras.png")
    result = ganzoo_command("export", run, "--format", "onnx", "--out", tmp_path / "bundle")
    metadata = json.loads((tmp_path / "bundle" / "ganzoo.json").read_text())
    assert metadata["family"] == "srgan" and metadata["parity"]["max_abs_diff"] <= 1e-4, \
        result.stdout
    ganzoo_command("upscale", tmp_path / "bundle", tmp_path / "in.png", tmp_path / "onnx.png")
    from_run, from_bundle = read_png(tmp_path / "keras.png"), read_png(tmp_path / "onnx.png")
    assert from_run.shape == from_bundle.shape == (120, 164, 3)
    assert np.abs(from_run - from_bundle).max() <= 1
    result = ganzoo_cli_inprocess(["sample", str(run), "--out", str(tmp_path / "s.png")])
    assert_one_line_error(result, "upscale")


@pytest.mark.slow
def test_the_shipped_preset_upscales_tiled_as_whole_and_beats_bicubic():
    from ganzoo.data import bundled

    model = models.SRGAN.from_preset("srgan-x4-photos")
    picture = bundled.photo_pictures("test")[1][:200, :260]  # coffee, never trained on
    whole = model.upscale(picture, tile_size=1000).astype(int)
    tiled = model.upscale(picture).astype(int)  # 128-pixel tiles overlapping by 32
    assert whole.shape == (800, 1040, 3) and np.abs(whole - tiled).max() <= 1
    results = ganzoo.metrics.evaluate(model, "photos", split="test", metrics=("psnr",),
                                      image_size=96, progress=False)
    assert results["psnr"] >= results["psnr_bicubic"] + 0.5


def test_the_upsampled_skip_starts_as_bilinear_upscaling():
    model = tiny(upsampled_skip=True)
    low = random_images(2, (5, 7, 3))
    bilinear = tf.image.resize(low, (20, 28), method="bilinear").numpy()
    np.testing.assert_allclose(numpy_of(model.generator(low)), np.clip(bilinear, -1, 1),
                               atol=1e-6)
    assert not any(isinstance(layer, keras.layers.Activation) and
                   layer.activation is keras.activations.tanh
                   for layer in model.generator.layers)


@pytest.mark.parametrize("scale", [2, 4])
@pytest.mark.parametrize("shape", [(2, 7, 9, 3), (1, 1, 1, 1), (1, 2, 3, 3), (3, 13, 5, 1)])
def test_bicubic_upscaling_as_a_convolution_equals_tensorflows_resize(scale, shape):
    """The bicubic skip's fixed convolution and depth-to-space against
    `tf.image.resize(method="bicubic")`, borders (and pictures smaller than the filter)
    included."""
    from ganzoo.models.srgan import InterpolatedUpscale

    low = np.random.default_rng(scale).uniform(-1, 1, shape).astype(np.float32)
    expected = tf.image.resize(low, (shape[1] * scale, shape[2] * scale), method="bicubic")
    np.testing.assert_allclose(InterpolatedUpscale(scale, "bicubic")(low).numpy(),
                               expected.numpy(), atol=1e-6)


def test_the_bicubic_skip_starts_as_the_bicubic_baseline_it_is_measured_against():
    """Untrained, the generator with `upsampled_skip="bicubic"` upscales as
    `bicubic_upscale`, the baseline of `ganzoo evaluate`, to within a level of rounding."""
    from ganzoo.data.super_resolution import bicubic_upscale

    model = tiny(upsampled_skip="bicubic")
    picture = uint8_image(9, 13, seed=3)
    baseline = bicubic_upscale(picture, 4).astype(int)
    assert np.abs(model.upscale(picture).astype(int) - baseline).max() <= 1
    bilinear = tiny(upsampled_skip=True).upscale(picture).astype(int)
    assert np.abs(bilinear - baseline).max() > 1


def test_the_papers_step_decay_starts_in_the_second_half_of_the_adversarial_steps():
    """1e-4, then 1e-5 (Ledig et al. 2017): 4 epochs of 2 steps, 2 of them pre-training:
    the adversarial steps 3..8 have their middle after step 5, so epoch 3 (0-based) is the
    first at 1e-5 for both networks."""
    model = tiny(pretrain_steps=2)
    model.compile()
    (callback,) = model.default_callbacks(4)
    assert isinstance(callback, ganzoo.training.StepDecay)
    low, high = pairs(8)
    data = tf.data.Dataset.from_tensor_slices((low, high)).batch(4).repeat()
    history = model.fit(data, epochs=4, steps_per_epoch=2, verbose=0, callbacks=[callback])
    for name in ("g_optimizer_lr", "d_optimizer_lr"):
        assert history.history[name] == pytest.approx([1e-4, 1e-4, 1e-4, 1e-5], rel=1e-6)
