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
    penalty = losses.gradient_penalty(critic, real, fake)
    np.testing.assert_allclose(penalty, [(np.sqrt(16 * 0.25) - 1) ** 2] * 3, rtol=1e-5)
    np.testing.assert_allclose(losses.r1_penalty(critic, real), [16 * 0.25] * 3, rtol=1e-5)


def test_registry():
    assert losses.get("hinge") == (losses.hinge_discriminator_loss, losses.hinge_generator_loss)
    with pytest.raises(ValueError, match="Unknown adversarial loss 'x'"):
        losses.get("x")
