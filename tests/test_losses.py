"""Adversarial losses against hand-computed values."""

import numpy as np
import pytest
import tensorflow as tf

from ganzoo import losses


def test_bce_losses_at_zero_logits():
    zeros = tf.zeros([4, 1])
    np.testing.assert_allclose(losses.bce_discriminator_loss(zeros, zeros), [2 * np.log(2)] * 4, rtol=1e-6)
    np.testing.assert_allclose(losses.non_saturating_generator_loss(zeros), [np.log(2)] * 4, rtol=1e-6)
    np.testing.assert_allclose(losses.minimax_generator_loss(zeros), [-np.log(2)] * 4, rtol=1e-6)


def test_non_saturating_is_minus_log_sigmoid():
    logits = tf.constant([[-3.0], [0.5], [4.0]])
    expected = -np.log(1 / (1 + np.exp(-np.array([-3.0, 0.5, 4.0]))))
    np.testing.assert_allclose(losses.non_saturating_generator_loss(logits), expected, rtol=1e-5)


def test_hinge_wasserstein_lsgan_values():
    real = tf.constant([[2.0], [0.5]])
    fake = tf.constant([[-2.0], [0.5]])
    np.testing.assert_allclose(losses.hinge_discriminator_loss(real, fake), [0.0, 0.5 + 1.5])
    np.testing.assert_allclose(losses.hinge_generator_loss(fake), [2.0, -0.5])
    np.testing.assert_allclose(losses.wasserstein_discriminator_loss(real, fake), [-4.0, 0.0])
    np.testing.assert_allclose(losses.lsgan_discriminator_loss(real, fake), [0.5 * (1 + 4), 0.5 * (0.25 + 0.25)])
    np.testing.assert_allclose(losses.lsgan_generator_loss(fake), [0.5 * 9, 0.5 * 0.25])


def test_patch_logits_are_averaged_per_example():
    patches = tf.constant(np.arange(8, dtype="float32").reshape(2, 2, 2, 1))
    np.testing.assert_allclose(losses.hinge_generator_loss(patches), [-1.5, -5.5])


def test_gradient_penalty_of_a_linear_critic():
    weights = tf.constant(np.full((4 * 4 * 1, 1), 0.5, "float32"))

    def critic(images, training=False):
        return tf.reshape(images, [-1, 16]) @ weights

    real = tf.random.normal([3, 4, 4, 1])
    fake = tf.random.normal([3, 4, 4, 1])
    penalty = losses.gradient_penalty(critic, real, fake, seed=tf.constant([1, 2]))
    np.testing.assert_allclose(penalty, [(np.sqrt(16 * 0.25) - 1) ** 2] * 3, rtol=1e-5)
    np.testing.assert_allclose(losses.r1_penalty(critic, real), [16 * 0.25] * 3, rtol=1e-5)


def _conditional_linear_critic(w):
    """f(x, y) = w . x + b[y]: a functional critic with images and labels as inputs."""
    import keras

    images = keras.Input((4, 4, 1), name="image")
    labels = keras.Input((), dtype="int32", name="label")
    flat = keras.layers.Flatten()(images)
    dense = keras.layers.Dense(1, use_bias=False, name="w")
    score = dense(flat)
    bias = keras.layers.Flatten()(keras.layers.Embedding(3, 1, name="b")(labels[:, None]))
    critic = keras.Model([images, labels], keras.layers.Add()([score, bias]))
    dense.set_weights([w.reshape(16, 1)])
    critic.get_layer("b").set_weights([np.array([[5.0], [-3.0], [7.0]], "float32")])
    return critic


@pytest.mark.parametrize("conditional", [False, True])
def test_gradient_penalty_is_lambda_norm_minus_one_squared_for_a_linear_critic(conditional):
    w = np.random.default_rng(0).normal(size=16).astype("float32")
    expected = (np.linalg.norm(w) - 1.0) ** 2
    real = tf.random.stateless_normal([5, 4, 4, 1], seed=[0, 1])
    fake = tf.random.stateless_normal([5, 4, 4, 1], seed=[0, 2])
    if conditional:
        critic = _conditional_linear_critic(w)
        kwargs = {"labels": tf.constant([0, 1, 2, 1, 0])}
    else:
        def critic(images, training=False):
            return tf.reshape(images, [-1, 16]) @ w.reshape(16, 1)
        kwargs = {}
    penalty = 10.0 * losses.gradient_penalty(critic, real, fake, seed=tf.constant([3, 4]),
                                             **kwargs)
    np.testing.assert_allclose(penalty, [10.0 * expected] * 5, rtol=1e-5)
    r1 = losses.r1_penalty(critic, real, **kwargs)
    np.testing.assert_allclose(r1, [np.sum(w ** 2)] * 5, rtol=1e-5)


def test_gradient_penalty_interpolates_with_seeded_weights():
    """The same seed mixes at the same points; another seed at others; none is refused."""
    seen = []

    def critic(images, training=False):
        seen.append(images)
        return tf.reduce_sum(images ** 2, axis=[1, 2, 3])[:, None]

    real = tf.zeros([4, 2, 2, 1])
    fake = tf.ones([4, 2, 2, 1])
    first = losses.gradient_penalty(critic, real, fake, seed=tf.constant([7, 0]))
    again = losses.gradient_penalty(critic, real, fake, seed=tf.constant([7, 0]))
    losses.gradient_penalty(critic, real, fake, seed=tf.constant([7, 1]))
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(seen[0], seen[2])
    with pytest.raises(ValueError, match="needs seed="):
        losses.gradient_penalty(critic, real, fake)


def test_registry():
    assert losses.get("hinge") == (losses.hinge_discriminator_loss, losses.hinge_generator_loss)
    with pytest.raises(ValueError, match="Unknown adversarial loss 'x'"):
        losses.get("x")
