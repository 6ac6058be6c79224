"""The shared trainer's plumbing: one registration per family, networks built without
being asked, shared argument checks."""

import keras
import numpy as np
import pytest

from ganzoo import _validation, models
from ganzoo.models import base


def test_the_decorator_is_the_one_source_of_a_family_name():
    for name in models.names():
        family = models.get(name)
        assert family.family == name
        assert keras.saving.get_registered_object(f"ganzoo>{family.__name__}") is family
        assert base.registered_families()[name] is family


def test_a_family_name_cannot_be_taken_twice():
    with pytest.raises(ValueError, match="already taken by DCGAN"):
        @base.register_family("dcgan")
        class Impostor(models.DCGAN):
            pass


def test_only_models_of_a_task_register():
    with pytest.raises(ValueError, match="subclasses of ganzoo.models.NoiseToImage or "
                                         "ImageToImage"):
        base.register_family("nope")(keras.Model)

    class TaskLess(models.AdversarialModel):
        pass

    with pytest.raises(ValueError, match="NoiseToImage or ImageToImage"):
        base.register_family("taskless")(TaskLess)


class _Counting(models.DCGAN):
    """A subclass of a family whose own __init__ does not build anything."""

    builds = 0

    def __init__(self, marker=0, **kwargs):
        super().__init__(**kwargs)
        self.marker = marker

    def build_generator(self):
        type(self).builds += 1
        return super().build_generator()


def test_networks_are_built_once_after_the_outermost_init():
    _Counting.builds = 0
    gan = _Counting(marker=3, image_shape=(16, 16, 1), latent_dim=4, generator_filters=4,
                    discriminator_filters=4)
    assert _Counting.builds == 1
    assert gan.built and gan.marker == 3
    assert gan.generator(np.zeros((2, 4), "float32")).shape == (2, 16, 16, 1)


def test_a_family_that_forgets_nothing_still_gets_its_config():
    gan = models.DCGAN(image_shape=(16, 16, 1), latent_dim=4, generator_filters=4,
                       discriminator_filters=4, seed=2)
    twin = models.DCGAN.from_config(gan.get_config())
    assert twin.get_config() == gan.get_config()


@pytest.mark.parametrize("shape, message", [
    ((16, 16), "must be (height, width, channels)"),
    ((16, 16, 2), "must have 1 or 3 channels"),
    ((16.5, 16, 1), "must be (height, width, channels)"),
    ((True, 16, 1), "must be (height, width, channels)"),
    ("abc", "must be (height, width, channels)"),
    ((0, 16, 1), "must be (height, width, channels)"),
])
def test_image_shape_check_is_one_line(shape, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _validation.check_image_shape(shape)


def test_image_shape_check_takes_numpy_ints_and_a_minimum():
    assert _validation.check_image_shape(np.array([16, 16, 3])) == (16, 16, 3)
    with pytest.raises(ValueError, match="at least 16x16"):
        _validation.check_image_shape((8, 8, 1), min_size=16)


@pytest.mark.parametrize("kwargs, message", [
    (dict(latent_dim=0), "latent_dim must be a positive integer"),
    (dict(latent_dim=2.5), "latent_dim must be a positive integer"),
    (dict(generator_filters=-1), "generator_filters must be a positive integer"),
])
def test_constructor_arguments_are_checked_by_the_shared_checks(kwargs, message):
    arguments = dict(image_shape=(16, 16, 1), latent_dim=4, generator_filters=4,
                     discriminator_filters=4)
    with pytest.raises(ValueError, match=message):
        models.DCGAN(**{**arguments, **kwargs})


def test_gan_units_are_checked_each():
    with pytest.raises(ValueError, match=r"generator_units\[1\] must be a positive integer"):
        models.VanillaGAN(image_shape=(8, 8, 1), generator_units=(8, 2.5))


def _tiny_dcgan(seed=1):
    return models.DCGAN(image_shape=(16, 16, 1), latent_dim=4, generator_filters=4,
                        discriminator_filters=4, seed=seed)


def _digits_batch(n=8):
    from sklearn.datasets import load_digits
    import tensorflow as tf

    images = load_digits().images[:n, :, :, None].astype("float32") / 8.0 - 1.0
    return tf.image.resize(images, (16, 16)).numpy()


def _one_step(gan, g_optimizer, d_optimizer):
    import tensorflow as tf

    gan.compile(g_optimizer, d_optimizer)
    data = tf.data.Dataset.from_tensor_slices(_digits_batch()).batch(8)
    gan.fit(data, epochs=1, verbose=0)
    return {v.path: v.numpy() for v in gan.discriminator.trainable_variables
            + gan.generator.trainable_variables}


def test_layer_losses_join_the_network_loss():
    """An L2 regulariser on the logit kernel adds exactly -lr * 2c * w to its SGD step."""
    lr, c = 0.1, 0.5
    plain, regularised = _tiny_dcgan(), _tiny_dcgan()
    regularised.set_weights(plain.get_weights())
    kernel = regularised.discriminator.get_layer("logit").kernel
    before = kernel.numpy().copy()
    kernel.regularizer = keras.regularizers.L2(c)
    after_plain = _one_step(plain, keras.optimizers.SGD(lr), keras.optimizers.SGD(lr))
    after_reg = _one_step(regularised, keras.optimizers.SGD(lr), keras.optimizers.SGD(lr))
    extra = after_reg[kernel.path] - after_plain[kernel.path]
    np.testing.assert_allclose(extra, -lr * 2 * c * before, atol=1e-6)


def test_loss_scaling_optimizers_take_the_same_step():
    """Gradients go through optimizer.scale_loss, so a LossScaleOptimizer (mixed
    precision) unscales them back to the plain step."""
    plain, scaled = _tiny_dcgan(), _tiny_dcgan()
    scaled.set_weights(plain.get_weights())
    after_plain = _one_step(plain, keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1))
    after_scaled = _one_step(
        scaled,
        keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1), initial_scale=2.0**10),
        keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1), initial_scale=2.0**10),
    )
    for path, value in after_plain.items():
        np.testing.assert_allclose(after_scaled[path], value, atol=1e-5, err_msg=path)


def test_a_global_batch_that_does_not_split_over_replicas_is_refused(two_cpu_strategy):
    import tensorflow as tf

    with two_cpu_strategy.scope():
        gan = _tiny_dcgan()
        gan.compile()
    data = tf.data.Dataset.from_tensor_slices(_digits_batch(14)).batch(7, drop_remainder=True)
    with pytest.raises(ValueError, match="global batch of 7 does not split evenly over 2"):
        gan.fit(data, epochs=1, verbose=0)
