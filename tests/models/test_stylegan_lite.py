"""StyleGAN-lite (ganzoo.models.StyleGANLite): the shared family checks and the papers' points.

Hand computations: the tracked mean w after a step is (1 - 0.995) times the mean w of the
generator step's latents; the EMA generator is decay * old + (1 - decay) * new with the
decay from the half-life in images; lazy R1 is a separate discriminator step on gamma / 2
* interval * mean ||grad D||^2 every r1_interval steps, lazy path length a separate
generator step on pl_weight * interval * mean (|J^T y| - a)^2 every pl_interval steps on
half the batch; style mixing takes styles before the crossover layer from the first
latents. The layers' own hand computations are in tests/layers/test_style.py.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import ganzoo
from ganzoo import _sampling, models
from ganzoo.models.stylegan_lite import noise_shapes

import family_helpers
from cli_helpers import ganzoo as ganzoo_command

# Tiny constructor arguments for the shared family checks: widths 8 at 4x4 and 8x8, 4 at
# 16x16; z and w of 8; two mapping layers.
TINY_STYLEGAN_LITE = dict(image_shape=(16, 16, 1), latent_dim=8, style_dim=8,
                          mapping_layers=2, channel_base=64, channel_max=8)


def tiny(**overrides):
    return models.StyleGANLite(**{**TINY_STYLEGAN_LITE, "seed": 1, **overrides})


def numpy_of(x):
    return keras.ops.convert_to_numpy(x)


def random_images(n, shape=(16, 16, 1), seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, *shape)).astype("float32")


def zero_noise(n, size=16):
    return [np.zeros((n, *shape), "float32") for shape in noise_shapes(size)]


def fed_stylegan(global_batch=8, seed=0):
    """A test subclass whose per-layer noise, crossover layers and path-length noise y are
    fixed global arrays sliced by replica id, like the latents of
    `family_helpers.fed_latents` (y is the class attribute `path_noise`)."""
    generator = np.random.default_rng(seed + 100)
    noise = [generator.standard_normal((global_batch, *shape)).astype("float32")
             for shape in noise_shapes(16)]
    count = models.stylegan_lite.num_styles(16)
    crossovers = generator.integers(1, count + 1, global_batch).astype("int32")
    path_noise = generator.standard_normal((global_batch, 16, 16, 1)).astype("float32") / 16

    def rows(array, batch_size):
        start = family_helpers._replica_id() * batch_size
        return tf.constant(array)[start:start + batch_size]

    class FedStyleGANLite(models.StyleGANLite):
        path_noise = None
        def sample_noise(self, batch_size):
            return [rows(array, batch_size) for array in noise]

        def sample_crossovers(self, batch_size):
            return rows(crossovers, batch_size)

        def sample_path_noise(self, shape):
            return rows(path_noise, shape[0])

    FedStyleGANLite.path_noise = path_noise
    return FedStyleGANLite


# -- shapes, inputs, gradients, config, presets --------------------------------------------


def test_generator_inputs_are_named_by_role_and_shapes_follow_the_paper():
    gan = tiny()
    names = [t.name for t in gan.generator.inputs]
    assert names == ["latent", "truncation"] + [f"noise_{k}" for k in range(5)]
    assert [tuple(t.shape[1:]) for t in gan.generator.inputs[2:]] == [
        (4, 4, 1), (8, 8, 1), (8, 8, 1), (16, 16, 1), (16, 16, 1)]
    assert gan.num_styles == 6
    inputs = gan.sampling_inputs(3, seed=0)
    images = numpy_of(gan.generator(inputs))
    assert images.shape == (3, 16, 16, 1)
    assert gan.discriminator(images).shape == (3, 1)
    mapping, _, synthesis = gan.parts(gan.generator)
    assert len([layer for layer in mapping.layers if "dense" in layer.name]) == 2
    assert synthesis.get_layer("b16_conv1_conv").demodulate
    assert not synthesis.get_layer("b16_torgb_conv").demodulate
    # Every generator, the EMA one too, is what users sample: no random op inside.
    assert gan.inference_generator() is gan.generator_ema


def test_one_fit_step_gives_every_trainable_weight_a_gradient():
    """Mapping, noise strengths (zero at first), the constant input, every toRGB."""
    for style in ("modulated", "adain"):
        gan = tiny(style=style)
        gan.compile(keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-2), r1_gamma=1.0)
        variables = gan.generator.trainable_variables + gan.discriminator.trainable_variables
        before = [v.numpy().copy() for v in variables]
        # The step `fit` runs, eagerly (tracing it costs more than the step; the slow
        # distribution checks run it through `fit`).
        logs = gan.train_step(tf.constant(random_images(8)))
        assert set(logs) == {"d_loss", "g_loss", "r1_penalty", "pl_penalty"}
        assert all(np.isfinite(float(value)) for value in logs.values())
        unchanged = [v.path for v, old in zip(variables, before)
                     if np.array_equal(old, v.numpy())]
        assert unchanged == [], style
        paths = {v.path for v in gan.generator.trainable_variables}
        assert {"constant/constant", "b16_conv1_noise/strength",
                "mapping_dense0/kernel"} <= paths


def test_config_round_trip_and_bad_arguments():
    gan = tiny(style="adain", ema_half_life_images=500)
    clone = models.StyleGANLite.from_config(gan.get_config())
    assert clone.get_config() == gan.get_config()
    assert gan.get_config()["style"] == "adain"
    without_ema = tiny(ema_half_life_images=None)
    assert without_ema.ema_decay is None
    assert without_ema.inference_generator() is without_ema.generator
    for kwargs, message in [
        (dict(image_shape=(24, 24, 1)), "power-of-two size from 16 to 128"),
        (dict(image_shape=(256, 256, 3)), "from 16 to 128"),
        (dict(style="bold"), r"style must be one of \('modulated', 'adain'\)"),
        (dict(mapping_layers=9), "mapping_layers must be 1 to 8"),
        (dict(style_dim=0), "style_dim must be a positive integer"),
        (dict(ema_half_life_images=0), "ema_half_life_images must be a positive number"),
        (dict(noise_strength="pixel"), r"noise_strength must be one of \('layer', 'channel'\)"),
    ]:
        with pytest.raises(ValueError, match=message):
            tiny(**kwargs)
    for options, message in [(dict(r1_gamma=-1), "r1_gamma"),
                             (dict(style_mixing=1.5), "style_mixing must be a probability"),
                             (dict(r1_interval=2.5), "r1_interval"),
                             (dict(pl_weight=-2), "pl_weight must be a non-negative number"),
                             (dict(pl_interval=-1), "pl_interval must be a non-negative"),
                             (dict(pl_batch_shrink=0), "pl_batch_shrink must be a positive"),
                             (dict(pl_decay=2), r"pl_decay must be a number in \[0, 1\]")]:
        with pytest.raises(ValueError, match=message):
            tiny().compile(**options)


def test_preset_round_trip_keeps_the_ema_generator_and_the_tracked_mean_w(tmp_path):
    gan = tiny()
    gan.compile()
    for seed in (0, 1):
        gan.train_step(tf.constant(random_images(8, seed=seed)))
    w_avg = numpy_of(gan.parts(gan.generator_ema)[1].w_avg)
    assert np.abs(w_avg).max() > 0  # moved by training, copied into the EMA generator
    path = gan.save_to_preset(tmp_path / "p", data="digits")
    loaded = models.StyleGANLite.from_preset(path)
    assert loaded.get_config() == gan.get_config()
    np.testing.assert_array_equal(numpy_of(loaded.parts(loaded.generator_ema)[1].w_avg), w_avg)
    np.testing.assert_allclose(loaded.generate(4, seed=3, truncation=0.5),
                               gan.generate(4, seed=3, truncation=0.5), atol=1e-6)
    inputs = gan.sampling_inputs(4, seed=0)
    np.testing.assert_allclose(ganzoo.load_generator(path)(inputs),
                               gan.generator_ema(inputs), atol=1e-6)


# -- the papers' properties ----------------------------------------------------------------


def test_truncation_psi_zero_gives_one_image_for_every_latent_and_psi_one_keeps_w():
    gan = tiny()
    generator = gan.generator
    mapping, truncation, _ = gan.parts(generator)
    truncation.w_avg.assign(np.random.default_rng(0).normal(size=8).astype("float32"))
    latents = _sampling.latents(5, 8, seed=1)
    images = numpy_of(generator([latents, np.zeros((5, 1), "float32"), *zero_noise(5)]))
    assert np.abs(images - images[:1]).max() <= 1e-6
    assert np.abs(images).max() > 0
    w = numpy_of(mapping(latents))
    np.testing.assert_array_equal(numpy_of(truncation([w, np.ones((5, 1), "float32")])), w)
    # Keras' `truncation=` and the runtime's draw the same psi input.
    drawn = gan.sampling_inputs(5, seed=1, truncation=0.0)
    np.testing.assert_array_equal(drawn[1], np.zeros((5, 1), "float32"))


def test_a_step_tracks_w_avg_exactly_and_moves_the_ema_by_the_half_life_decay():
    cls = family_helpers.fed_latents(fed_stylegan())
    gan = cls(**TINY_STYLEGAN_LITE, seed=1, ema_half_life_images=100)
    gan.latent_feed = family_helpers.latent_feed(2, 8, 8, seed=0)
    gan.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1))
    mapping, truncation, _ = gan.parts(gan.generator)
    # The generator step maps the latents of its first draw (the third call: feed 0).
    expected_w = numpy_of(mapping(gan.latent_feed[0])).mean(axis=0)
    # The EMA generator is not trainable: pair its weights with the generator's.
    trainable = {id(v) for v in gan.generator.trainable_weights}
    pairs = [(ema, weight) for ema, weight in zip(gan.generator_ema.weights,
                                                  gan.generator.weights)
             if id(weight) in trainable]
    assert len(pairs) == len(gan.generator.trainable_weights) > 20
    ema_before = [ema.numpy().copy() for ema, _ in pairs]
    gan.train_step(tf.constant(random_images(8)))
    np.testing.assert_allclose(numpy_of(truncation.w_avg), 0.005 * expected_w, rtol=1e-4,
                               atol=1e-7)
    decay = 0.5 ** (8 / 100)
    assert gan.ema_decay == pytest.approx(decay)
    for (ema, weight), old in zip(pairs, ema_before):
        np.testing.assert_allclose(ema.numpy(), decay * old + (1 - decay) * weight.numpy(),
                                   rtol=1e-5, atol=1e-6, err_msg=weight.path)
    np.testing.assert_array_equal(numpy_of(gan.parts(gan.generator_ema)[1].w_avg),
                                  numpy_of(truncation.w_avg))


def test_noise_strength_is_one_scalar_per_layer_and_per_channel_on_request():
    strengths = [v for v in tiny().generator.weights if v.path.endswith("noise/strength")]
    assert len(strengths) == len(noise_shapes(16)) and all(v.shape == () for v in strengths)
    per_channel = [v for v in tiny(noise_strength="channel").generator.weights
                   if v.path.endswith("noise/strength")]
    assert [tuple(v.shape) for v in per_channel][:2] == [(8,), (8,)]
    assert tiny().get_config()["noise_strength"] == "layer"


def test_a_preset_saved_before_noise_strength_loads_per_channel_and_draws_the_same():
    """tests/golden/stylegan_lite-format1: a tiny preset saved by the first stylegan_lite
    (per-channel noise strengths, no `pl_mean` or `lazy_steps` in its weights)."""
    golden = Path(__file__).parents[1] / "golden"
    config = json.loads((golden / "stylegan_lite-format1" / "config.json").read_text())
    assert "noise_strength" not in config["config"]
    gan = models.load(golden / "stylegan_lite-format1")
    assert gan.noise_strength == "channel" and "noise_strength" not in gan.get_config()
    np.testing.assert_array_equal(gan.sample(4, seed=0),
                                  np.load(golden / "stylegan_lite-format1-samples.npy"))
    # It still trains (its training state kept outside its weights) and saves as it was.
    gan.compile()
    gan.train_step(tf.constant(random_images(8)))
    assert "pl_mean" not in [v.path for v in gan.variables]


def test_default_optimizers_adjust_each_networks_adam_for_its_lazy_steps():
    """c = interval / (interval + 1): 16 / 17 for the discriminator (R1), 4 / 5 for the
    generator (path length); c = 1 for a network whose regularisation is off."""
    gan = tiny()
    gan.compile()
    for optimizer, c in ((gan.d_optimizer, 16 / 17), (gan.g_optimizer, 4 / 5)):
        assert float(optimizer.learning_rate) == pytest.approx(0.002 * c)
        assert optimizer.beta_2 == pytest.approx(0.99**c)
        assert optimizer.beta_1 == 0.0
    gan.compile(pl_weight=0.0, r1_interval=4)
    assert gan.lazy_intervals() == {"r1": 4, "pl": 0}
    assert float(gan.g_optimizer.learning_rate) == pytest.approx(0.002)
    assert float(gan.d_optimizer.learning_rate) == pytest.approx(0.002 * 4 / 5)


def test_fit_takes_each_lazy_step_apart_every_interval_and_counts_the_steps():
    """Over 7 steps with r1_interval 3 and pl_interval 2: R1 steps at 0, 3, 6 (3 extra
    discriminator updates), path-length steps at 0, 2, 4, 6 (4 extra generator updates)."""
    gan = tiny()
    gan.compile(r1_interval=3, pl_interval=2)
    data = tf.data.Dataset.from_tensor_slices(random_images(56)).batch(8)
    history = gan.fit(data, epochs=1, verbose=0)
    assert int(numpy_of(gan.lazy_steps)) == 7
    assert int(numpy_of(gan.d_optimizer.iterations)) == 7 + 3
    assert int(numpy_of(gan.g_optimizer.iterations)) == 7 + 4
    assert history.history["pl_penalty"][0] > 0 and history.history["r1_penalty"][0] > 0
    assert float(numpy_of(gan.pl_mean)) > 0
    assert [sorted(gan.due_at(step)) for step in range(4)] == [["pl", "r1"], [], ["pl"], ["r1"]]
    # The last step's set (step 6: r1 and pl) does not outlive fit: a custom loop's
    # train_step takes step 0's set until it sets its own.
    assert gan.regularizers_due is None
    # The count is saved with the weights, so a resumed run goes on with the same steps.
    gan.fit(data.take(1), epochs=1, verbose=0)
    assert int(numpy_of(gan.lazy_steps)) == 8
    assert int(numpy_of(gan.g_optimizer.iterations)) == 8 + 4
    assert {"lazy_steps", "pl_mean"} <= {v.path for v in gan.variables}


def test_lazy_steps_need_steps_per_execution_one():
    gan = tiny()
    gan.compile()
    keras.Model.compile(gan, optimizer=None, steps_per_execution=2)
    with pytest.raises(ValueError, match="trains with steps_per_execution=1"):
        gan.make_train_function(force=True)


def test_discriminator_r1_step_follows_its_main_step_as_a_separate_update():
    """On an R1 step, one SGD step moves the discriminator by -lr * grad of mean
    softplus(-D(x)) + softplus(D(G(z))), then a second one by -lr * grad of gamma / 2 *
    interval * mean ||grad_x D(x)||^2 at the updated weights (the authors' separate R1
    step); generated images from fed latents and noise (no style mixing)."""
    rate = 0.01
    cls = family_helpers.fed_latents(fed_stylegan())
    gan = cls(**TINY_STYLEGAN_LITE, seed=1)
    gan.latent_feed = family_helpers.latent_feed(1, 8, 8, seed=0)
    gan.compile(keras.optimizers.SGD(0.0), keras.optimizers.SGD(rate), r1_gamma=10.0,
                r1_interval=4, style_mixing=0.0)
    gan.regularizers_due = frozenset({"r1"})
    real = tf.constant(random_images(8))
    fakes = gan.generator([tf.constant(gan.latent_feed[0]), tf.ones([8, 1]),
                           *gan.sample_noise(8)], training=True)
    discriminator = gan.discriminator
    variables = discriminator.trainable_variables
    with tf.GradientTape() as tape:
        real_logits = discriminator(real, training=True)
        fake_logits = discriminator(fakes, training=True)
        logistic = tf.reduce_mean(tf.nn.softplus(-real_logits) + tf.nn.softplus(fake_logits))
    after_main = [v.numpy() - rate * g.numpy()
                  for v, g in zip(variables, tape.gradient(logistic, variables))]
    twin = keras.models.clone_model(discriminator)
    twin.set_weights([w.numpy() for w in discriminator.weights])
    for variable, value in zip(twin.trainable_variables, after_main):
        variable.assign(value)
    with tf.GradientTape() as tape:
        with tf.GradientTape() as inner:
            inner.watch(real)
            summed = tf.reduce_sum(twin(real, training=True))
        slopes = inner.gradient(summed, real)
        r1 = 0.5 * 10.0 * 4 * tf.reduce_mean(tf.reduce_sum(tf.square(slopes), axis=[1, 2, 3]))
    gradients = tape.gradient(r1, twin.trainable_variables)
    expected = [value - (0.0 if g is None else rate * g.numpy())
                for value, g in zip(after_main, gradients)]
    assert float(r1) > 1e-3
    logs = gan.train_step(real)
    assert float(logs["d_loss"]) == pytest.approx(float(logistic), rel=1e-5)
    assert float(logs["r1_penalty"]) == pytest.approx(float(r1) / 20, rel=1e-4)
    assert "pl_penalty" not in gan.regularizers_due
    for variable, value in zip(variables, expected):
        np.testing.assert_allclose(variable.numpy(), value, rtol=1e-4, atol=1e-6,
                                   err_msg=variable.path)


def test_path_length_step_descends_the_penalty_on_half_the_batch_and_moves_the_mean():
    """On a path-length step the generator takes, after its main step, one more SGD step on
    pl_weight * interval * mean over batch / 2 images of (|J_w^T y| - a)^2, with
    |J_w^T y| = sqrt(mean over styles of the squared gradient of sum(g(w) y)) and
    a = pl_mean + decay * (mean length - pl_mean); pl_mean becomes a."""
    rate, weight, interval, decay = 0.05, 2.0, 4, 0.3
    cls = family_helpers.fed_latents(fed_stylegan())
    y = cls.path_noise
    gan = cls(**TINY_STYLEGAN_LITE, seed=1)
    feed = family_helpers.latent_feed(3, 8, 8, seed=0)
    gan.latent_feed = feed
    gan.compile(keras.optimizers.SGD(rate), keras.optimizers.SGD(0.0), pl_weight=weight,
                pl_interval=interval, pl_decay=decay, style_mixing=0.0)
    gan.regularizers_due = frozenset({"pl"})
    gan.pl_mean.assign(0.5)
    noise = [array[:4] for array in gan.sample_noise(8)]
    # What the step does before its path-length step: the main generator update.
    gan.regularizers_due = frozenset()
    twin = cls(**TINY_STYLEGAN_LITE, seed=1)
    twin.latent_feed = feed
    twin.compile(keras.optimizers.SGD(rate), keras.optimizers.SGD(0.0), style_mixing=0.0)
    twin.set_weights(gan.get_weights())
    twin.regularizers_due = frozenset()
    real = tf.constant(random_images(8))
    twin.train_step(real)
    variables = twin.generator.trainable_variables
    mapping, _, synthesis = twin.parts(twin.generator)
    latents = tf.constant(feed[2][:4])  # the path-length step's draw: the third one
    with tf.GradientTape() as tape:
        styles = tf.repeat(mapping(latents, training=True)[:, None], twin.num_styles, axis=1)
        with tf.GradientTape() as inner:
            inner.watch(styles)
            images = synthesis([styles, *noise], training=True)
            projected = tf.reduce_sum(images * y[:4])
        slopes = inner.gradient(projected, styles)
        lengths = tf.sqrt(tf.reduce_mean(tf.reduce_sum(tf.square(slopes), axis=2), axis=1))
        target = 0.5 + decay * (tf.reduce_mean(lengths) - 0.5)
        penalty = tf.reduce_mean(tf.square(lengths - target))
        loss = weight * interval * penalty
    gradients = tape.gradient(loss, variables)
    expected = [v.numpy() - (0.0 if g is None else rate * g.numpy())
                for v, g in zip(variables, gradients)]
    assert float(penalty) > 1e-4
    gan.regularizers_due = frozenset({"pl"})
    logs = gan.train_step(real)
    assert float(logs["pl_penalty"]) == pytest.approx(float(penalty), rel=1e-4)
    assert float(numpy_of(gan.pl_mean)) == pytest.approx(float(target), rel=1e-5)
    for variable, value in zip(gan.generator.trainable_variables, expected):
        np.testing.assert_allclose(variable.numpy(), value, rtol=1e-4, atol=1e-6,
                                   err_msg=variable.path)


def test_style_mixing_draws_crossovers_with_the_set_probability():
    gan = tiny()
    gan.compile()
    crossovers = numpy_of(gan.sample_crossovers(4000))
    assert crossovers.min() >= 1 and crossovers.max() <= gan.num_styles
    assert np.mean(crossovers == gan.num_styles) == pytest.approx(0.1, abs=0.025)
    mixed = crossovers[crossovers < gan.num_styles]
    counts = np.bincount(mixed, minlength=gan.num_styles)[1:]
    assert counts.min() > 0.15 * len(mixed)  # uniform over the 5 crossover layers
    gan.compile(style_mixing=0.0)
    assert np.all(numpy_of(gan.sample_crossovers(100)) == gan.num_styles)


def recording_stylegan():
    """A fed-latents subclass that keeps the styles (B, num_styles, style_dim) each training
    call of the generator's synthesis network is given, in `fed_styles`."""

    class RecordingStyleGANLite(family_helpers.fed_latents(models.StyleGANLite)):
        def parts(self, generator):
            mapping, truncation, synthesis = models.StyleGANLite.parts(generator)
            if generator is not self.generator:
                return mapping, truncation, synthesis

            def recorded(inputs, training=None):
                self.__dict__.setdefault("fed_styles", []).append(numpy_of(inputs[0]))
                return synthesis(inputs, training=training)

            return mapping, truncation, recorded

    return RecordingStyleGANLite


def styles_taken_from(styles, w):
    """Per row and style index: whether that style is the row's w."""
    return np.all(np.abs(styles - w[:, None]) <= 1e-6, axis=-1)


def test_training_styles_cross_over_from_the_first_latents_w_to_the_second_ones():
    """In a training step, with style_mixing=1 every image's styles before its crossover
    layer (in [1, num_styles)) are the w of its first latent and the others the w of its
    second; with style_mixing=0 all of them are the first latent's w."""
    gan = recording_stylegan()(**TINY_STYLEGAN_LITE, seed=1)
    gan.latent_feed = family_helpers.latent_feed(4, 4, 8, seed=0)
    mapping = gan.parts(gan.generator)[0]
    w = [numpy_of(mapping(latents)) for latents in gan.latent_feed]
    gan.compile(style_mixing=1.0)
    gan.regularizers_due = frozenset()  # the main steps only
    gan.train_step(tf.constant(random_images(4)))
    # The discriminator step draws latents 0 (first) and 1 (second), the generator step
    # 2 and 3, both before the generator's update.
    assert len(gan.fed_styles) == 2
    for styles, first, second in zip(gan.fed_styles, w[0::2], w[1::2]):
        assert styles.shape == (4, gan.num_styles, 8)
        from_first = styles_taken_from(styles, first)
        from_second = styles_taken_from(styles, second)
        crossovers = from_first.sum(axis=1)
        assert np.all((crossovers >= 1) & (crossovers < gan.num_styles)), crossovers
        layers = np.arange(gan.num_styles)[None, :]
        np.testing.assert_array_equal(from_first, layers < crossovers[:, None])
        np.testing.assert_array_equal(from_second, layers >= crossovers[:, None])

    gan.compile(style_mixing=0.0)
    gan.__dict__.update(_fed_latent_calls={}, fed_styles=[])
    w = [numpy_of(mapping(latents)) for latents in gan.latent_feed]  # the trained mapping
    gan.train_step(tf.constant(random_images(4)))
    assert len(gan.fed_styles) == 2
    for styles, first in zip(gan.fed_styles, w[:2]):  # one latent drawn per call
        assert styles_taken_from(styles, first).all()


def test_sample_style_mix_takes_early_styles_from_seed_and_late_ones_from_seed_b():
    gan = tiny()
    gan.parts(gan.generator_ema)[2].get_layer("b16_conv1_noise").strength.assign(0.5)
    plain = gan.generate(3, seed=5, truncation=0.8)
    # Crossover at the last layer + 1: every style from seed 5; at 0: every style from 6,
    # with seed 5's noise.
    np.testing.assert_allclose(gan.generate(3, seed=5, truncation=0.8,
                                            style_mix=(6, gan.num_styles)), plain, atol=1e-6)
    inputs = gan.sampling_inputs(3, seed=5, truncation=0.8)
    inputs[0] = _sampling.latents(3, 8, seed=6)
    np.testing.assert_allclose(gan.generate(3, seed=5, truncation=0.8, style_mix=(6, 0)),
                               numpy_of(gan.generator_ema(inputs)), atol=1e-5)
    middle = gan.generate(3, seed=5, style_mix=(6, 3))
    assert np.abs(middle - plain).max() > 1e-3
    with pytest.raises(ValueError, match=r"crossover layer must lie in \[0, 6\]"):
        gan.sample(2, seed=0, style_mix=(1, 7))
    with pytest.raises(ValueError, match=r"style_mix must be \(seed_b, crossover_layer\)"):
        gan.sample(2, seed=0, style_mix=3)


def test_sampling_draws_inputs_by_role_like_the_runtime_and_in_any_batch_size():
    gan = tiny()
    inputs = gan.sampling_inputs(5, seed=2, truncation=0.7)
    described = [{"name": t.name, "shape": (None, *t.shape[1:]), "dtype": "float32",
                  "role": "noise" if t.name.startswith("noise") else t.name}
                 for t in gan.generator_ema.inputs]
    for ours, theirs in zip(inputs, _sampling.draw_inputs(described, 5, 2, truncation=0.7)):
        np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_allclose(gan.generate(5, seed=2, truncation=0.7, batch_size=2),
                               numpy_of(gan.generator_ema(inputs)), atol=1e-5)
    with pytest.raises(ValueError, match="unconditional"):
        gan.sample(2, labels=1)


def test_exported_ema_generator_matches_keras_and_the_runtime_samples_the_same(tmp_path):
    gan = tiny()
    # Make the EMA generator differ from the raw one, and the noise matter.
    for layer_name in ("b4_conv_noise", "b16_conv0_noise"):
        layer = gan.parts(gan.generator_ema)[2].get_layer(layer_name)
        layer.strength.assign(np.full(layer.strength.shape, 0.7, "float32"))
    gan.parts(gan.generator_ema)[1].w_avg.assign(np.full(8, 0.3, "float32"))
    metadata = ganzoo.export.to_onnx(gan, tmp_path / "bundle")
    assert [(entry["name"], entry["role"]) for entry in metadata["inputs"]] == [
        ("latent", "latent"), ("truncation", "truncation")] + [
        (f"noise_{k}", "noise") for k in range(5)]
    assert metadata["parity"]["max_abs_diff"] <= 1e-4
    runtime = ganzoo.runtime.load(tmp_path / "bundle")
    inputs = runtime.inputs_for(6, seed=4, truncation=0.6)
    np.testing.assert_allclose(runtime.run(**inputs), numpy_of(gan.generator_ema(
        [inputs[t.name] for t in gan.generator_ema.inputs])), atol=1e-4)
    for truncation in (None, 0.6, 0.0):
        bundle_images = runtime.sample(6, seed=4, truncation=truncation).astype(int)
        keras_images = gan.sample(6, seed=4, truncation=truncation).astype(int)
        assert np.abs(bundle_images - keras_images).max() <= 1, truncation


# -- the shared family checks --------------------------------------------------------------


@pytest.mark.slow
def test_discriminator_learns_real_above_fake_and_generator_raises_fake_logits():
    # Equalised learning rate: weights are O(1), so the step is 1e-2 rather than 1e-3.
    family_helpers.check_direction(fed_stylegan(16), {**TINY_STYLEGAN_LITE, "seed": 1},
                                   learning_rate=1e-2)


@pytest.mark.slow
@pytest.mark.parametrize("style", ["modulated", "adain"])
def test_one_sgd_step_on_two_replicas_equals_one_step_on_one_device(two_cpu_strategy, style):
    """Noise, second latents and crossover layers fed per replica; R1 is due on the step
    (iteration 0), so the penalty is part of the checked step; w_avg and the EMA
    generator are among the weights checked (a half-life of one batch, decay 0.5, so that
    the EMA copy of the mapping's large stored weights visibly moves)."""
    report = family_helpers.check_equal_weights_under_distribution(
        fed_stylegan(), {**TINY_STYLEGAN_LITE, "seed": 1, "style": style,
                         "ema_half_life_images": 8},
        two_cpu_strategy, learning_rate=0.1)
    weights = report["weights"]
    assert weights["generator/truncation_trick/w_avg"]["step"] > 0
    assert weights["generator_ema/truncation_trick/w_avg"]["step"] > 0


@pytest.mark.slow
def test_two_workers_on_loopback_hold_the_same_weights(tmp_path):
    from training.test_training import _free_ports  # noqa: PLC0415

    spec = {"family": "stylegan_lite", "kwargs": TINY_STYLEGAN_LITE}
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    script = Path(__file__).parents[1] / "training" / "multiworker_worker.py"
    processes = []
    for index in range(2):
        env = dict(os.environ, TF_CONFIG=json.dumps(
            {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}))
        processes.append(subprocess.Popen(
            [sys.executable, str(script), str(tmp_path / f"worker{index}.json"),
             "--model", json.dumps(spec)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    for process in processes:
        output, _ = process.communicate(timeout=300)
        assert process.returncode == 0, output[-3000:]
    results = [json.loads((tmp_path / f"worker{i}.json").read_text()) for i in range(2)]
    assert [r["replicas"] for r in results] == [2, 2]
    assert results[0]["weights_sha256"] == results[1]["weights_sha256"]
    for name in results[0]["losses"]:
        assert results[0]["losses"][name] == pytest.approx(results[1]["losses"][name], rel=1e-5)


# -- end to end ----------------------------------------------------------------------------

TINY_TRAIN = ["--data", "digits", "--image-size", "16", "--batch-size", "8",
              "--latent-dim", "8", "--model-option", "style_dim=8",
              "--model-option", "mapping_layers=2", "--model-option", "channel_base=64",
              "--model-option", "channel_max=8", "--samples", "16"]


def read_png(path):
    return np.asarray(Image.open(path)).astype(int)


@pytest.mark.slow
def test_train_sample_export_and_sample_the_bundle_with_truncation(tmp_path):
    run = tmp_path / "run"
    ganzoo_command("train", "stylegan_lite", *TINY_TRAIN, "--steps", "3", "--out", run)
    config = json.loads((run / "preset" / "config.json").read_text())
    assert config["family"] == "stylegan_lite" and config["config"]["channel_max"] == 8
    ganzoo_command("sample", run, "-n", "16", "--seed", "3", "--truncation", "0.7",
                   "--out", tmp_path / "keras.png")
    result = ganzoo_command("export", run, "--format", "onnx", "--out", tmp_path / "bundle")
    metadata = json.loads((tmp_path / "bundle" / "ganzoo.json").read_text())
    assert metadata["family"] == "stylegan_lite"
    assert metadata["parity"]["max_abs_diff"] <= 1e-4, result.stdout
    ganzoo_command("sample", tmp_path / "bundle", "-n", "16", "--seed", "3",
                   "--truncation", "0.7", "--out", tmp_path / "onnx.png")
    keras_grid, onnx_grid = read_png(tmp_path / "keras.png"), read_png(tmp_path / "onnx.png")
    assert keras_grid.shape == onnx_grid.shape
    assert np.abs(keras_grid - onnx_grid).max() <= 1
    assert keras_grid.std() > 0


# -- progressive growing -------------------------------------------------------------------


def same_weights_pair():
    """A progressive model and a plain one holding the same weights (lod aside)."""
    plain, grown = tiny(), tiny(progressive=True)
    for name, network in grown.saved_networks().items():
        values = {w.path: w for w in plain.saved_networks()[name].weights}
        assert len(values) == len(plain.saved_networks()[name].weights)
        for weight in network.weights:
            if not weight.path.startswith("lod/"):
                weight.assign(values[weight.path])
    return plain, grown


def test_progressive_lod_zero_is_the_plain_graph_and_integer_lod_carries_only_low_detail():
    plain, grown = same_weights_pair()
    assert "progressive" not in plain.get_config() and grown.get_config()["progressive"]
    assert len(grown.generator.weights) == len(plain.generator.weights) + 1
    assert len(grown.discriminator.weights) == len(plain.discriminator.weights) + 2
    for layer in (grown.parts(grown.generator)[2], grown.discriminator):
        layer.get_layer("lod").lod.assign(0.0)
    inputs = plain.sampling_inputs(4, seed=2, truncation=0.7)
    images = numpy_of(plain.generator(inputs))
    np.testing.assert_allclose(numpy_of(grown.generator(inputs)), images, atol=1e-6)
    real = random_images(4)
    np.testing.assert_allclose(numpy_of(grown.discriminator(real)),
                               numpy_of(plain.discriminator(real)), atol=1e-5)
    assert grown.max_lod == 2 and grown.lod == 0.0
    assert np.abs(images[:, ::2, ::2] - images[:, 1::2, 1::2]).max() > 1e-3
    for lod in (1, 2):
        grown.set_lod(lod)
        out = numpy_of(grown.generator(inputs))
        block = 2 ** lod
        blocks = out.reshape(4, 16 // block, block, 16 // block, block, 1)
        assert np.abs(blocks - blocks[:, :, :1, :, :1]).max() <= 1e-6, lod
        assert out.std() > 1e-3
        # The discriminator sees the real images with each block replaced by its mean.
        means = real.reshape(4, 16 // block, block, 16 // block, block, 1).mean(
            axis=(2, 4), keepdims=True)
        coarse = np.broadcast_to(means, blocks.shape).reshape(real.shape)
        np.testing.assert_allclose(numpy_of(grown.discriminator(real)),
                                   numpy_of(plain.discriminator(coarse)), atol=1e-5)
    # Half-way through fading in 16x16: the 8x8 level plus half of the newest toRGB.
    grown.set_lod(0.5)
    half = numpy_of(grown.generator(inputs))
    grown.set_lod(1.0)
    eight = numpy_of(grown.generator(inputs))
    np.testing.assert_allclose(half, 0.5 * (eight + images), atol=1e-5)
    with pytest.raises(ValueError, match=r"lod must be a number in \[0, 2\]"):
        grown.set_lod(3)
    with pytest.raises(ValueError, match="progressive=True"):
        plain.set_lod(0.0)


def test_progressive_growing_schedule_fades_each_resolution_in_after_a_stable_phase():
    schedule = ganzoo.training.ProgressiveGrowing(fade_images=100, stable_images=50)
    for images, lod in [(0, 2.0), (49, 2.0), (50, 2.0), (75, 1.75), (100, 1.5), (149, 1.01),
                        (150, 1.0), (200, 1.0), (250, 0.5), (300, 0.0), (10_000, 0.0)]:
        assert schedule.lod_at(images, 16) == pytest.approx(lod), images
    assert schedule.lod_at(0, 32) == 3.0
    from_eight = ganzoo.training.ProgressiveGrowing(10, 0, start_resolution=8)
    assert [from_eight.lod_at(n, 16) for n in (0, 5, 10, 99)] == [1.0, 0.5, 0.0, 0.0]
    for kwargs, message in [(dict(fade_images=0, stable_images=1), "fade_images must be"),
                            (dict(fade_images=1, stable_images=-1), "stable_images must"),
                            (dict(fade_images=1, stable_images=1, start_resolution=6),
                             "start_resolution must be a power of two")]:
        with pytest.raises(ValueError, match=message):
            ganzoo.training.ProgressiveGrowing(**kwargs)


def test_lod_mid_fade_survives_a_preset_round_trip(tmp_path):
    gan = tiny(progressive=True)
    gan.set_lod(1.25)
    gan.discriminator.get_layer("lod").images_seen.assign(1234)
    path = gan.save_to_preset(tmp_path / "p", data="digits")
    loaded = models.StyleGANLite.from_preset(path)
    assert loaded.progressive and loaded.lod == 1.25 and loaded.images_seen() == 1234
    assert [layer.lod.numpy() for layer in loaded._lod_layers()] == [1.25] * 3
    np.testing.assert_allclose(loaded.generate(3, seed=1), gan.generate(3, seed=1), atol=1e-6)
    np.testing.assert_allclose(numpy_of(loaded.discriminator(random_images(2))),
                               numpy_of(gan.discriminator(random_images(2))), atol=1e-6)


@pytest.mark.slow
def test_a_tiny_fit_resumed_mid_fade_grows_to_lod_zero_and_exports_with_parity(tmp_path):
    from ganzoo.training.checkpoints import RunCheckpoint, restore_latest  # noqa: PLC0415

    seen = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.append(self.model.lod)

    def grow():
        # 8 images a step: each level is stable for 1 step, then fades in over 2.
        return ganzoo.training.ProgressiveGrowing(fade_images=16, stable_images=8)

    data = tf.data.Dataset.from_tensor_slices(random_images(8)).batch(8).repeat()
    first = tiny(progressive=True)
    first.compile()
    with pytest.warns(UserWarning, match=r"ended before growing to 16x16 \(lod 1.5\)"):
        first.fit(data, steps_per_epoch=2, epochs=1, verbose=0,
                  callbacks=[grow(), Record(), RunCheckpoint(tmp_path / "ckpt", 2)])
    assert first.lod == 1.5  # stopped in the middle of fading in 8x8
    # A new process's model: the checkpoint brings the level of detail and the count back.
    gan = tiny(progressive=True)
    gan.compile()
    assert restore_latest(gan, tmp_path / "ckpt")["steps"] == 2
    assert gan.lod == 1.5 and gan.images_seen() == 16
    history = gan.fit(data, steps_per_epoch=5, epochs=1, verbose=0, callbacks=[grow(),
                                                                               Record()])
    assert seen == pytest.approx([2.0, 2.0, 1.5, 1.0, 1.0, 0.5, 0.0])
    assert gan.lod == 0.0 and history.history["lod"] == [0.0] and gan.images_seen() == 56
    metadata = ganzoo.export.to_onnx(gan, tmp_path / "bundle")
    assert metadata["parity"]["max_abs_diff"] <= 1e-4
