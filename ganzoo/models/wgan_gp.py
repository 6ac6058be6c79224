"""WGAN-GP (Gulrajani et al. 2017, https://arxiv.org/abs/1704.00028).

Algorithm 1 of the paper: a critic scores images with an unbounded real number (no
sigmoid), trained to maximise the Wasserstein estimate D(x) - D(G(z)) under a gradient
penalty lambda * (||grad D(x_hat)||_2 - 1)^2 at random interpolates
x_hat = x + eps * (G(z) - x), eps ~ U[0, 1), lambda = 10; `n_critic` = 5 critic steps,
each on fresh real images, for every generator step; Adam(1e-4, beta_1=0, beta_2=0.9) for
both networks.

The critic has no batch norm: the penalty is taken per example, and batch norm mixes the
examples of a batch. It uses layer norm instead, as the paper recommends (normalised over
height, width and channels per example, with a scale and offset per channel, as the
authors' code does); strided 5x5 convolutions with LeakyReLU 0.2, doubling the width as
the resolution halves, and a linear output. The generator is the DCGAN generator
(`ganzoo.models.dcgan.build_dcgan_generator`: transposed convolutions, batch norm
synchronised across replicas, tanh output), as in the paper's DCGAN-architecture
experiments.

How a `fit` batch maps onto the critic steps: one `fit` batch feeds one `train_step`,
that is `n_critic` critic steps and one generator step. Each replica's share of the batch
is split into `n_critic` equal chunks, critic step k taking rows k, k + n_critic,
k + 2 n_critic, ... of it, so every critic step sees real images no other step of the
train step saw; each critic step and the generator step draw as many latents as a chunk
holds. A batch of 320 on one device is therefore 5 critic steps of 64 real and 64 fake
images and a generator step of 64, the paper's setting. The chunks are interleaved rather
than contiguous because a replica's share is a contiguous slice of the global batch: with
interleaving, critic step k on N replicas sees exactly the images it sees on one device,
so a step on N replicas equals a step on one device. A batch that does not split into
`n_critic` x replicas equal chunks is one clear error.
"""

import keras
import tensorflow as tf

from ganzoo import _validation
from ganzoo import losses as losses_lib
from ganzoo.models.base import register_family
from ganzoo.models.tasks import NoiseToImage
from ganzoo.models.dcgan import build_dcgan_generator


def _init():
    return keras.initializers.RandomNormal(stddev=0.02)


def build_wgan_gp_critic(image_shape, filters, layer_norm=True, name="discriminator"):
    """images (B, H, W, C) -> one unbounded score per image (B, 1).

    Strided 5x5 convolutions from the image size down to 4x4 (LeakyReLU 0.2, layer norm
    after every convolution but the first when `layer_norm`), then a linear score with no
    sigmoid.
    """
    stages = _num_stages(image_shape)
    images = keras.Input(image_shape, name="images")
    x = images
    width = filters
    for stage in range(stages):
        x = keras.layers.Conv2D(
            width, 5, strides=2, padding="same", kernel_initializer=_init(),
            name=f"down{stage}_conv",
        )(x)
        if layer_norm and stage > 0:
            # One group: statistics over height, width and channels of each example, a
            # scale and offset per channel. Nothing is shared between examples, so the
            # gradient penalty of each interpolate is its own.
            x = keras.layers.GroupNormalization(groups=1, name=f"down{stage}_ln")(x)
        x = keras.layers.LeakyReLU(0.2, name=f"down{stage}_lrelu")(x)
        width *= 2
    x = keras.layers.Flatten(name="flatten")(x)
    # No bias: a constant added to every score cancels out of D(x) - D(G(z)) and of the
    # penalty, so it would never be trained.
    scores = keras.layers.Dense(1, use_bias=False, kernel_initializer=_init(),
                                dtype="float32", name="score")(x)
    return keras.Model(images, scores, name=name)


def _batch_size(images):
    """The batch size: a Python int where the shape is known, else a scalar tensor."""
    return images.shape[0] if images.shape[0] is not None else tf.shape(images)[0]


def _num_stages(image_shape):
    """Resolution halvings from the image size down to 4x4."""
    return image_shape[0].bit_length() - 3


@register_family("wgan_gp")
class WGANGP(NoiseToImage):
    """Wasserstein GAN with gradient penalty (Gulrajani et al. 2017).

    Each `train_step` is `n_critic` critic steps, each on its own chunk of the batch, then
    one generator step (see the module docstring for how a batch is split). The logs are
    `d_loss` (the critic's Wasserstein loss D(G(z)) - D(x), mean over the critic steps: its
    negative estimates the Wasserstein distance), `gp` (lambda times the penalty, mean over
    the critic steps) and `g_loss` (-D(G(z))). `compile(gp_weight=...)` sets lambda.

    Args:
        image_shape: tuple. `(size, size, channels)`: a square power of two from 16 up,
            1 or 3 channels. Defaults to `(64, 64, 3)`.
        latent_dim: int. Latent size. Defaults to 128 as in the paper.
        generator_filters: int. Width of the generator's last hidden layer (doubling
            towards the 4x4 input). Defaults to 64.
        discriminator_filters: int. Width of the critic's first layer (doubling with each
            downsampling). Defaults to 64.
        n_critic: int. Critic steps per generator step. Defaults to 5 as in the paper.
        layer_norm: bool. Layer norm in the critic, as the paper recommends in place of
            batch norm. Defaults to True.
        seed: int or None. Seed of the training noise.
        name: str or None. Model name.

    Examples:
    ```python
    # A batch of 320 is 5 critic steps of 64 images and a generator step of 64.
    data = ganzoo.data.load("digits", image_size=32, batch_size=320)
    gan = ganzoo.models.WGANGP(image_shape=(32, 32, 1), latent_dim=64)
    gan.compile()  # Adam(1e-4, beta_1=0, beta_2=0.9), lambda = 10
    gan.fit(data, epochs=5)
    images = gan.sample(16, seed=0)  # uint8 (16, 32, 32, 1)
    ```
    """

    default_loss = "wasserstein"
    loss_names = ("d_loss", "g_loss", "gp")
    # `ganzoo train`'s default: 5 critic chunks of 32 (the batch holds every critic step).
    default_batch_size = 160

    def __init__(self, image_shape=(64, 64, 3), latent_dim=128, generator_filters=64,
                 discriminator_filters=64, n_critic=5, layer_norm=True, seed=None,
                 name=None, **kwargs):
        super().__init__(image_shape=image_shape, latent_dim=latent_dim, seed=seed,
                         name=name, **kwargs)
        height, width, _ = self.image_shape
        if height != width or height < 16 or height & (height - 1):
            raise ValueError(
                "WGANGP images must be square with a power-of-two size from 16 up. "
                f"Received: image_shape={self.image_shape}"
            )
        self.generator_filters = _validation.check_count(generator_filters, "generator_filters")
        self.discriminator_filters = _validation.check_count(
            discriminator_filters, "discriminator_filters"
        )
        self.n_critic = _validation.check_count(n_critic, "n_critic")
        if not isinstance(layer_norm, bool):
            raise ValueError(
                f"layer_norm must be True or False. Received: layer_norm={layer_norm!r}"
            )
        self.layer_norm = layer_norm
        self.gp_weight = 10.0

    def build_generator(self):
        return build_dcgan_generator(self.image_shape, self.latent_dim, self.generator_filters)

    def build_discriminator(self):
        return build_wgan_gp_critic(self.image_shape, self.discriminator_filters,
                                    layer_norm=self.layer_norm)

    def default_optimizers(self):
        """Adam(1e-4, beta_1=0, beta_2=0.9) for both networks (the paper's Algorithm 1)."""
        return (
            keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9, name="g_adam"),
            keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9, name="d_adam"),
        )

    def configure_losses(self, gp_weight=10.0, **loss_options):
        """`gp_weight`: lambda, the weight of the gradient penalty (10 in the paper)."""
        super().configure_losses(**loss_options)
        if isinstance(gp_weight, bool) or not isinstance(gp_weight, (int, float)) \
                or gp_weight < 0:
            raise ValueError(
                f"gp_weight must be a non-negative number. Received: gp_weight={gp_weight!r}"
            )
        self.gp_weight = float(gp_weight)

    # -- the step: n_critic critic steps, then one generator step ----------------------

    def interpolation_weights(self, batch_size):
        """Given mixing weights `(batch_size, 1, 1, 1)` for the gradient penalty, or None.

        None (the default) lets `ganzoo.losses.gradient_penalty` draw eps ~ U[0, 1) from
        this replica's and step's `noise_seed()`. Tests override this to feed the weights.
        """
        return None

    def penalty(self, real_images, fake_images, labels=None):
        """lambda * (||grad D(x_hat)||_2 - 1)^2 per example at the interpolates."""
        weights = self.interpolation_weights(_batch_size(real_images))
        penalty = losses_lib.gradient_penalty(
            self.discriminator, real_images, fake_images, weights,
            seed=self.noise_seed() if weights is None else None,
            inputs_fn=lambda images: self.discriminator_inputs(images, labels),
        )
        return self.gp_weight * penalty

    def critic_chunks(self, real_images, labels=None):
        """The n_critic (images, labels) chunks of a replica's batch: chunk k is rows
        k, k + n_critic, ...; one clear error when the batch does not split evenly."""
        batch = real_images.shape[0]
        if batch is not None and batch % self.n_critic:
            raise ValueError(self._uneven_batch_message(batch))
        if batch is None:
            # Known only when the step runs (data batched without drop_remainder); `fit`
            # turns this into the same ValueError.
            tf.debugging.assert_equal(
                tf.shape(real_images)[0] % self.n_critic, 0,
                message=self._uneven_batch_message(None),
            )
        return [
            (real_images[k::self.n_critic], None if labels is None else labels[k::self.n_critic])
            for k in range(self.n_critic)
        ]

    def _uneven_batch_message(self, batch):
        replicas = self.num_replicas()
        if batch is None:
            share = "a batch of the data"
        else:
            share = f"a batch of {batch}" + (" per replica" if replicas > 1 else "")
        return (
            f"wgan_gp splits each batch into n_critic={self.n_critic} equal chunks, one per "
            f"critic step; {share} does not split evenly: use a batch size that is a "
            f"multiple of {self.n_critic * replicas} (n_critic x replicas)"
            + (" and drop_remainder=True" if batch is None else "")
        )

    def fit(self, *args, **kwargs):
        try:
            return super().fit(*args, **kwargs)
        except tf.errors.InvalidArgumentError as error:
            message = self._uneven_batch_message(None)
            if message in str(error):
                raise ValueError(message) from None
            raise

    def critic_step(self, real_images, labels=None):
        """One critic update on a chunk of real images; returns (d_loss, gp)."""
        chunk_size = _batch_size(real_images)
        # Outside the tape: the critic's gradients do not flow into the generator.
        fake_images = self.generator(self.generator_inputs(chunk_size, labels), training=True)
        # With compile(augment=...), the critic sees augmented images and the penalty is
        # taken at interpolates of the augmented real and fake images (as DiffAugment's
        # WGAN-GP code does).
        real_images = self.augment_images(real_images)
        fake_images = self.augment_images(fake_images)
        with tf.GradientTape() as tape:
            real_scores = self.discriminator(
                self.discriminator_inputs(real_images, labels), training=True
            )
            fake_scores = self.discriminator(
                self.discriminator_inputs(fake_images, labels), training=True
            )
            d_loss = self.average_loss(self.d_loss_fn(real_scores, fake_scores))
            gp = self.average_loss(self.penalty(real_images, fake_images, labels))
            total = d_loss + gp + self.network_losses(self.discriminator)
            scaled = self.d_optimizer.scale_loss(total)
        self.apply_gradients(self.d_optimizer, tape, scaled, self.discriminator_variables())
        self.observe_real_logits(real_scores)
        return d_loss, gp

    def train_step(self, data):
        real_images, labels = self.unpack_batch(data)
        self.check_batch(real_images)
        chunks = self.critic_chunks(real_images, labels)

        d_losses, penalties = [], []
        for chunk_images, chunk_labels in chunks:
            d_loss, gp = self.critic_step(chunk_images, chunk_labels)
            d_losses.append(d_loss)
            penalties.append(gp)

        chunk_size = _batch_size(chunks[0][0])
        with tf.GradientTape() as tape:
            fake_images = self.generator(
                self.generator_inputs(chunk_size, chunks[-1][1]), training=True
            )
            fake_scores = self.discriminator(
                self.discriminator_inputs(self.augment_images(fake_images), chunks[-1][1]),
                training=True
            )
            g_loss = self.average_loss(self.g_loss_fn(fake_scores))
            total = g_loss + self.network_losses(self.generator)
            scaled = self.g_optimizer.scale_loss(total)
        self.apply_gradients(self.g_optimizer, tape, scaled, self.generator_variables())

        return self.record(d_loss=tf.add_n(d_losses) / self.n_critic, g_loss=g_loss,
                           gp=tf.add_n(penalties) / self.n_critic)

    def test_step(self, data):
        real_images, labels = self.unpack_batch(data)
        self.check_batch(real_images)
        batch_size = tf.shape(real_images)[0]
        fake_images = self.generator(self.generator_inputs(batch_size, labels), training=False)
        real_scores = self.discriminator(
            self.discriminator_inputs(real_images, labels), training=False
        )
        fake_scores = self.discriminator(
            self.discriminator_inputs(fake_images, labels), training=False
        )
        return self.record(
            d_loss=self.average_loss(self.d_loss_fn(real_scores, fake_scores)),
            g_loss=self.average_loss(self.g_loss_fn(fake_scores)),
            gp=self.average_loss(self.penalty(real_images, fake_images, labels)),
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "generator_filters": self.generator_filters,
                "discriminator_filters": self.discriminator_filters,
                "n_critic": self.n_critic,
                "layer_norm": self.layer_norm,
            }
        )
        return config
