"""`compile(augment=...)` in every noise-to-image family: the discriminator sees augmented
real and generated images, the generator trains through the augmentation, a step on two
replicas equals a step on one device with augmentation on, ADA's p is one value on every
replica, and `fit` takes uint8 pixels but refuses floats outside [-1, 1]."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from ganzoo import augment, models

import family_helpers
from test_cgan import TINY_CGAN, fed_labels
from test_cyclegan import TINY_CYCLEGAN
from test_models import deterministic_kwargs
from test_srgan import TINY_SRGAN
from test_stylegan_lite import TINY_STYLEGAN_LITE, fed_stylegan
from test_wgan_gp import TINY_WGAN_GP, FedInterpolationWGANGP


def ada(**overrides):
    """ADA with a fixed start p = 0.5 that adjusts after every discriminator update."""
    return lambda: augment.ADA(**{"p": 0.5, "interval": 1, **overrides})


# (family class, constructor arguments, learning rate) of every noise-to-image family, fed
# as each family's own distribution test feeds it.
FAMILIES = {
    "gan": (models.VanillaGAN, deterministic_kwargs("gan"), 1.0),
    "dcgan": (models.DCGAN, deterministic_kwargs("dcgan"), 1.0),
    # cgan at 0.05: a step of 1.0 leaves its spectrally normalised ReLU discriminator dead
    # on the fakes, and the generator gets no gradient (test_cgan.py does the same).
    "cgan": (None, {**TINY_CGAN, "seed": 1}, 0.05),
    "wgan_gp": (FedInterpolationWGANGP, {**TINY_WGAN_GP, "seed": 1}, 0.1),
    "stylegan_lite": (None, {**TINY_STYLEGAN_LITE, "seed": 1, "ema_half_life_images": 8}, 0.1),
    "sagan": (models.SAGAN, deterministic_kwargs("sagan"), 1.0),
}


def family_case(name):
    family_cls, kwargs, learning_rate = FAMILIES[name]
    if name == "cgan":
        class NonSaturating(fed_labels(3)):
            default_loss = "non_saturating"

        family_cls = NonSaturating
    elif name == "stylegan_lite":
        family_cls = fed_stylegan()
    return family_cls, kwargs, learning_rate


# -- exact under distribution, augmentation on ------------------------------------------


@pytest.mark.parametrize("name, spec", [
    ("gan", "ada"), ("dcgan", "diffaugment"), ("dcgan", "ada"), ("cgan", "diffaugment"),
    ("wgan_gp", "ada"), ("stylegan_lite", "ada"),
    pytest.param("sagan", "ada", marks=pytest.mark.slow),
    pytest.param("stylegan_lite", "diffaugment", marks=pytest.mark.slow),
])
def test_augmented_step_on_two_replicas_equals_one_step_on_one_device(name, spec,
                                                                       two_cpu_strategy):
    family_cls, kwargs, learning_rate = family_case(name)
    factory = ada() if spec == "ada" else (lambda: augment.DiffAugment())
    report = family_helpers.check_equal_weights_under_distribution(
        family_cls, kwargs, two_cpu_strategy, learning_rate=learning_rate, augment=factory)
    single, replicated = report["augment_states"]
    if spec == "ada":
        # p moved in the step (r_t summed over both replicas) and is one value everywhere.
        assert single["p"] != 0.5
        np.testing.assert_allclose(replicated["p"], single["p"], rtol=0, atol=1e-7)
        assert {"aug_p", "r_t"} <= set(report["replica_logs"])


class _PerReplicaDraws(models.DCGAN):
    """Fault: each replica draws its augmentation for its own rows only (no global batch)."""

    def augment_images(self, images, seed=None):
        if self.augmentation is None:
            return images
        return self.augmentation(images, self.augment_seed())


def test_the_distribution_check_fails_when_replicas_draw_their_own_augmentations(
        two_cpu_strategy):
    with pytest.raises(AssertionError, match="replicas differ from one device"):
        family_helpers.check_equal_weights_under_distribution(
            _PerReplicaDraws, deterministic_kwargs("dcgan"), two_cpu_strategy,
            augment=lambda: augment.DiffAugment(policy="translation,cutout"))


# -- what the discriminator sees ----------------------------------------------------------


class Blank(augment.Augmentation):
    """Every image becomes zeros: a discriminator that sees only this cannot tell real
    from fake."""

    name = "blank"

    def __call__(self, images, seed, offset=0, total=None):
        return images * 0.0


def test_the_discriminator_sees_augmented_reals_and_fakes_in_both_steps():
    gan = models.VanillaGAN(**deterministic_kwargs("gan"))
    gan.compile(augment=Blank())
    images = family_helpers.digits(16, (16, 16, 1))
    history = gan.fit(tf.data.Dataset.from_tensors(images), epochs=1, verbose=0).history
    # After the step D(0) is what the generator step saw for every fake.
    logit = float(gan.discriminator(np.zeros((1, 16, 16, 1), "float32"))[0, 0])
    np.testing.assert_allclose(history["g_loss"][-1], np.logaddexp(0, -logit), rtol=1e-5)
    # The discriminator step saw zeros for reals and fakes alike: its loss is that of one
    # logit c on both sides, softplus(-c) + softplus(c) >= 2 log 2, whatever c was.
    assert history["d_loss"][-1] >= 2 * np.log(2) - 1e-6


@pytest.mark.parametrize("name", ["gan", "dcgan", "cgan", "wgan_gp", "stylegan_lite",
                                  pytest.param("sagan", marks=pytest.mark.slow)])
def test_the_generator_is_trained_through_the_augmentation(name):
    family_cls, kwargs, _ = family_case(name)
    model = family_helpers.build_fed(family_cls, kwargs, 8)
    model.compile(augment=augment.ADA(p=1.0, adjust=False))
    images = family_helpers.digits(8, kwargs["image_shape"])
    before = [v.numpy().copy() for v in model.generator.trainable_variables]
    batch = tf.constant(images)
    if name == "cgan":
        batch = (batch, tf.constant(np.arange(8) % 3, tf.int32))
    model.train_step(batch)
    still = [v.path for v, old in zip(model.generator.trainable_variables, before)
             if np.array_equal(v.numpy(), old)]
    assert not still, f"generator weights without a gradient through the augmentation: {still}"


class _Detached(augment.Augmentation):
    """Fault: an augmentation that stops the gradient."""

    name = "detached"

    def __call__(self, images, seed, offset=0, total=None):
        return tf.stop_gradient(images)


def test_the_gradient_check_fails_when_the_augmentation_stops_gradients():
    model = models.DCGAN(**deterministic_kwargs("dcgan"))
    model.compile(augment=_Detached())
    # The generator step gets no gradient at all through a detached augmentation.
    with pytest.raises(ValueError, match="No gradients"):
        model.train_step(tf.constant(family_helpers.digits(8, (16, 16, 1))))


def test_ada_at_p_zero_trains_exactly_as_the_identity():
    class Identity(augment.Augmentation):
        name = "identity"

        def __call__(self, images, seed, offset=0, total=None):
            return images

    images = tf.constant(family_helpers.digits(16, (16, 16, 1)))
    results = []
    for augmentation in (Identity(), augment.ADA(p=0.0, adjust=False)):
        keras.utils.set_random_seed(0)
        model = models.DCGAN(**deterministic_kwargs("dcgan"))
        model.compile(augment=augmentation)
        for _ in range(2):
            model.train_step(images)
        results.append([v.numpy() for v in model.generator.weights + model.discriminator.weights])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


# -- augmentation lives in training alone ---------------------------------------------------


def test_presets_and_samples_are_the_same_with_augmentation(tmp_path):
    images = tf.data.Dataset.from_tensors(family_helpers.digits(16, (16, 16, 1)))
    model = models.DCGAN(**deterministic_kwargs("dcgan"))
    model.compile(augment="ada")
    model.fit(images, epochs=1, verbose=0)
    model.save_to_preset(tmp_path / "preset")
    plain = models.DCGAN(**deterministic_kwargs("dcgan"))
    plain.save_to_preset(tmp_path / "plain")
    loaded = models.DCGAN.from_preset(tmp_path / "preset")
    assert loaded.augmentation is None
    np.testing.assert_array_equal(loaded.sample(4, seed=3), model.sample(4, seed=3))
    with __import__("h5py").File(tmp_path / "preset" / "model.weights.h5") as a, \
            __import__("h5py").File(tmp_path / "plain" / "model.weights.h5") as b:
        names = []
        a.visit(names.append)
        plain_names = []
        b.visit(plain_names.append)
    assert names == plain_names


@pytest.mark.parametrize("family", ["cyclegan", "srgan"])
def test_image_to_image_families_refuse_augmentation_in_one_line(family):
    model_kwargs = {"cyclegan": TINY_CYCLEGAN, "srgan": TINY_SRGAN}[family]
    model = models.get(family)(**model_kwargs)
    with pytest.raises(ValueError, match=f"^{family} takes no augment=") as error:
        model.compile(augment="diffaugment")
    assert "\n" not in str(error.value)


def test_unknown_augmentation_is_one_line():
    model = models.DCGAN(**deterministic_kwargs("dcgan"))
    with pytest.raises(ValueError, match="sideways") as error:
        model.compile(augment="sideways")
    assert "\n" not in str(error.value)


# -- fit takes pixels -------------------------------------------------------------------------


def test_fit_scales_uint8_images_as_data_load_does():
    pixels = np.random.default_rng(0).integers(0, 256, (16, 16, 16, 1)).astype("uint8")
    results = []
    for images in (pixels, pixels.astype("float32") / 127.5 - 1.0):
        keras.utils.set_random_seed(0)
        model = models.DCGAN(**deterministic_kwargs("dcgan"))
        model.compile()
        model.fit(images, batch_size=16, epochs=1, verbose=0, shuffle=False)
        results.append([v.numpy() for v in model.discriminator.trainable_variables])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_fit_refuses_float_pixels_outside_the_model_range_in_one_line():
    model = models.DCGAN(**deterministic_kwargs("dcgan"))
    model.compile()
    before = [v.numpy().copy() for v in model.discriminator.trainable_variables]
    pixels = np.random.default_rng(0).uniform(0, 255, (16, 16, 16, 1)).astype("float32")
    with pytest.raises(ValueError, match=r"outside \[-1, 1\].*value_range=") as error:
        model.fit(pixels, batch_size=16, epochs=1, verbose=0)
    assert "\n" not in str(error.value)
    # Refused before the step changed anything.
    assert all(np.array_equal(v.numpy(), old)
               for v, old in zip(model.discriminator.trainable_variables, before))
