"""CycleGAN (ganzoo.models.CycleGAN): the shared family checks and the paper's own points.

Hand computations: instance norm and reflection padding against NumPy; the cycle loss is
exactly 0 for identity generators and lambda * mean |x - F(G(x))| for constructed ones;
the identity loss is 0.5 lambda * mean |y - G(y)|; the history pool returns only images
it was given, swapping half of them once full; the PatchGAN's receptive field is 70x70.
"""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import ganzoo
from ganzoo import models
from ganzoo.layers import InstanceNormalization, ReflectionPadding2D
from ganzoo.models.cyclegan import ImageHistoryPool, cycle_loss

import family_helpers
from cli_helpers import assert_error_line, ganzoo as ganzoo_command, ganzoo_cli_inprocess

# Tiny constructor arguments for the shared family checks (tests/models/test_models.py's
# TINY table). 16x16 images leave room for two stride-2 PatchGAN convolutions only.
TINY_CYCLEGAN = dict(image_shape=(16, 16, 1), filters=4, disc_filters=4, disc_layers=2,
                     blocks=1, pool_size=0)


def tiny(**overrides):
    return models.CycleGAN(**{**TINY_CYCLEGAN, "seed": 1, **overrides})


def numpy_of(x):
    return keras.ops.convert_to_numpy(x)


def random_images(n, shape=(16, 16, 1), seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, *shape)).astype("float32")


def uint8_images(n, shape=(16, 16, 1), seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, *shape)).astype("uint8")


def mapping(scale, offset, channels=1, name="mapping"):
    """A stand-in generator computing scale * x + offset (input named `image`)."""
    image = keras.Input((None, None, channels), name="image")
    out = keras.layers.Rescaling(scale, offset, name=f"{name}_affine")(image)
    return keras.Model(image, out, name=name)


class PairedByImage(models.CycleGAN):
    """Test double for the shared checks, which feed one batch of images: domain B of
    each row is a fixed function of its domain A image (mirrored and negated), so a run
    on N replicas pairs the rows exactly as one device does."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.latent_dim = 1  # the shared helpers size their (unused) latent feed by it

    def unpack_pair(self, data):
        if isinstance(data, (tuple, list)):
            return super().unpack_pair(data)
        images = tf.cast(data, tf.float32)
        return super().unpack_pair((images, -images[:, :, ::-1]))


# -- layers, against hand computations ------------------------------------------------------


def test_instance_norm_normalises_each_image_and_channel_over_its_pixels():
    x = np.random.default_rng(0).normal(3.0, 2.0, (2, 5, 4, 3)).astype("float32")
    mean = x.mean(axis=(1, 2), keepdims=True)
    variance = x.var(axis=(1, 2), keepdims=True)
    expected = (x - mean) / np.sqrt(variance + 1e-5)
    plain = InstanceNormalization()
    np.testing.assert_allclose(numpy_of(plain(x)), expected, atol=1e-5)
    assert plain.weights == []  # the paper's: no affine part

    affine = InstanceNormalization(center=True, scale=True)
    affine.build(x.shape)
    affine.gamma.assign([1.0, 2.0, -1.0])
    affine.beta.assign([0.0, 0.5, 1.0])
    np.testing.assert_allclose(numpy_of(affine(x)), expected * [1.0, 2.0, -1.0] + [0, 0.5, 1],
                               atol=1e-5)
    clone = InstanceNormalization.from_config(affine.get_config())
    assert (clone.center, clone.scale, clone.epsilon) == (True, True, 1e-5)


def test_reflection_padding_mirrors_without_repeating_the_edge():
    x = np.arange(2 * 4 * 5 * 1, dtype="float32").reshape(2, 4, 5, 1)
    padded = numpy_of(ReflectionPadding2D(((1, 2), (3, 0)))(x))
    expected = np.pad(x, ((0, 0), (1, 2), (3, 0), (0, 0)), mode="reflect")
    np.testing.assert_array_equal(padded, expected)
    row = numpy_of(ReflectionPadding2D(2)(np.array([1, 2, 3, 4], "float32").reshape(1, 1, 4, 1)
                                          .repeat(3, axis=1)))[0, 2, :, 0]
    np.testing.assert_array_equal(row, [3, 2, 1, 2, 3, 4, 3, 2])
    layer = ReflectionPadding2D.from_config(ReflectionPadding2D(3).get_config())
    assert layer.padding == ((3, 3), (3, 3))
    with pytest.raises(ValueError, match="Received: padding=-1"):
        ReflectionPadding2D(-1)


# -- networks -------------------------------------------------------------------------------


def receptive_field(network):
    field = 1
    for layer in reversed(network.layers):
        if isinstance(layer, keras.layers.Conv2D):
            kernel, stride = layer.kernel_size[0], layer.strides[0]
            field = field * stride + (kernel - stride)
    return field


def test_networks_follow_the_paper():
    from ganzoo.models.cyclegan import build_patchgan_discriminator, build_resnet_generator

    gan = models.CycleGAN(image_shape=(256, 256, 3), filters=2, disc_filters=2)
    assert gan.blocks == 9 and (gan.disc_layers, gan.pool_size) == (3, 50)
    for generator in (build_resnet_generator(3, blocks=gan.blocks),):
        assert [t.name for t in generator.inputs] == ["image"]
        names = [layer.name for layer in generator.layers]
        assert sum(name.endswith("_out") and name.startswith("res") for name in names) == 9
        assert isinstance(generator.get_layer("c7s1_pad"), ReflectionPadding2D)
        assert generator.get_layer("c7s1_conv").kernel_size == (7, 7)
        assert generator.get_layer("down2_conv").filters == 256
        assert generator.get_layer("images").activation is keras.activations.tanh
    discriminator = build_patchgan_discriminator((256, 256, 3))
    # C64-C128-C256-C512, then one logit per 70x70 patch.
    widths = [layer.filters for layer in discriminator.layers
              if isinstance(layer, keras.layers.Conv2D)]
    assert widths == [64, 128, 256, 512, 1]
    assert receptive_field(discriminator) == 70
    assert not any(layer.name.startswith("block0") for layer in discriminator.layers
                   if isinstance(layer, InstanceNormalization))
    assert discriminator.get_layer("block1_lrelu").negative_slope == pytest.approx(0.2)
    assert discriminator.output.shape[1:] == (30, 30, 1)
    # Six residual blocks for images up to 128x128.
    small = models.CycleGAN(image_shape=(128, 128, 3), filters=2, disc_filters=2)
    assert small.blocks == 6


def test_generators_are_fully_convolutional_and_every_weight_gets_a_gradient():
    gan = tiny(blocks=2)
    assert gan.generator(random_images(2, (24, 40, 1))).shape == (2, 24, 40, 1)
    assert gan.discriminator(random_images(3)).shape == (3, 2, 2, 1)
    gan.compile(g_optimizer=keras.optimizers.Adam(1e-2), d_optimizer=keras.optimizers.Adam(1e-2))
    networks = (gan.generator, gan.generator_b2a, gan.discriminator, gan.discriminator_a)
    variables = [v for network in networks for v in network.trainable_variables]
    before = [v.numpy().copy() for v in variables]
    data = tf.data.Dataset.from_tensors((random_images(4), random_images(4, seed=1)))
    history = gan.fit(data, epochs=1, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss", "cycle_loss", "identity_loss"}
    assert all(np.isfinite(values[-1]) for values in history.history.values())
    unchanged = [v.path for v, old in zip(variables, before) if np.array_equal(old, v.numpy())]
    assert unchanged == []


# -- losses, by hand ------------------------------------------------------------------------


def test_cycle_loss_is_zero_for_identity_generators_and_lambda_l1_otherwise():
    gan = tiny()
    gan.compile()
    real_a, real_b = random_images(3, seed=2), random_images(3, seed=3)
    gan.generator, gan.generator_b2a = mapping(1.0, 0.0, name="g"), mapping(1.0, 0.0, name="f")
    _, cycle, identity, _, _ = gan.generator_losses(real_a, real_b)
    assert np.all(numpy_of(cycle) == 0.0) and np.all(numpy_of(identity) == 0.0)

    # G(x) = 0.5 x, F(x) = x + 0.25: F(G(a)) = 0.5 a + 0.25, G(F(b)) = 0.5 b + 0.125.
    gan.generator, gan.generator_b2a = mapping(0.5, 0.0, name="g"), mapping(1.0, 0.25, name="f")
    _, cycle, identity, fake_a, fake_b = gan.generator_losses(real_a, real_b)
    per_example = lambda x: np.abs(x).reshape(len(x), -1).mean(axis=1)  # noqa: E731
    expected_cycle = 10.0 * (per_example(real_a - (0.5 * real_a + 0.25))
                             + per_example(real_b - (0.5 * real_b + 0.125)))
    np.testing.assert_allclose(numpy_of(cycle), expected_cycle, rtol=1e-5)
    # Identity: 0.5 lambda (mean |b - G(b)| + mean |a - F(a)|).
    expected_identity = 5.0 * (per_example(real_b - 0.5 * real_b)
                               + per_example(-0.25 * np.ones_like(real_a)))
    np.testing.assert_allclose(numpy_of(identity), expected_identity, rtol=1e-5)
    np.testing.assert_allclose(numpy_of(fake_b), 0.5 * real_a, rtol=1e-6)
    np.testing.assert_allclose(numpy_of(cycle_loss(real_a, real_a + 0.5, 2.0)), [1.0] * 3,
                               rtol=1e-6)

    gan.compile(cycle_weight=3.0, identity_weight=0.0)
    _, cycle, identity, _, _ = gan.generator_losses(real_a, real_b)
    np.testing.assert_allclose(numpy_of(cycle), expected_cycle * 0.3, rtol=1e-5)
    assert np.all(numpy_of(identity) == 0.0)


def test_generator_step_descends_adversarial_plus_cycle_plus_identity_loss():
    """One SGD step moves both generators by exactly -lr * grad of
    mean (D_B(G(a)) - 1)^2 + mean (D_A(F(b)) - 1)^2 + lambda (mean |F(G(a)) - a|
    + mean |G(F(b)) - b|) + 0.5 lambda (mean |G(b) - b| + mean |F(a) - a|), computed here
    with a tape (lambda = 10)."""
    rate = 0.05
    gan = tiny()
    gan.compile(g_optimizer=keras.optimizers.SGD(rate), d_optimizer=keras.optimizers.SGD(rate))
    real_a, real_b = tf.constant(random_images(2, seed=6)), tf.constant(random_images(2, seed=7))
    g, f = gan.generator, gan.generator_b2a
    variables = gan.generator_variables()
    assert len(variables) == len(g.trainable_variables) + len(f.trainable_variables)

    def l1(x, y):
        return tf.reduce_mean(tf.abs(x - y))

    with tf.GradientTape() as tape:
        fake_b, fake_a = g(real_a, training=True), f(real_b, training=True)
        adversarial = (tf.reduce_mean(tf.square(gan.discriminator(fake_b) - 1.0))
                       + tf.reduce_mean(tf.square(gan.discriminator_a(fake_a) - 1.0)))
        cycle = 10.0 * (l1(f(fake_b, training=True), real_a)
                        + l1(g(fake_a, training=True), real_b))
        identity = 5.0 * (l1(g(real_b, training=True), real_b)
                          + l1(f(real_a, training=True), real_a))
        total = adversarial + cycle + identity
    expected = [v.numpy() - rate * grad.numpy()
                for v, grad in zip(variables, tape.gradient(total, variables))]
    logs = gan.train_step((real_a, real_b))
    for name, value in (("g_loss", adversarial), ("cycle_loss", cycle),
                        ("identity_loss", identity)):
        assert float(logs[name]) == pytest.approx(float(value), rel=1e-5), name
    for variable, value in zip(variables, expected):
        np.testing.assert_allclose(variable.numpy(), value, rtol=1e-4, atol=1e-6,
                                   err_msg=variable.path)


def test_lsgan_losses_are_the_papers():
    from ganzoo.models.cyclegan import lsgan_discriminator_loss, lsgan_generator_loss

    real = np.array([[[[1.0], [0.0]], [[2.0], [1.0]]]], "float32")  # one 2x2 patch map
    fake = np.array([[[[0.0], [1.0]], [[-1.0], [0.5]]]], "float32")
    # Generator: mean (D(G(x)) - 1)^2, not halved.
    np.testing.assert_allclose(numpy_of(lsgan_generator_loss(fake)),
                               [(1 + 0 + 4 + 0.25) / 4], rtol=1e-6)
    # Discriminator: halved.
    np.testing.assert_allclose(numpy_of(lsgan_discriminator_loss(real, fake)),
                               [0.5 * ((0 + 1 + 1 + 0) / 4 + (0 + 1 + 1 + 0.25) / 4)], rtol=1e-6)


# -- the history pool -----------------------------------------------------------------------


def constant_images(values, shape=(2, 2, 1)):
    return np.stack([np.full(shape, value, "float32") for value in values])


def test_history_pool_returns_only_images_it_was_given_and_swaps_half_once_full():
    pool = ImageHistoryPool(5, (2, 2, 1))
    query = tf.function(pool.query)
    given, returned = [], []
    for step in range(250):
        values = [step * 4 + 1.0 + k for k in range(4)]
        given.extend(values)
        out = numpy_of(query(tf.constant(constant_images(values)),
                             tf.constant([step, 3], tf.int64)))
        assert out.shape == (4, 2, 2, 1)
        assert np.all(out == out[:, :1, :1]), "an image came back mixed with another"
        returned.extend(out[:, 0, 0, 0].tolist())
    assert set(returned) <= set(given)
    # While the pool fills (5 images), every image comes back as it is.
    assert returned[:5] == given[:5]
    # Once full, each image is swapped for a stored one with probability 1/2.
    swapped = np.array(returned[5:]) != np.array(given[5:])
    assert 0.45 < swapped.mean() < 0.55, swapped.mean()
    # A swapped image is an earlier one, never a later one.
    assert all(out <= new for out, new in zip(returned, given))


def test_history_pool_of_size_zero_passes_images_through():
    pool = ImageHistoryPool(0, (2, 2, 1))
    images = constant_images([1.0, 2.0, 3.0])
    for step in range(3):
        np.testing.assert_array_equal(numpy_of(pool.query(tf.constant(images),
                                                          tf.constant([step, 0], tf.int64))),
                                      images)


def test_the_discriminators_judge_fakes_from_the_pool(monkeypatch):
    gan = tiny(pool_size=50)
    gan.compile()
    seen = []
    original = ImageHistoryPool.query

    def spy(self, images, seed):
        out = original(self, images, seed)
        seen.append(self.size)
        return out

    monkeypatch.setattr(ImageHistoryPool, "query", spy)
    gan.train_step((tf.constant(random_images(2)), tf.constant(random_images(2, seed=1))))
    assert seen == [50, 50]
    assert int(gan.history_pools["a"].count.numpy()) == 2
    assert int(gan.history_pools["b"].count.numpy()) == 2


class KnownPool:
    """A history pool stand-in that keeps the fakes it is given and returns known images
    instead, so the step's discriminator loss can be computed by hand."""

    def __init__(self, images):
        self.images = images
        self.given = []

    def query(self, images, seed):
        self.given.append(numpy_of(images))
        return tf.constant(self.images)


def test_the_discriminator_step_descends_the_lsgan_loss_of_the_pools_images():
    """One SGD step moves both discriminators by exactly -lr * grad of
    0.5 [mean (D(b) - 1)^2 + mean D(pooled)^2] summed over the two domains, `pooled` being
    what the history pools return (not the fresh fakes they were given); the pools are
    given the fakes of the generators before their update."""
    rate = 0.1
    gan = tiny(pool_size=50)
    gan.compile(g_optimizer=keras.optimizers.SGD(0.5), d_optimizer=keras.optimizers.SGD(rate))
    real_a, real_b = random_images(2, seed=2), random_images(2, seed=3)
    # Saturated pool images, far from the fresh fakes of the untrained generators (near 0).
    pools = {"a": KnownPool(np.sign(random_images(2, seed=4))),
             "b": KnownPool(np.sign(random_images(2, seed=5)))}
    gan.history_pools.update(pools)
    fresh_b, fresh_a = numpy_of(gan.generator(real_a)), numpy_of(gan.generator_b2a(real_b))

    def halved_lsgan(discriminator, real, fake):
        return 0.5 * (tf.reduce_mean(tf.square(discriminator(real, training=True) - 1.0))
                      + tf.reduce_mean(tf.square(discriminator(fake, training=True))))

    variables = gan.discriminator.trainable_variables + gan.discriminator_a.trainable_variables
    with tf.GradientTape() as tape:
        expected_loss = (halved_lsgan(gan.discriminator, real_b, pools["b"].images)
                         + halved_lsgan(gan.discriminator_a, real_a, pools["a"].images))
    expected = [v.numpy() - rate * g.numpy()
                for v, g in zip(variables, tape.gradient(expected_loss, variables))]
    # The check can tell the pools' images from the fresh fakes: the losses differ by far
    # more than the tolerance of the comparison below.
    fresh_loss = (halved_lsgan(gan.discriminator, real_b, fresh_b)
                  + halved_lsgan(gan.discriminator_a, real_a, fresh_a))
    assert abs(float(fresh_loss) - float(expected_loss)) > 1e-3 * abs(float(expected_loss))

    logs = gan.train_step((tf.constant(real_a), tf.constant(real_b)))
    assert float(logs["d_loss"]) == pytest.approx(float(expected_loss), rel=1e-5)
    for variable, value in zip(variables, expected):
        np.testing.assert_allclose(variable.numpy(), value, rtol=1e-4, atol=1e-6,
                                   err_msg=variable.path)
    # Each pool was given its domain's fakes, made before the generators' update.
    assert [len(pool.given) for pool in pools.values()] == [1, 1]
    np.testing.assert_allclose(pools["b"].given[0], fresh_b, atol=1e-6)
    np.testing.assert_allclose(pools["a"].given[0], fresh_a, atol=1e-6)
    assert np.abs(numpy_of(gan.generator(real_a)) - fresh_b).max() > 1e-4  # G did move


@pytest.mark.slow
def test_history_pools_are_per_replica_under_two_replicas(two_cpu_strategy):
    with two_cpu_strategy.scope():
        gan = tiny(pool_size=3)
        gan.compile()
    data = tf.data.Dataset.from_tensors(
        (random_images(4), random_images(4, seed=1))).repeat(2)
    history = gan.fit(data, epochs=1, verbose=0)
    assert all(np.isfinite(values[-1]) for values in history.history.values())
    counts = [int(c) for c in two_cpu_strategy.experimental_local_results(
        gan.history_pools["a"].count)]
    assert counts == [3, 3]  # each replica stored its own 2 + 2 fakes, capped at 3
    stored = [np.asarray(s) for s in two_cpu_strategy.experimental_local_results(
        gan.history_pools["a"].images)]
    assert not np.array_equal(stored[0], stored[1])  # each holds its own replica's fakes


# -- compile, config, presets ---------------------------------------------------------------


def test_compile_defaults_and_bad_arguments():
    gan = tiny()
    gan.compile()
    assert gan.loss_name == "lsgan"
    assert (gan.cycle_weight, gan.identity_weight) == (10.0, 0.5)
    for optimizer in (gan.g_optimizer, gan.d_optimizer):
        assert isinstance(optimizer, keras.optimizers.Adam)
        assert float(optimizer.learning_rate) == pytest.approx(2e-4)
        assert optimizer.beta_1 == 0.5
    g_ids = {id(v) for v in gan.optimizer_variables("g_optimizer")}
    assert g_ids == {id(v) for v in gan.generator.trainable_variables
                     + gan.generator_b2a.trainable_variables}
    (decay,) = models.CycleGAN.default_callbacks(10)
    assert isinstance(decay, ganzoo.training.LinearDecay) and decay.decay_from == 5
    with pytest.raises(ValueError, match="least-squares GAN loss"):
        gan.compile(loss="hinge")
    with pytest.raises(ValueError, match="Received: cycle_weight=-1"):
        gan.compile(cycle_weight=-1)
    for kwargs, message in [
        (dict(image_shape=(18, 18, 1)), "multiples of 4"),
        (dict(disc_layers=3), r"multiples of 8 and at least 24"),
        (dict(filters=0), "Received: filters=0"),
        (dict(pool_size=-1), "Received: pool_size=-1"),
        (dict(latent_dim=8), "leave latent_dim unset"),
    ]:
        with pytest.raises(ValueError, match=message):
            tiny(**kwargs)


def test_config_and_preset_round_trip_both_directions(tmp_path):
    gan = tiny(pool_size=7)
    clone = models.CycleGAN.from_config(gan.get_config())
    assert clone.get_config() == gan.get_config()
    assert gan.get_config()["blocks"] == 1 and "latent_dim" not in gan.get_config()
    path = gan.save_to_preset(tmp_path / "p", data="textures/grass")
    loaded = models.CycleGAN.from_preset(path)
    images = random_images(2)
    for name in ("generator", "generator_b2a", "discriminator", "discriminator_a"):
        np.testing.assert_allclose(numpy_of(getattr(loaded, name)(images)),
                                   numpy_of(getattr(gan, name)(images)), atol=1e-6)
    assert gan.generator_names() == ("a2b", "b2a")
    np.testing.assert_allclose(numpy_of(ganzoo.load_generator(path, "b2a")(images)),
                               numpy_of(gan.generator_b2a(images)), atol=1e-6)
    np.testing.assert_allclose(numpy_of(ganzoo.load_generator(path)(images)),
                               numpy_of(gan.generator(images)), atol=1e-6)
    # The history pool is training state: the preset does not carry it.
    config = json.loads((path / "config.json").read_text())
    assert config["config"]["pool_size"] == 7


# -- translate, previews, refusals ----------------------------------------------------------


def test_translate_converts_channels_and_keeps_any_size():
    gan = tiny(image_shape=(16, 16, 3))
    gray = uint8_images(1, (18, 22, 1))[0]
    out = gan.translate(gray)
    assert out.shape == (18, 22, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, gan.translate(np.repeat(gray, 3, axis=-1)))
    np.testing.assert_array_equal(gan.translate(gray[..., 0]), out)
    batch = uint8_images(3, (16, 16, 3))
    expected = ganzoo._imaging.to_uint8(numpy_of(gan.generator_b2a(
        ganzoo._imaging.from_uint8(batch))))
    np.testing.assert_array_equal(gan.translate(batch, direction="b2a", batch_size=2), expected)
    with pytest.raises(ValueError, match="Received: direction='c2d'"):
        gan.translate(batch, direction="c2d")
    with pytest.raises(ValueError, match="expects uint8 images"):
        gan.translate(batch.astype("float32"))


def test_sampling_from_noise_is_refused_and_previews_show_both_directions():
    gan = tiny()
    for call in (lambda: gan.sample(4), lambda: gan.generate(4, seed=0)):
        with pytest.raises(ValueError, match=r"translates images: use translate\(images, "
                                              r"direction='a2b'\) or `ganzoo translate"):
            call()
    with pytest.raises(ValueError, match="remember_preview"):
        gan.preview(4)
    real_a, real_b = random_images(3), random_images(3, seed=1)
    gan.remember_preview((tf.constant(real_a), tf.constant(real_b)))
    cells = gan.preview(2)
    assert cells.shape == (2, 16, 64, 1) and cells.dtype == np.uint8
    np.testing.assert_array_equal(cells[:, :, :16], ganzoo._imaging.to_uint8(real_a[:2]))
    np.testing.assert_array_equal(cells[:, :, 16:32],
                                  ganzoo._imaging.to_uint8(numpy_of(gan.generator(real_a[:2]))))
    np.testing.assert_array_equal(cells[:, :, 48:], ganzoo._imaging.to_uint8(
        numpy_of(gan.generator_b2a(real_b[:2]))))


# -- export ---------------------------------------------------------------------------------


def test_each_direction_exports_to_its_own_bundle_and_translates_as_keras_does(tmp_path):
    gan = tiny(image_shape=(16, 16, 3))
    images = uint8_images(2, (20, 12, 3), seed=4)
    for direction in ("a2b", "b2a"):
        metadata = ganzoo.export.to_onnx(gan, tmp_path / direction, generator=direction)
        assert metadata["generator"] == direction
        assert [(entry["name"], entry["role"]) for entry in metadata["inputs"]] == [
            ("image", "image")]
        assert metadata["inputs"][0]["shape"][1:3] == [None, None]
        # The sizes the bundle says the generator takes are those translate pads to.
        assert (metadata["inputs"][0]["size_multiple"], metadata["inputs"][0]["min_size"]) \
            == (gan.size_multiple, gan.min_size)
        assert metadata["parity"]["max_abs_diff"] <= 1e-4
        assert len(metadata["parity"]["sizes"]) == 2
        translator = ganzoo.runtime.load(tmp_path / direction)
        for batch in (images, images[0], images[0, ..., :1], images[0, :18, :13, :1],
                      images[:1, :6, :5]):
            from_bundle = translator.translate(batch).astype(int)
            from_keras = gan.translate(batch, direction=direction).astype(int)
            assert from_bundle.shape == from_keras.shape
            assert np.abs(from_bundle - from_keras).max() <= 1


# -- the shared family checks ---------------------------------------------------------------


@pytest.mark.slow
def test_one_sgd_step_on_two_replicas_equals_one_step_on_one_device(two_cpu_strategy):
    # The history pool is per replica (documented); without it the step is exact.
    family_helpers.check_equal_weights_under_distribution(
        PairedByImage, {**TINY_CYCLEGAN, "seed": 1}, two_cpu_strategy)


def patch_margin(gan, real_a, real_b):
    fake_b = gan.generator(real_a, training=True)
    real_logits = gan.discriminator(real_b, training=True)
    fake_logits = gan.discriminator(fake_b, training=True)
    return float(tf.reduce_mean(real_logits)), float(tf.reduce_mean(fake_logits))


@pytest.mark.slow
def test_discriminators_learn_real_above_fake_and_generators_raise_fake_scores():
    """The family direction check, on (a, b) batches: with G fixed, D steps widen the
    margin between real B and G(A); with D fixed, G steps raise D's score of G(A)."""
    keras.utils.set_random_seed(0)
    gan = tiny(blocks=2)
    real_a = tf.constant(family_helpers.digits(16, (16, 16, 1), seed=0))
    real_b = -real_a[:, ::-1]
    gan.compile(g_optimizer=keras.optimizers.Adam(1e-3), d_optimizer=keras.optimizers.Adam(1e-3))
    data = tf.data.Dataset.from_tensors((real_a, real_b)).repeat(5)
    gan.g_optimizer.learning_rate = 0.0
    real_before, fake_before = patch_margin(gan, real_a, real_b)
    gan.fit(data, epochs=1, verbose=0)
    real_after, fake_after = patch_margin(gan, real_a, real_b)
    assert real_after - fake_after > max(real_before - fake_before, 0.0)
    gan.g_optimizer.learning_rate = 1e-3
    gan.d_optimizer.learning_rate = 0.0
    _, fake_before = patch_margin(gan, real_a, real_b)
    gan.fit(data, epochs=1, verbose=0)
    _, fake_after = patch_margin(gan, real_a, real_b)
    assert fake_after > fake_before


# -- end to end -----------------------------------------------------------------------------

TINY_TRAIN_CYCLEGAN = ["--data", "textures/grass", "--data-b", "textures/gravel",
                       "--image-size", "16", "--batch-size", "2",
                       "--model-option", "filters=4", "--model-option", "disc_filters=4",
                       "--model-option", "disc_layers=2", "--model-option", "blocks=1",
                       "--samples", "4"]


def read_png(path):
    return np.asarray(Image.open(path)).astype(int)


@pytest.mark.slow
def test_train_translate_export_and_translate_with_the_bundle(tmp_path):
    run = tmp_path / "run"
    ganzoo_command("train", "cyclegan", *TINY_TRAIN_CYCLEGAN, "--steps", "4", "--out", run)
    config = json.loads((run / "preset" / "config.json").read_text())
    assert config["family"] == "cyclegan" and config["config"]["blocks"] == 1
    grass = ganzoo.data.bundled.texture_picture("grass")[:20, :24]
    Image.fromarray(grass[..., 0]).save(tmp_path / "in.png")
    for direction in ("a2b", "b2a"):
        ganzoo_command("translate", run, tmp_path / "in.png", tmp_path / f"keras-{direction}.png",
                       "--direction", direction)
        ganzoo_command("export", run, "--format", "onnx", "--out", tmp_path / direction,
                       "--generator", direction)
        metadata = json.loads((tmp_path / direction / "ganzoo.json").read_text())
        assert metadata["generator"] == direction
        ganzoo_command("translate", tmp_path / direction, tmp_path / "in.png",
                       tmp_path / f"onnx-{direction}.png")
        keras_image = read_png(tmp_path / f"keras-{direction}.png")
        onnx_image = read_png(tmp_path / f"onnx-{direction}.png")
        assert keras_image.shape == onnx_image.shape == (20, 24)
        assert np.abs(keras_image - onnx_image).max() <= 1
    # Without --data-b: one line naming the missing domain.
    result = ganzoo_cli_inprocess(["train", "cyclegan", "--data", "textures/grass",
                                   *TINY_TRAIN_CYCLEGAN[4:],
                                   "--steps", "1", "--out", tmp_path / "lonely"])
    assert_error_line(result, "data_b (--data-b)")
