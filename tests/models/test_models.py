"""Every family: shapes, gradients, config round trip, presets and distribution."""

import numpy as np
import pytest
import keras
import tensorflow as tf

import ganzoo
from ganzoo import models, presets

TINY = {
    "gan": dict(image_shape=(16, 16, 1), latent_dim=8, generator_units=(32,),
                discriminator_units=(16,), maxout_pieces=2),
    "dcgan": dict(image_shape=(16, 16, 1), latent_dim=8, generator_filters=8,
                  discriminator_filters=8),
}


def tiny(family, **overrides):
    return models.get(family)(**{**TINY[family], "seed": 1, **overrides})


def random_images(n, shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, *shape)).astype("float32")


def test_registry_lists_every_family_and_rejects_unknown_names():
    assert {"gan", "dcgan"} <= set(models.names())
    assert models.get("dcgan") is models.DCGAN
    with pytest.raises(ValueError, match="Unknown model family 'nope'"):
        models.get("nope")


@pytest.mark.parametrize("family", sorted(TINY))
def test_generator_and_discriminator_shapes(family):
    gan = tiny(family)
    images = gan.generator(np.zeros((3, 8), "float32"))
    assert images.shape == (3, 16, 16, 1)
    assert np.all(np.abs(images) <= 1.0)
    logits = gan.discriminator(images)
    assert logits.shape == (3, 1)
    assert np.isfinite(logits).all()


@pytest.mark.parametrize("family", sorted(TINY))
def test_one_fit_step_updates_every_weight_of_both_networks(family):
    gan = tiny(family)
    gan.compile(keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-2))
    before = {v.path: v.numpy().copy() for v in gan.generator.trainable_variables
              + gan.discriminator.trainable_variables}
    data = tf.data.Dataset.from_tensor_slices(random_images(16, (16, 16, 1))).batch(8)
    history = gan.fit(data, epochs=1, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss"}
    assert all(np.isfinite(v[0]) for v in history.history.values())
    unchanged = [v.path for v in gan.generator.trainable_variables
                 + gan.discriminator.trainable_variables
                 if np.array_equal(before[v.path], v.numpy())]
    assert unchanged == []


@pytest.mark.parametrize("family", sorted(TINY))
def test_config_round_trip_rebuilds_the_same_architecture(family):
    gan = tiny(family)
    clone = type(gan).from_config(gan.get_config())
    assert clone.get_config() == gan.get_config()
    assert [w.shape for w in clone.generator.weights] == [w.shape for w in gan.generator.weights]


@pytest.mark.parametrize("size,channels", [(16, 1), (32, 3), (64, 1)])
def test_dcgan_image_sizes(size, channels):
    gan = models.DCGAN(image_shape=(size, size, channels), latent_dim=4,
                       generator_filters=4, discriminator_filters=4)
    assert gan.generator.output_shape == (None, size, size, channels)
    assert gan.discriminator.output_shape == (None, 1)


@pytest.mark.parametrize("kwargs,message", [
    (dict(image_shape=(24, 24, 1)), "power-of-two"),
    (dict(image_shape=(8, 8, 1)), "power-of-two"),
    (dict(image_shape=(32, 16, 1)), "square"),
    (dict(image_shape=(32, 32, 2)), "1 or 3 channels"),
    (dict(image_shape=(32, 32)), "image_shape"),
    (dict(latent_dim=0), "latent_dim"),
    (dict(generator_filters=-1), "generator_filters"),
])
def test_dcgan_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        models.DCGAN(**kwargs)


def test_compile_rejects_unknown_loss_and_options():
    gan = tiny("dcgan")
    with pytest.raises(ValueError, match="Unknown adversarial loss"):
        gan.compile(loss="nope")
    with pytest.raises(ValueError, match="Unknown compile options"):
        gan.compile(gradient_penalty=10.0)
    with pytest.raises(ValueError, match="g_optimizer"):
        gan.compile(g_optimizer=3)


def test_seeded_samples_are_reproducible_and_match_numpy_latents():
    gan = tiny("dcgan")
    first = gan.sample(5, seed=7)
    assert first.dtype == np.uint8 and first.shape == (5, 16, 16, 1)
    np.testing.assert_array_equal(first, gan.sample(5, seed=7))
    latents = ganzoo._sampling.latents(5, 8, seed=7)
    expected = ganzoo._imaging.to_uint8(gan.generator(latents, training=False))
    np.testing.assert_array_equal(first, expected)
    assert not np.array_equal(first, gan.sample(5, seed=8))


def test_unconditional_models_reject_labels():
    with pytest.raises(ValueError, match="unconditional"):
        tiny("gan").sample(2, labels=1)


# -- presets -------------------------------------------------------------------------


@pytest.mark.parametrize("family", sorted(TINY))
def test_preset_round_trip_reproduces_the_generator(family, tmp_path):
    gan = tiny(family)
    gan.compile()
    path = gan.save_to_preset(tmp_path / "p", data="digits")
    assert sorted(p.name for p in path.iterdir()) == [
        "card.md", "config.json", "model.weights.h5", "sha256.txt"]
    loaded = type(gan).from_preset(path)
    latents = ganzoo._sampling.latents(4, 8, seed=0)
    np.testing.assert_allclose(loaded.generator(latents), gan.generator(latents), atol=1e-6)
    np.testing.assert_allclose(
        loaded.discriminator(random_images(2, (16, 16, 1))),
        gan.discriminator(random_images(2, (16, 16, 1))), atol=1e-6)
    assert presets.read_config(path)["training"] == {"data": "digits"}
    assert loaded.preset_name == "p"
    generator = ganzoo.load_generator(path)
    np.testing.assert_allclose(generator(latents), gan.generator(latents), atol=1e-6)


def test_preset_refuses_to_overwrite_and_detects_tampering(tmp_path):
    gan = tiny("dcgan")
    path = gan.save_to_preset(tmp_path / "p")
    weights_before = (path / "model.weights.h5").read_bytes()
    with pytest.raises(FileExistsError, match="already exists"):
        tiny("dcgan", seed=2).save_to_preset(path)
    assert (path / "model.weights.h5").read_bytes() == weights_before
    assert [p.name for p in tmp_path.iterdir()] == ["p"]
    with open(path / "model.weights.h5", "r+b") as handle:
        handle.seek(-8, 2)
        handle.write(b"garbage!")
    with pytest.raises(ValueError, match="Checksum mismatch"):
        models.DCGAN.from_preset(path)


def test_preset_of_another_family_is_refused(tmp_path):
    path = tiny("gan").save_to_preset(tmp_path / "g")
    with pytest.raises(ValueError, match="not a DCGAN"):
        models.DCGAN.from_preset(path)


def test_unknown_preset_name_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown preset 'no-such-preset'"):
        ganzoo.load_generator("no-such-preset")


# -- distribution --------------------------------------------------------------------


def _digits(n=512, size=16):
    from sklearn.datasets import load_digits

    images = load_digits().images[:n, :, :, None].astype("float32") / 8.0 - 1.0
    return tf.image.resize(images, (size, size)).numpy()


def _fit_losses(strategy, weights, learning_rate, images, batch_size=64):
    with strategy.scope():
        gan = tiny("dcgan", generator_filters=16, discriminator_filters=16)
        gan.compile(keras.optimizers.Adam(learning_rate), keras.optimizers.Adam(learning_rate))
    gan.generator.set_weights(weights[0])
    gan.discriminator.set_weights(weights[1])
    data = tf.data.Dataset.from_tensor_slices(images).batch(batch_size, drop_remainder=True)
    history = gan.fit(data, epochs=1, verbose=0)
    return {name: values[-1] for name, values in history.history.items()}, gan


def test_mirrored_losses_match_single_device_at_learning_rate_zero(two_cpu_strategy):
    images = _digits()
    # Train briefly so the losses are away from their trivial starting values.
    warm = tiny("dcgan", generator_filters=16, discriminator_filters=16)
    warm.compile()
    warm.fit(tf.data.Dataset.from_tensor_slices(images).batch(32), epochs=2, verbose=0)
    weights = (warm.generator.get_weights(), warm.discriminator.get_weights())

    single, _ = _fit_losses(tf.distribute.get_strategy(), weights, 0.0, images)
    mirrored, gan = _fit_losses(two_cpu_strategy, weights, 0.0, images)
    assert gan.distribute_strategy.num_replicas_in_sync == 2
    assert abs(single["d_loss"] - np.log(4.0)) > 0.05  # not the trivial value
    for name in ("d_loss", "g_loss"):
        assert mirrored[name] == pytest.approx(single[name], rel=0.05), name


def test_mirrored_training_updates_both_networks(two_cpu_strategy):
    images = _digits(256)
    with two_cpu_strategy.scope():
        gan = tiny("dcgan")
        gan.compile()
    g_before = [v.numpy().copy() for v in gan.generator.trainable_variables]
    d_before = [v.numpy().copy() for v in gan.discriminator.trainable_variables]
    data = tf.data.Dataset.from_tensor_slices(images).batch(32, drop_remainder=True)
    gan.fit(data, epochs=1, verbose=0)
    assert all(not np.array_equal(a, v.numpy())
               for a, v in zip(g_before, gan.generator.trainable_variables))
    assert all(not np.array_equal(a, v.numpy())
               for a, v in zip(d_before, gan.discriminator.trainable_variables))
    # Mirrored copies stay in sync.
    for variable in gan.generator.trainable_variables[:2]:
        values = [t.numpy() for t in variable.value.values] if hasattr(
            variable.value, "values") else [variable.numpy()]
        for other in values[1:]:
            np.testing.assert_array_equal(values[0], other)


def test_replicas_draw_different_noise(two_cpu_strategy):
    with two_cpu_strategy.scope():
        gan = tiny("dcgan")

    @tf.function
    def draw():
        return two_cpu_strategy.run(lambda: gan.sample_latents(4))

    per_replica = two_cpu_strategy.experimental_local_results(draw())
    assert len(per_replica) == 2
    assert not np.allclose(per_replica[0].numpy(), per_replica[1].numpy())


def test_evaluate_reports_the_losses_without_training():
    gan = tiny("dcgan")
    gan.compile()
    weights = [v.numpy().copy() for v in gan.generator.weights + gan.discriminator.weights]
    data = tf.data.Dataset.from_tensor_slices(random_images(16, (16, 16, 1))).batch(8)
    results = gan.evaluate(data, verbose=0, return_dict=True)
    assert set(results) == {"d_loss", "g_loss"}
    assert all(np.isfinite(v) for v in results.values())
    assert all(np.array_equal(a, v.numpy())
               for a, v in zip(weights, gan.generator.weights + gan.discriminator.weights))
