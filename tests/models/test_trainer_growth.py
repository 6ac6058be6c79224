"""What the shared trainer offers families beyond one generator and two optimizers:
optimizers by name, several networks, an EMA generator, sampling options, phases."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from ganzoo import models
from ganzoo.models import base
from tests.models import family_helpers

TINY = dict(image_shape=(16, 16, 1), latent_dim=4, generator_filters=4,
            discriminator_filters=4)


class _ThreeOptimizers(models.DCGAN):
    """A DCGAN whose discriminator's logit layer has an optimizer of its own."""

    optimizer_names = ("g_optimizer", "d_optimizer", "logit_optimizer")

    def default_optimizers(self):
        return {"g_optimizer": keras.optimizers.SGD(0.1),
                "d_optimizer": keras.optimizers.SGD(0.1),
                "logit_optimizer": keras.optimizers.SGD(0.1)}

    def optimizer_variables(self, name):
        logit = self.discriminator.get_layer("logit").trainable_variables
        if name == "logit_optimizer":
            return logit
        if name == "d_optimizer":
            return [v for v in self.discriminator.trainable_variables
                    if all(v is not w for w in logit)]
        return super().optimizer_variables(name)


def test_optimizers_are_set_built_and_listed_by_name():
    gan = _ThreeOptimizers(**TINY)
    gan.compile(logit_optimizer=keras.optimizers.Adam(1e-3))
    assert set(gan.optimizers()) == {"g_optimizer", "d_optimizer", "logit_optimizer"}
    assert isinstance(gan.logit_optimizer, keras.optimizers.Adam)
    assert gan.logit_optimizer.built and gan.g_optimizer.built
    assert isinstance(gan.d_optimizer, keras.optimizers.SGD)
    # Each optimizer updates what optimizer_variables names for it, and nothing else.
    logit = {id(v) for v in gan.discriminator.get_layer("logit").trainable_variables}
    assert {id(v) for v in gan.discriminator_variables()}.isdisjoint(logit)
    assert gan.discriminator_variables() and len(gan.discriminator_variables()) == len(
        gan.discriminator.trainable_variables) - len(logit)


def test_an_optimizer_the_family_does_not_train_with_is_refused():
    gan = models.DCGAN(**TINY)
    with pytest.raises(ValueError, match="Unknown compile options"):
        gan.compile(logit_optimizer="adam")


def test_optimizers_are_taken_by_keras_name():
    gan = models.DCGAN(**TINY)
    gan.compile(g_optimizer="rmsprop", d_optimizer="sgd")
    assert isinstance(gan.g_optimizer, keras.optimizers.RMSprop)
    assert isinstance(gan.d_optimizer, keras.optimizers.SGD)


class _Twin(models.DCGAN):
    """Two generators: the second one is built by the family and named for users."""

    def build_networks(self):
        super().build_networks()
        self.second_generator = self.build_generator()

    def generator_names(self):
        return ("first", "second")

    def inference_generator(self, name=None):
        self.check_generator_name(name)
        return self.second_generator if name == "second" else self.generator


def test_named_generators_are_what_users_load(tmp_path):
    gan = _Twin(**TINY)
    assert gan.generator_names() == ("first", "second")
    assert gan.inference_generator() is gan.generator
    assert gan.inference_generator("second") is gan.second_generator
    with pytest.raises(ValueError, match="has no generator 'third'; it has first, second"):
        gan.inference_generator("third")


def test_every_network_a_family_builds_is_saved_and_checked(tmp_path):
    from ganzoo import _finite

    gan = _Twin(**TINY, seed=2)
    assert list(gan.saved_networks()) == ["generator", "discriminator", "second_generator"]
    for weight in gan.second_generator.trainable_variables:
        weight.assign(weight.numpy() + 0.25)
    gan.save_to_preset(tmp_path / "p")
    back = _from_preset(_Twin, tmp_path / "p")
    for a, b in zip(gan.second_generator.weights, back.second_generator.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    # A diverged extra network is found like the others.
    kernel = back.second_generator.trainable_variables[0]
    kernel.assign(np.full(kernel.shape, np.nan, np.float32))
    assert _finite.first_non_finite(back)[0] == "second_generator"


def test_a_network_kept_out_of_tracking_is_not_saved():
    gan = models.DCGAN(**TINY)
    gan.__dict__["frozen_features"] = models.DCGAN(**TINY).generator  # like srgan's VGG
    assert "frozen_features" not in gan.saved_networks()


class _Averaged(models.DCGAN):
    ema_decay = 0.75


def test_the_ema_generator_is_the_average_and_what_users_sample():
    gan = _Averaged(**TINY, seed=3)
    assert gan.inference_generator() is gan.generator_ema
    assert not gan.generator_ema.trainable_weights
    before = [w.numpy().copy() for w in gan.generator_ema.weights]
    gan.compile(keras.optimizers.SGD(0.5), keras.optimizers.SGD(0.5))
    data = tf.data.Dataset.from_tensor_slices(family_helpers.digits(8, (16, 16, 1))).batch(8)
    gan.fit(data, epochs=1, verbose=0)
    trainable = {id(w) for w in gan.generator.trainable_weights}
    moved = 0
    for old, ema, raw in zip(before, gan.generator_ema.weights, gan.generator.weights):
        if id(raw) in trainable:
            np.testing.assert_allclose(ema.numpy(), 0.75 * old + 0.25 * raw.numpy(),
                                       atol=1e-6, err_msg=ema.path)
            moved += int(np.any(raw.numpy() != old))
        else:  # batch-norm statistics are copied
            np.testing.assert_array_equal(ema.numpy(), raw.numpy())
    assert moved > 0
    latents = np.random.default_rng(0).standard_normal((2, 4)).astype("float32")
    expected = gan.generator_ema(latents, training=False).numpy()
    np.testing.assert_allclose(gan.generate(2, seed=0, batch_size=2)[:1],
                               gan.generator_ema(
                                   __import__("ganzoo")._sampling.latents(2, 4, 0),
                                   training=False).numpy()[:1], atol=1e-6)
    assert not np.allclose(expected, gan.generator(latents, training=False).numpy())


def test_the_ema_generator_round_trips_through_a_preset(tmp_path):
    gan = _Averaged(**TINY, seed=3)
    for weight in gan.generator_ema.trainable_variables + gan.generator_ema.weights:
        weight.assign(weight.numpy() + 0.125)
    gan.save_to_preset(tmp_path / "p")
    back = _from_preset(_Averaged, tmp_path / "p")
    for a, b in zip(gan.generator_ema.weights, back.generator_ema.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_the_ema_is_exact_under_distribution(two_cpu_strategy):
    report = family_helpers.check_equal_weights_under_distribution(
        _Averaged, TINY, two_cpu_strategy)
    assert any(path.startswith("generator_ema/") for path in report["weights"])


def _from_preset(family_cls, folder):
    """Load a preset saved by an unregistered test subclass into a fresh one."""
    from ganzoo import presets

    presets.verify(folder)
    model = family_cls.from_config(presets.read_config(folder)["config"])
    presets.load_weights(model, folder / presets.WEIGHTS_FILE)
    return model


def test_a_sampling_option_the_family_does_not_take_is_one_line():
    gan = models.DCGAN(**TINY)
    with pytest.raises(ValueError, match="^dcgan takes no sampling option truncation$"):
        gan.sample(2, seed=0, truncation=0.5)
    assert gan.sample(2, seed=0, truncation=None).shape == (2, 16, 16, 1)


class _Phased(models.DCGAN):
    """A warm-up phase that trains only the generator towards zero images."""

    def phases(self):
        return (("warmup", 3), ("adversarial", None))

    def train_step(self, data):
        if self.phase == "warmup":
            images, _ = self.unpack_batch(data)
            with tf.GradientTape() as tape:
                fake = self.generator(self.generator_inputs(tf.shape(images)[0]),
                                      training=True)
                loss = self.average_loss(tf.reduce_mean(tf.square(fake), axis=[1, 2, 3]))
                scaled = self.g_optimizer.scale_loss(loss)
            self.apply_gradients(self.g_optimizer, tape, scaled, self.generator_variables())
            return self.record(d_loss=tf.constant(0.0), g_loss=loss)
        return super().train_step(data)


def test_phases_switch_at_their_step_and_survive_a_preset(tmp_path):
    gan = _Phased(**TINY, seed=1)
    gan.compile()
    assert gan.phase == "warmup"
    data = tf.data.Dataset.from_tensor_slices(
        family_helpers.digits(8, (16, 16, 1))).batch(4).repeat()
    seen = []

    class Watch(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append((self.model.phase, float(logs["d_loss"])))

    gan.fit(data, epochs=1, steps_per_epoch=5, verbose=0, callbacks=[Watch()])
    assert [phase for phase, _ in seen] == ["warmup"] * 3 + ["adversarial"] * 2
    assert int(gan.phase_steps.numpy()) == 5
    # The discriminator only starts learning in the adversarial phase.
    assert gan.d_optimizer.iterations.numpy() == 2
    gan.save_to_preset(tmp_path / "p")
    back = _from_preset(_Phased, tmp_path / "p")
    assert int(back.phase_steps.numpy()) == 5
    back.compile()
    seen.clear()
    back.fit(data, epochs=1, steps_per_epoch=1, verbose=0, callbacks=[Watch()])
    assert [phase for phase, _ in seen] == ["adversarial"]


def test_image_to_image_families_take_no_latent_size():
    class ImageFed(models.ImageToImage):
        def build_generator(self):
            return keras.Sequential([keras.Input((None, None, 1)), keras.layers.Conv2D(1, 1)])

        build_discriminator = build_generator

    assert ImageFed(image_shape=(16, 16, 1)).latent_dim is None
    with pytest.raises(ValueError, match="fed images, not latents"):
        ImageFed(image_shape=(16, 16, 1), latent_dim=4)


def test_the_base_registry_is_untouched_by_test_subclasses():
    assert "_Phased" not in {cls.__name__ for cls in base.registered_families().values()}
