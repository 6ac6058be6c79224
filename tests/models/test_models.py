"""Every family: shapes, gradients, config round trip, presets and distribution."""

import numpy as np
import pytest
import keras
import tensorflow as tf

import ganzoo
from ganzoo import models, presets

import family_helpers

# Tiny constructor arguments of every registered family: the shared family checks below
# run over this table, and a family missing from it fails
# `test_every_registered_family_runs_the_shared_checks` (or has its own test module).
TINY = {
    "gan": dict(image_shape=(16, 16, 1), latent_dim=8, generator_units=(32,),
                discriminator_units=(16,), maxout_pieces=2),
    "dcgan": dict(image_shape=(16, 16, 1), latent_dim=8, generator_filters=8,
                  discriminator_filters=8),
    # gamma starts at 0.5 (the paper: 0) so the attention convolutions get a gradient on
    # the first step, as "every weight moves" asks.
    "sagan": dict(image_shape=(16, 16, 1), latent_dim=8, generator_filters=4,
                  discriminator_filters=4, attention_resolution=8, attention_gamma_init=0.5),
}


# What makes a family's training step deterministic (no dropout), for the checks that
# compare runs or measure a few steps.
DETERMINISTIC = {
    "gan": dict(dropout=0.0, input_dropout=0.0),
}


def tiny(family, **overrides):
    return models.get(family)(**{**TINY[family], "seed": 1, **overrides})


def deterministic_kwargs(family):
    return {**TINY[family], "seed": 1, **DETERMINISTIC.get(family, {})}


def random_images(n, shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, *shape)).astype("float32")


def test_registry_lists_every_family_and_rejects_unknown_names():
    assert {"gan", "dcgan"} <= set(models.names())
    assert models.get("dcgan") is models.DCGAN
    with pytest.raises(ValueError, match="Unknown model family 'nope'"):
        models.get("nope")


# Families whose inputs or steps need feeding of their own (labels, several critic steps,
# interpolation weights) run the shared checks in their own test module, through a test
# subclass; the guard below makes sure they do.
OWN_TEST_MODULE = {"cgan": "test_cgan.py", "wgan_gp": "test_wgan_gp.py",
                   "sagan": "test_sagan.py", "cyclegan": "test_cyclegan.py",
                   "srgan": "test_srgan.py", "stylegan_lite": "test_stylegan_lite.py"}
# Families whose step differs too much for `check_direction` (two generators and two
# discriminators on (a, b) batches) write their own direction test, named here.
OWN_DIRECTION_TEST = {
    "cyclegan": "def test_discriminators_learn_real_above_fake_and_generators_raise_fake_scores(",
}


def test_every_registered_family_runs_the_shared_checks():
    from pathlib import Path

    for name in models.names():
        if name in TINY:
            continue
        assert name in OWN_TEST_MODULE, f"{name} has no TINY arguments and no test module"
        text = (Path(__file__).parent / OWN_TEST_MODULE[name]).read_text()
        checks = ["family_helpers.check_equal_weights_under_distribution("]
        checks.append(OWN_DIRECTION_TEST.get(name, "family_helpers.check_direction("))
        for check in checks:
            assert check in text, f"{name}'s tests skip {check}"


# -- the shared family checks ----------------------------------------------------------


@pytest.mark.parametrize("family", sorted(TINY))
def test_discriminator_learns_real_above_fake_and_generator_raises_fake_logits(family):
    family_helpers.check_direction(models.get(family), deterministic_kwargs(family))


@pytest.mark.parametrize("family", sorted(TINY))
def test_one_sgd_step_on_two_replicas_equals_one_step_on_one_device(family, two_cpu_strategy):
    family_helpers.check_equal_weights_under_distribution(
        models.get(family), deterministic_kwargs(family), two_cpu_strategy
    )


class _BackwardDiscriminatorGAN(models.VanillaGAN):
    """Fault: the discriminator's loss with real and fake swapped."""

    def compile(self, *args, **kwargs):
        super().compile(*args, **kwargs)
        d_loss_fn = self.d_loss_fn
        self.d_loss_fn = lambda real_logits, fake_logits: d_loss_fn(fake_logits, real_logits)


class _PerReplicaMeanGAN(models.VanillaGAN):
    """Fault: each replica's mean loss (not the global-batch average), logs scaled back."""

    @staticmethod
    def average_loss(per_example_loss):
        return tf.reduce_mean(per_example_loss)

    def record(self, **replica_losses):
        replicas = tf.cast(self.num_replicas(), tf.float32)
        return super().record(**{n: v / replicas for n, v in replica_losses.items()})


class _ReplicaScaledGradientsGAN(models.VanillaGAN):
    """Fault: gradients multiplied by the replica count (doubled on two replicas)."""

    @staticmethod
    def apply_gradients(optimizer, tape, loss, variables):
        replicas = tf.cast(tf.distribute.get_strategy().num_replicas_in_sync, tf.float32)
        gradients = [gradient * replicas for gradient in tape.gradient(loss, variables)]
        optimizer.apply_gradients(zip(gradients, variables))


def test_direction_check_fails_on_a_discriminator_that_learns_backwards():
    with pytest.raises(AssertionError, match="real logit above the mean fake logit"):
        family_helpers.check_direction(_BackwardDiscriminatorGAN, deterministic_kwargs("gan"))


@pytest.mark.parametrize("faulty", [_PerReplicaMeanGAN, _ReplicaScaledGradientsGAN])
def test_equal_weights_check_fails_on_distribution_faults(faulty, two_cpu_strategy):
    with pytest.raises(AssertionError, match="replicas differ from one device"):
        family_helpers.check_equal_weights_under_distribution(
            faulty, deterministic_kwargs("gan"), two_cpu_strategy
        )


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


@pytest.mark.parametrize("call, message", [
    (lambda gan: gan.generate(3.9), "n must be a positive integer. Received: n=3.9"),
    (lambda gan: gan.sample(2.7), "n must be a positive integer. Received: n=2.7"),
    (lambda gan: gan.sample(0), "n must be a positive integer"),
    (lambda gan: gan.sample(2, seed="abc"), "seed must be a non-negative integer"),
    (lambda gan: gan.sample(2, seed=1.5), "seed must be a non-negative integer"),
    (lambda gan: gan.sample(2, seed=-1), "Received: seed=-1"),
])
def test_sampling_refuses_counts_and_seeds_that_are_not_integers(call, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.").replace("(", r"\(")):
        call(tiny("dcgan"))


def test_a_sample_that_cannot_fit_in_memory_is_refused_before_any_work():
    with pytest.raises(ValueError, match=r"n=1000000000 samples of 16x16x1 need .* GiB"):
        tiny("dcgan").sample(10**9)


def test_generate_draws_the_same_images_in_any_batch_size():
    gan = tiny("dcgan")
    whole = gan.generate(10, seed=4, batch_size=256)
    # Same latents; the kernels may sum in another order for another batch size.
    np.testing.assert_allclose(gan.generate(10, seed=4, batch_size=3), whole, atol=1e-5)


@pytest.mark.parametrize("shape", [(16, 16, 3), (8, 8, 1)])
def test_data_of_another_shape_is_one_clear_error(shape):
    gan = tiny("dcgan")
    gan.compile()
    data = tf.data.Dataset.from_tensor_slices(random_images(8, shape)).batch(4)
    with pytest.raises(ValueError, match=r"was built for images of shape \(16, 16, 1\)"):
        gan.fit(data, epochs=1, verbose=0)


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


def test_fit_gives_replica_zero_the_first_half_of_the_global_batch(two_cpu_strategy):
    # The fed latents of the equal-weights check rely on this order.
    seen = {}

    class Probe(keras.Model):
        def train_step(self, data):
            def record(replica_id, values):
                seen[int(replica_id)] = values.numpy()
                return 0

            replica_id = tf.distribute.get_replica_context().replica_id_in_sync_group
            return {"recorded": tf.py_function(record, [replica_id, data], tf.int32)}

    with two_cpu_strategy.scope():
        probe = Probe()
        probe.compile()
    probe.built = True
    probe.fit(tf.data.Dataset.range(8).batch(8), epochs=1, verbose=0)
    assert sorted(seen) == [0, 1]
    np.testing.assert_array_equal(seen[0], [0, 1, 2, 3])
    np.testing.assert_array_equal(seen[1], [4, 5, 6, 7])


def test_mirrored_training_with_paper_defaults_updates_both_networks(two_cpu_strategy):
    # `compile()` with the paper's Adam under a strategy: its slots must be mirrored.
    images = family_helpers.digits(64, (16, 16, 1))
    with two_cpu_strategy.scope():
        gan = tiny("dcgan")
        gan.compile()
    g_before = [v.numpy().copy() for v in gan.generator.trainable_variables]
    d_before = [v.numpy().copy() for v in gan.discriminator.trainable_variables]
    data = tf.data.Dataset.from_tensor_slices(images).batch(32, drop_remainder=True)
    history = gan.fit(data, epochs=1, verbose=0)
    assert all(np.isfinite(values[-1]) for values in history.history.values())
    assert all(not np.array_equal(a, v.numpy())
               for a, v in zip(g_before, gan.generator.trainable_variables))
    assert all(not np.array_equal(a, v.numpy())
               for a, v in zip(d_before, gan.discriminator.trainable_variables))
    for variable in gan.generator.weights + gan.discriminator.weights:
        copies = two_cpu_strategy.experimental_local_results(variable.value)
        assert len(copies) == 2
        np.testing.assert_array_equal(copies[0], copies[1], err_msg=variable.path)


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
