"""Adversarial losses, per example.

Every function returns one loss value per example (shape `(batch,)`), so that the trainer
can reduce them with the *global* batch size under any `tf.distribute` strategy
(`tf.nn.compute_average_loss`). Logits are raw discriminator outputs (no sigmoid).

Losses are registered by name for `compile(loss=...)`:
- `"non_saturating"`: Goodfellow et al. 2014, the generator maximises log D(G(z)).
- `"minimax"`: the original saturating generator objective, log(1 - D(G(z))).
- `"hinge"`: Lim & Ye 2017 / Miyato et al. 2018 (SAGAN, SN-GAN).
- `"wasserstein"`: Arjovsky et al. 2017 (use with `gradient_penalty`, Gulrajani et al. 2017).
- `"lsgan"`: Mao et al. 2017, least squares with targets 1 (real) and 0 (fake).
"""

import tensorflow as tf


def _per_example(values):
    """Average every axis but the batch axis (PatchGAN logits are (B, H, W, 1))."""
    values = tf.convert_to_tensor(values)
    if values.shape.rank is not None and values.shape.rank > 1:
        return tf.reduce_mean(tf.reshape(values, [tf.shape(values)[0], -1]), axis=1)
    return values


def _bce_with_logits(targets_value, logits):
    logits = tf.cast(logits, tf.float32)
    targets = tf.fill(tf.shape(logits), tf.constant(targets_value, tf.float32))
    return _per_example(
        tf.nn.sigmoid_cross_entropy_with_logits(labels=targets, logits=logits)
    )


def bce_discriminator_loss(real_logits, fake_logits, label_smoothing=0.0):
    """-log D(x) - log(1 - D(G(z))); `label_smoothing` lowers the real target."""
    return _bce_with_logits(1.0 - label_smoothing, real_logits) + _bce_with_logits(
        0.0, fake_logits
    )


def non_saturating_generator_loss(fake_logits):
    """-log D(G(z)), the generator objective used in practice (Goodfellow 2014, §3)."""
    return _bce_with_logits(1.0, fake_logits)


def minimax_generator_loss(fake_logits):
    """log(1 - D(G(z))): the saturating objective of the minimax game."""
    return -_bce_with_logits(0.0, fake_logits)


def hinge_discriminator_loss(real_logits, fake_logits):
    """relu(1 - D(x)) + relu(1 + D(G(z)))."""
    real_logits = tf.cast(real_logits, tf.float32)
    fake_logits = tf.cast(fake_logits, tf.float32)
    return _per_example(tf.nn.relu(1.0 - real_logits)) + _per_example(
        tf.nn.relu(1.0 + fake_logits)
    )


def hinge_generator_loss(fake_logits):
    """-D(G(z))."""
    return -_per_example(tf.cast(fake_logits, tf.float32))


def wasserstein_discriminator_loss(real_logits, fake_logits):
    """D(G(z)) - D(x): the critic's negative Wasserstein estimate."""
    return _per_example(tf.cast(fake_logits, tf.float32)) - _per_example(
        tf.cast(real_logits, tf.float32)
    )


def wasserstein_generator_loss(fake_logits):
    """-D(G(z))."""
    return -_per_example(tf.cast(fake_logits, tf.float32))


def lsgan_discriminator_loss(real_logits, fake_logits):
    """(D(x) - 1)^2 + D(G(z))^2, halved as in Mao et al. 2017."""
    real_logits = tf.cast(real_logits, tf.float32)
    fake_logits = tf.cast(fake_logits, tf.float32)
    return 0.5 * (
        _per_example(tf.square(real_logits - 1.0)) + _per_example(tf.square(fake_logits))
    )


def lsgan_generator_loss(fake_logits):
    """(D(G(z)) - 1)^2, halved."""
    return 0.5 * _per_example(tf.square(tf.cast(fake_logits, tf.float32) - 1.0))


def _critic_inputs(images, labels, inputs_fn):
    """What the critic is called on: the images, `[images, labels]`, or `inputs_fn(images)`."""
    if inputs_fn is not None:
        return inputs_fn(images)
    if labels is not None:
        return [images, labels]
    return images


def gradient_penalty(critic, real_images, fake_images, interpolation=None, *, seed=None,
                     labels=None, inputs_fn=None):
    """(||grad D(x_hat)||_2 - 1)^2 at random interpolates (Gulrajani et al. 2017), per example.

    The interpolation weights are drawn from `seed` (a stateless seed, e.g. the model's
    `noise_seed()`, which differs per replica and step), so a run is reproducible and
    replicas draw different weights; or they are given.

    Args:
        critic: callable. The critic network.
        real_images: Tensor. A batch of real images (B, H, W, C).
        fake_images: Tensor. A batch of generated images of the same shape.
        interpolation: Tensor or None. Mixing weights of shape (B, 1, 1, 1).
        seed: Tensor or None. Stateless seed of shape (2,) for the mixing weights; required
            when `interpolation` is None.
        labels: Tensor or None. Class labels of a conditional critic, called on
            `[images, labels]`.
        inputs_fn: callable or None. Maps the interpolated images to the critic's inputs
            (e.g. a family's `discriminator_inputs`); overrides `labels`.

    Returns:
        The per-example penalty, shape (B,) (multiply by lambda, 10 in the paper).
    """
    batch_size = tf.shape(real_images)[0]
    if interpolation is None:
        if seed is None:
            raise ValueError(
                "gradient_penalty needs seed= (e.g. model.noise_seed()) or interpolation= "
                "weights: unseeded draws would differ between runs and replicas"
            )
        interpolation = tf.random.stateless_uniform([batch_size, 1, 1, 1], seed=seed)
    real_images = tf.cast(real_images, tf.float32)
    fake_images = tf.cast(fake_images, tf.float32)
    mixed = real_images + interpolation * (fake_images - real_images)
    with tf.GradientTape() as tape:
        tape.watch(mixed)
        logits = critic(_critic_inputs(mixed, labels, inputs_fn), training=True)
    gradients = tape.gradient(logits, mixed)
    norms = tf.sqrt(tf.reduce_sum(tf.square(gradients), axis=[1, 2, 3]) + 1e-12)
    return tf.square(norms - 1.0)


def r1_penalty(discriminator, real_images, *, labels=None, inputs_fn=None):
    """||grad D(x)||^2 on real data (Mescheder et al. 2018), per example (without gamma/2).

    Args:
        discriminator: callable. The discriminator network.
        real_images: Tensor. A batch of real images (B, H, W, C).
        labels, inputs_fn: as in `gradient_penalty`, for conditional discriminators.
    """
    real_images = tf.cast(real_images, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(real_images)
        logits = discriminator(_critic_inputs(real_images, labels, inputs_fn), training=True)
        logits = tf.reduce_sum(logits)
    gradients = tape.gradient(logits, real_images)
    return tf.reduce_sum(tf.square(gradients), axis=[1, 2, 3])


_LOSSES = {
    "non_saturating": (bce_discriminator_loss, non_saturating_generator_loss),
    "minimax": (bce_discriminator_loss, minimax_generator_loss),
    "hinge": (hinge_discriminator_loss, hinge_generator_loss),
    "wasserstein": (wasserstein_discriminator_loss, wasserstein_generator_loss),
    "lsgan": (lsgan_discriminator_loss, lsgan_generator_loss),
}


def names():
    """Names accepted by `compile(loss=...)`."""
    return sorted(_LOSSES)


def get(name):
    """(discriminator_loss, generator_loss) for a registered loss name."""
    if name not in _LOSSES:
        raise ValueError(
            f"Unknown adversarial loss {name!r}; expected one of {names()}"
        )
    return _LOSSES[name]
