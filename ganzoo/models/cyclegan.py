"""CycleGAN (Zhu, Park, Isola & Efros 2017, https://arxiv.org/abs/1703.10593).

Unpaired image-to-image translation between two domains A and B: a generator G: A -> B
(`a2b`), a generator F: B -> A (`b2a`) and a discriminator per domain, trained on batches
`(a, b)` of unrelated images (`ganzoo.data.load_unpaired`). As in the paper and the
authors' reference code (pytorch-CycleGAN-and-pix2pix):

- generators: Johnson et al.'s ResNet: reflection padding 3, c7s1-k (7x7 convolution,
  instance norm, ReLU), two stride-2 3x3 convolutions (2k, 4k), residual blocks of two
  reflection-padded 3x3 convolutions (6 blocks for images up to 128x128, 9 above), two
  stride-2 3x3 transposed convolutions (2k, k), reflection padding 3, a 7x7 convolution
  to the image channels and tanh. k = `filters` = 64 in the paper. Fully convolutional:
  a generator takes any height and width that are multiples of 4;
- discriminators: 70x70 PatchGANs, 4x4 convolutions C64-C128-C256 with stride 2 and C512
  with stride 1 (no instance norm on the first), LeakyReLU 0.2, then a 4x4 convolution
  to one logit per patch. `disc_filters` (64) scales the widths and `disc_layers` (3)
  the number of stride-2 convolutions (small images need fewer);
- instance normalisation without affine parameters (`ganzoo.layers.InstanceNormalization`);
  the convolutions it follows have no bias, which the normalisation would remove anyway
  (a bias there gets a zero gradient);
- weights drawn from N(0, 0.02) as in the reference code;
- losses: least-squares GAN (targets 1 real, 0 fake): a generator's adversarial loss is
  mean (D(G(x)) - 1)^2, a discriminator's 0.5 [mean (D(y) - 1)^2 + mean D(G(x))^2] (the
  halved discriminator loss of the paper); cycle consistency lambda * mean |F(G(a)) - a|
  + lambda * mean |G(F(b)) - b|, lambda = `cycle_weight` = 10; identity
  `identity_weight` * lambda * (mean |G(b) - b| + mean |F(a) - a|), identity_weight = 0.5;
- one step: both generators are updated on the sum of their adversarial, cycle and
  identity losses (one optimizer over both), then both discriminators on their losses,
  the fakes they judge coming from a history of 50 earlier fakes (`pool_size`, Shrivastava
  et al. 2017): once the pool is full, each fake is swapped with probability 1/2 for a
  stored one, which the discriminator judges instead. Fakes are those of the generators
  before their update, as in the reference code;
- Adam(2e-4, beta_1=0.5) for both optimizers; the learning rate decays linearly to 0 over
  the second half of training: pass `CycleGAN.default_callbacks(epochs)` to `fit`
  (`ganzoo.training.LinearDecay(epochs)`).

Distribution: the losses are per-example means over the global batch, instance norm
uses each image's own statistics, so a step on N replicas equals a step on one device
when the history pool is off (`pool_size=0`). The history pool is per replica: each
replica keeps its own 50 fakes, in `tf.distribute` on-read variables, and draws its own
swaps. It is training state only: presets and checkpoints do not hold it (a resumed run
starts with an empty pool, like the reference code).
"""

import keras
import numpy as np
import tensorflow as tf

from ganzoo import _imaging, _validation
from ganzoo import data as data_lib
from ganzoo.layers import InstanceNormalization, ReflectionPadding2D
from ganzoo.models.base import register_family
from ganzoo.models.tasks import ImageToImage
from ganzoo.schedules import LinearDecay

DIRECTIONS = ("a2b", "b2a")


def _weights_init():
    return keras.initializers.RandomNormal(0.0, 0.02)


def _conv(width, kernel_size, name, strides=1, use_bias=False):
    return keras.layers.Conv2D(width, kernel_size, strides=strides, padding="valid",
                               use_bias=use_bias, kernel_initializer=_weights_init(),
                               name=name)


def _norm_relu(x, name):
    x = InstanceNormalization(name=f"{name}_norm")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def _residual_block(x, width, name):
    """x + [reflect pad 1, conv 3x3, IN, ReLU, reflect pad 1, conv 3x3, IN](x)."""
    y = ReflectionPadding2D(1, name=f"{name}_pad1")(x)
    y = _conv(width, 3, f"{name}_conv1")(y)
    y = _norm_relu(y, f"{name}_1")
    y = ReflectionPadding2D(1, name=f"{name}_pad2")(y)
    y = _conv(width, 3, f"{name}_conv2")(y)
    y = InstanceNormalization(name=f"{name}_2_norm")(y)
    return keras.layers.Add(name=f"{name}_out")([x, y])


def build_resnet_generator(channels, filters=64, blocks=9, name="generator"):
    """image (B, H, W, channels) in [-1, 1] -> image (B, H, W, channels) in [-1, 1].

    H and W are dynamic (any multiple of 4).
    """
    image = keras.Input((None, None, channels), name="image")
    x = ReflectionPadding2D(3, name="c7s1_pad")(image)
    x = _conv(filters, 7, "c7s1_conv")(x)
    x = _norm_relu(x, "c7s1")
    for index, width in enumerate((2 * filters, 4 * filters), start=1):
        # Zero padding 1 on every side, then a stride-2 convolution: the reference code's
        # symmetric padding (Keras' "same" would pad only the bottom and right).
        x = keras.layers.ZeroPadding2D(1, name=f"down{index}_pad")(x)
        x = _conv(width, 3, f"down{index}_conv", strides=2)(x)
        x = _norm_relu(x, f"down{index}")
    for index in range(1, blocks + 1):
        x = _residual_block(x, 4 * filters, f"res{index}")
    for index, width in enumerate((2 * filters, filters), start=1):
        # PyTorch's ConvTranspose2d(k=3, s=2, padding=1, output_padding=1): the full
        # transposed convolution (2H + 1 rows) without its first row and column.
        x = keras.layers.Conv2DTranspose(width, 3, strides=2, padding="valid", use_bias=False,
                                         kernel_initializer=_weights_init(),
                                         name=f"up{index}_conv")(x)
        x = keras.layers.Cropping2D(((1, 0), (1, 0)), name=f"up{index}_crop")(x)
        x = _norm_relu(x, f"up{index}")
    x = ReflectionPadding2D(3, name="to_image_pad")(x)
    x = _conv(channels, 7, "to_image_conv", use_bias=True)(x)
    images = keras.layers.Activation("tanh", dtype="float32", name="images")(x)
    return keras.Model(image, images, name=name)


def build_patchgan_discriminator(image_shape, filters=64, layers=3, name="discriminator"):
    """images (B, H, W, C) -> patch logits (B, h, w, 1); 70x70 patches for layers=3."""
    images = keras.Input(tuple(image_shape), name="images")
    x = images
    for index in range(layers + 1):
        # `layers` stride-2 convolutions, then one of stride 1; widths double up to 8x.
        width = filters * min(2**index, 8)
        strides = 2 if index < layers else 1
        x = keras.layers.ZeroPadding2D(1, name=f"block{index}_pad")(x)
        x = _conv(width, 4, f"block{index}_conv", strides=strides, use_bias=index == 0)(x)
        if index > 0:
            x = InstanceNormalization(name=f"block{index}_norm")(x)
        x = keras.layers.LeakyReLU(0.2, name=f"block{index}_lrelu")(x)
    x = keras.layers.ZeroPadding2D(1, name="logits_pad")(x)
    x = _conv(1, 4, "logits_conv", use_bias=True)(x)
    logits = keras.layers.Activation("linear", dtype="float32", name="logits")(x)
    return keras.Model(images, logits, name=name)


class ImageHistoryPool:
    """The last `size` generated images, to show the discriminator older fakes.

    Shrivastava et al. 2017, as in the CycleGAN reference code (`ImagePool`): while the
    pool is not full, each image is stored and returned as it is; once it is full, each
    image is, with probability 1/2, stored in place of a random stored image, which is
    returned instead; otherwise it is returned as it is. Images of one batch are taken in
    order, so one may swap with an image stored by an earlier one of the same batch.

    The stored images live in on-read variables: under a `tf.distribute` strategy every
    replica keeps and updates its own pool. Create it under the strategy's scope.

    Args:
        size: int. Images kept (50 in the paper); 0 turns the pool off (`query` returns
            its input).
        image_shape: (H, W, C) of the images.
        name: str. Prefix of the variables' names.
    """

    def __init__(self, size, image_shape, name="history_pool"):
        self.size = int(size)
        self.image_shape = tuple(image_shape)
        if self.size == 0:
            self.images = self.count = None
            return
        options = dict(trainable=False,
                       synchronization=tf.VariableSynchronization.ON_READ,
                       aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
        self.images = tf.Variable(tf.zeros((self.size, *self.image_shape)), name=f"{name}_images",
                                  **options)
        self.count = tf.Variable(0, dtype=tf.int32, name=f"{name}_count", **options)

    def query(self, images, seed):
        """The images the discriminator judges instead of `images` (B, H, W, C).

        Args:
            images: Tensor. Generated images, taken as constants.
            seed: Tensor (2,). Stateless seed of this call's coin flips and slots.
        """
        images = tf.stop_gradient(tf.cast(images, tf.float32))
        if self.size == 0:
            return images
        batch = tf.shape(images)[0]
        coins = tf.random.stateless_uniform([batch], seed=seed)
        slots = tf.random.stateless_uniform([batch], seed=seed + tf.constant([0, 1], seed.dtype),
                                            maxval=self.size, dtype=tf.int32)

        def step(index, returned):
            image = images[index]
            count = self.count.read_value()
            filling = count < self.size
            swap = tf.logical_and(tf.logical_not(filling), coins[index] > 0.5)
            slot = tf.where(filling, count, slots[index])
            # One slot read and written in place: the pool is never copied whole. The
            # handle is this replica's own variable (on-read variables have no scatter).
            handle = self.images.handle
            old = tf.raw_ops.ResourceGather(resource=handle, indices=slot, dtype=tf.float32)
            kept = tf.where(tf.logical_or(filling, swap), image, old)
            with tf.control_dependencies([old]):
                update = tf.raw_ops.ResourceScatterNdUpdate(ref=handle, indices=[[slot]],
                                                            updates=[kept])
            with tf.control_dependencies([update]):
                self.count.assign(tf.minimum(count + 1, self.size))
                return index + 1, returned.write(index, tf.where(swap, old, image))

        _, returned = tf.while_loop(
            lambda index, _: index < batch, step,
            (tf.constant(0),
             tf.TensorArray(tf.float32, size=batch, element_shape=images.shape[1:])),
        )
        return tf.ensure_shape(returned.stack(), images.shape)


def cycle_loss(real, reconstructed, weight):
    """Per example: `weight` * mean |real - reconstructed| (the paper's L1 cycle loss)."""
    difference = tf.abs(tf.cast(real, tf.float32) - tf.cast(reconstructed, tf.float32))
    return weight * tf.reduce_mean(tf.reshape(difference, [tf.shape(difference)[0], -1]), axis=1)


def _mean_per_example(values):
    values = tf.cast(values, tf.float32)
    return tf.reduce_mean(tf.reshape(values, [tf.shape(values)[0], -1]), axis=1)


def lsgan_generator_loss(fake_logits):
    """Per example: mean (D(G(x)) - 1)^2 over the patches (not halved, as in the paper)."""
    return _mean_per_example(tf.square(tf.cast(fake_logits, tf.float32) - 1.0))


def lsgan_discriminator_loss(real_logits, fake_logits):
    """Per example: 0.5 [mean (D(y) - 1)^2 + mean D(G(x))^2] (the paper halves it)."""
    return 0.5 * (_mean_per_example(tf.square(tf.cast(real_logits, tf.float32) - 1.0))
                  + _mean_per_example(tf.square(tf.cast(fake_logits, tf.float32))))


def _check_positive_int(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}. Received: {name}={value!r}")
    return int(value)


def _check_weight(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0 \
            or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number >= 0. Received: {name}={value!r}")
    return float(value)


@register_family("cyclegan")
class CycleGAN(ImageToImage):
    """CycleGAN (Zhu et al. 2017): unpaired translation A <-> B with cycle consistency.

    Trains on `(a, b)` batches (`ganzoo.data.load_unpaired`). `generator` is G: A -> B
    (`a2b`), `generator_b2a` is F: B -> A; `discriminator` judges domain B (real b against
    G(a)), `discriminator_a` judges domain A. `translate(images, direction)` maps uint8
    images; `sample` and `generate` are refused (nothing is drawn from noise). Logged:
    `d_loss` (both discriminators' halved LSGAN losses, summed), `g_loss` (both
    generators' LSGAN losses), `cycle_loss` and `identity_loss` (weighted).

    Args:
        image_shape: tuple. `(height, width, channels)` of the training images: height
            and width multiples of 4 large enough for the discriminator (see
            `disc_layers`), 1 or 3 channels (both domains). Defaults to `(256, 256, 3)`.
        filters: int. Width k of the generators' first convolution (then 2k, 4k).
            Defaults to 64 as in the paper.
        blocks: int or None. Residual blocks per generator; None: 6 for images up to
            128x128, 9 above, as in the paper.
        disc_filters: int. Width of the discriminators' first convolution. Defaults to 64.
        disc_layers: int. Stride-2 convolutions of each PatchGAN: 3 gives the paper's
            70x70 patches; the image must be at least 3 * 2**disc_layers pixels high and
            wide and a multiple of 2**disc_layers. Defaults to 3.
        pool_size: int. Fakes kept per replica in each discriminator's history pool; 0
            turns the pools off. Defaults to 50 as in the paper.
        seed: int or None. Seed of the pools' draws.
        name: str or None. Model name.

    `compile(cycle_weight=10.0, identity_weight=0.5)`: lambda, and the identity loss
    weight as a fraction of lambda (0 turns the identity loss off).

    Examples:
    ```python
    data = ganzoo.data.load_unpaired("textures/grass", "textures/gravel", image_size=64,
                                     batch_size=1, seed=0, repeat=True)
    gan = ganzoo.models.CycleGAN(image_shape=(64, 64, 1), filters=32, disc_filters=32)
    gan.compile()  # LSGAN, lambda = 10, identity 0.5, Adam(2e-4, 0.5)
    gan.fit(data, epochs=20, steps_per_epoch=200,
            callbacks=ganzoo.models.CycleGAN.default_callbacks(20))
    gravel = gan.translate(grass_uint8, direction="a2b")
    ```
    """

    does = "translates images"
    use = "translate(images, direction='a2b') or `ganzoo translate SOURCE IN.png OUT.png`"
    refuses_augmentation = (
        "its discriminators judge translations of the user's own images, and the cycle "
        "and identity losses compare pixels that an augmentation would move; its data "
        "pipeline already crops and flips (ganzoo.data.load_unpaired)")
    # The sizes the generators take: multiples of 4 (two stride-2 convolutions down and
    # two up), at least 8 (the reflection padding at a quarter of the resolution needs 2
    # pixels). The bundle records them (size_multiple, min_size); `translate` pads to
    # them, as the runtime's does.
    size_multiple = 4
    min_size = 8
    default_batch_size = 1
    default_image_size = 256
    default_loss = "lsgan"
    loss_names = ("d_loss", "g_loss", "cycle_loss", "identity_loss")

    def __init__(self, image_shape=(256, 256, 3), filters=64, blocks=None, disc_filters=64,
                 disc_layers=3, pool_size=50, seed=None, name=None, latent_dim=None,
                 **kwargs):
        super().__init__(image_shape=image_shape, latent_dim=latent_dim, seed=seed, name=name,
                         **kwargs)
        height, width, _ = self.image_shape
        if height % 4 or width % 4:
            raise ValueError(
                "CycleGAN image height and width must be multiples of 4 (two stride-2 "
                f"convolutions down, two up). Received: image_shape={self.image_shape}"
            )
        self.filters = _check_positive_int(filters, "filters")
        if blocks is None:
            blocks = 6 if max(height, width) <= 128 else 9
        self.blocks = _check_positive_int(blocks, "blocks", minimum=0)
        self.disc_filters = _check_positive_int(disc_filters, "disc_filters")
        self.disc_layers = _check_positive_int(disc_layers, "disc_layers")
        step = 2**self.disc_layers
        if min(height, width) < 3 * step or height % step or width % step:
            raise ValueError(
                f"disc_layers={self.disc_layers} needs images whose height and width are "
                f"multiples of {step} and at least {3 * step}; use fewer disc_layers for "
                f"small images. Received: image_shape={self.image_shape}"
            )
        self.pool_size = _check_positive_int(pool_size, "pool_size", minimum=0)
        self.cycle_weight = 10.0
        self.identity_weight = 0.5

    # -- networks -----------------------------------------------------------------------

    def build_generator(self):
        return build_resnet_generator(self.image_shape[2], self.filters, self.blocks,
                                      name="generator")

    def build_discriminator(self):
        return build_patchgan_discriminator(self.image_shape, self.disc_filters,
                                            self.disc_layers, name="discriminator")

    def build_networks(self):
        """G (a2b) and D_B as `generator` and `discriminator`, then F (b2a) and D_A."""
        super().build_networks()
        self.generator_b2a = build_resnet_generator(self.image_shape[2], self.filters,
                                                    self.blocks, name="generator_b2a")
        self.discriminator_a = build_patchgan_discriminator(
            self.image_shape, self.disc_filters, self.disc_layers, name="discriminator_a")
        # Training state, per replica, kept out of Keras' weights (presets, checkpoints).
        self.__dict__["history_pools"] = {
            "a": ImageHistoryPool(self.pool_size, self.image_shape, name="history_pool_a"),
            "b": ImageHistoryPool(self.pool_size, self.image_shape, name="history_pool_b"),
        }

    def optimizer_variables(self, name):
        """`g_optimizer` updates both generators, `d_optimizer` both discriminators."""
        if name == "g_optimizer":
            return self.generator.trainable_variables + self.generator_b2a.trainable_variables
        if name == "d_optimizer":
            return (self.discriminator.trainable_variables
                    + self.discriminator_a.trainable_variables)
        return super().optimizer_variables(name)

    def generator_names(self):
        """The translation directions: "a2b" (`generator`, the default) and "b2a"."""
        return DIRECTIONS

    def inference_generator(self, name=None):
        """The generator of direction `name` ("a2b" by default)."""
        self.check_generator_name(name)
        return self.generator_b2a if name == "b2a" else self.generator

    def configure_losses(self, cycle_weight=10.0, identity_weight=0.5, **loss_options):
        """`cycle_weight`: lambda (10); `identity_weight`: the identity loss weight as a
        fraction of lambda (0.5; 0 turns it off)."""
        super().configure_losses(**loss_options)
        if self.loss_name != "lsgan":
            raise ValueError(
                "CycleGAN trains with the least-squares GAN loss of its paper. "
                f"Received: loss={self.loss_name!r}"
            )
        self.cycle_weight = _check_weight(cycle_weight, "cycle_weight")
        self.identity_weight = _check_weight(identity_weight, "identity_weight")

    @staticmethod
    def default_callbacks(epochs):
        """The paper's schedule for `fit(..., epochs=epochs)`: constant learning rates for
        the first half, then a linear decay to 0 (`ganzoo.training.LinearDecay`)."""

        return [LinearDecay(epochs)]

    # -- the step -------------------------------------------------------------------------

    def unpack_pair(self, data):
        """(a, b) float32 image batches from an `(a, b)` batch, checked."""
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            raise ValueError(
                "CycleGAN trains on (a, b) batches of two domains: load them with "
                "ganzoo.data.load_unpaired(data_a, data_b, ...)"
            )
        real_a, real_b = (self.model_images(images) for images in data)
        self.check_batch(real_a)
        self.check_batch(real_b)
        return real_a, real_b

    def generator_losses(self, real_a, real_b, training=True):
        """Per-example losses of both generators and the fakes they made.

        Returns `(adversarial, cycle, identity, fake_a, fake_b)`; `fake_b` = G(a),
        `fake_a` = F(b).
        """
        fake_b = self.generator(real_a, training=training)
        fake_a = self.generator_b2a(real_b, training=training)
        cycled_a = self.generator_b2a(fake_b, training=training)
        cycled_b = self.generator(fake_a, training=training)
        adversarial = (lsgan_generator_loss(self.discriminator(fake_b, training=training))
                       + lsgan_generator_loss(self.discriminator_a(fake_a, training=training)))
        cycle = (cycle_loss(real_a, cycled_a, self.cycle_weight)
                 + cycle_loss(real_b, cycled_b, self.cycle_weight))
        identity_weight = self.identity_weight * self.cycle_weight
        if identity_weight:
            identity = (cycle_loss(real_b, self.generator(real_b, training=training),
                                   identity_weight)
                        + cycle_loss(real_a, self.generator_b2a(real_a, training=training),
                                     identity_weight))
        else:
            identity = tf.zeros_like(cycle)
        return adversarial, cycle, identity, fake_a, fake_b

    def discriminator_loss(self, real_a, real_b, fake_a, fake_b, training=True):
        """Per example: both discriminators' halved LSGAN losses on these fakes."""
        return (lsgan_discriminator_loss(self.discriminator(real_b, training=training),
                                         self.discriminator(fake_b, training=training))
                + lsgan_discriminator_loss(self.discriminator_a(real_a, training=training),
                                           self.discriminator_a(fake_a, training=training)))

    def train_step(self, data):
        real_a, real_b = self.unpack_pair(data)
        with tf.GradientTape() as g_tape:
            adversarial, cycle, identity, fake_a, fake_b = self.generator_losses(real_a, real_b)
            g_loss = self.average_loss(adversarial)
            cycle_total = self.average_loss(cycle)
            identity_total = self.average_loss(identity)
            g_total = (g_loss + cycle_total + identity_total
                       + self.network_losses(self.generator, self.generator_b2a))
            g_scaled = self.g_optimizer.scale_loss(g_total)
        self.apply_gradients(self.g_optimizer, g_tape, g_scaled, self.generator_variables())

        # The discriminators judge the fakes made before the generators' update, or
        # older ones from the history pools.
        seed = self.noise_seed()
        pooled_b = self.history_pools["b"].query(fake_b, seed)
        pooled_a = self.history_pools["a"].query(fake_a, seed + tf.constant([0, 7], seed.dtype))
        with tf.GradientTape() as d_tape:
            d_loss = self.average_loss(self.discriminator_loss(real_a, real_b, pooled_a,
                                                               pooled_b))
            d_total = d_loss + self.network_losses(self.discriminator, self.discriminator_a)
            d_scaled = self.d_optimizer.scale_loss(d_total)
        self.apply_gradients(self.d_optimizer, d_tape, d_scaled, self.discriminator_variables())
        return self.record(d_loss=d_loss, g_loss=g_loss, cycle_loss=cycle_total,
                           identity_loss=identity_total)

    def test_step(self, data):
        real_a, real_b = self.unpack_pair(data)
        adversarial, cycle, identity, fake_a, fake_b = self.generator_losses(
            real_a, real_b, training=False)
        d_loss = self.discriminator_loss(real_a, real_b, fake_a, fake_b, training=False)
        return self.record(d_loss=self.average_loss(d_loss),
                           g_loss=self.average_loss(adversarial),
                           cycle_loss=self.average_loss(cycle),
                           identity_loss=self.average_loss(identity))

    # -- data and previews ----------------------------------------------------------------

    @classmethod
    def describe_training_data(cls, data, *, data_b=None, image_size=None, split="train"):
        """Both domains: an epoch is one pass over the larger one, RGB when either is."""
        return data_lib.describe_unpaired(data, data_b, split=split, image_size=image_size)

    def training_data(self, data, *, image_size, batch_size, seed=None, repeat=False,
                      data_b=None, split="train"):
        """`ganzoo.data.load_unpaired(data, data_b, ...)` with the model's channels."""
        return data_lib.load_unpaired(data, data_b, image_size=image_size,
                                      batch_size=batch_size, seed=seed, repeat=repeat,
                                      split=split, channels=self.image_shape[2])

    def preview(self, n, seed=0):
        """Side-by-side pictures `[a, G(a), b, F(b)]` (uint8, (k, H, 4W, C)) of up to `n`
        examples of the remembered training batch (`remember_preview`)."""
        if self.preview_batch is None:
            raise ValueError(
                "CycleGAN previews translate training images: call "
                "model.remember_preview((a, b)) with a batch of both domains first"
            )
        real_a, real_b = (np.asarray(images)[:n] for images in self.preview_batch[:2])
        count = min(len(real_a), len(real_b))
        real_a, real_b = real_a[:count], real_b[:count]
        fake_b = keras.ops.convert_to_numpy(self.generator(real_a, training=False))
        fake_a = keras.ops.convert_to_numpy(self.generator_b2a(real_b, training=False))
        return _imaging.to_uint8(np.concatenate([real_a, fake_b, real_b, fake_a], axis=2))

    # -- inference ------------------------------------------------------------------------

    def translate(self, images, direction="a2b", batch_size=16):
        """Translate uint8 images with the generator of `direction`.

        Grayscale images given to an RGB model are converted to RGB (and RGB images to
        grayscale for a grayscale model, with ITU-R 601 luma weights). Heights and widths
        that are not multiples of `size_multiple` (4) or below `min_size` (8) are
        reflection-padded at the bottom and right and the result is cropped back, so the
        output has the input's height and width. The runtime's `translate` does the same
        with a bundle.

        Args:
            images: uint8 array, (H, W), (H, W, C) or (N, H, W, C), C in (1, 3).
            direction: str. `"a2b"` (G) or `"b2a"` (F). Defaults to `"a2b"`.
            batch_size: int. Images per generator call. Defaults to 16.

        Returns:
            uint8 images shaped like the input, with the model's channels.
        """
        generator = self.inference_generator(_check_direction(direction))
        batch_size = _validation.check_count(batch_size, "batch_size")
        batch, single = _imaging.as_uint8_batch(images, "translate")
        batch = _imaging.convert_channels(batch, self.image_shape[2])
        outputs = []
        for start in range(0, len(batch), batch_size):
            padded, (height, width) = _imaging.pad_to_multiple(batch[start:start + batch_size],
                                                      self.size_multiple, self.min_size)
            out = generator(_imaging.from_uint8(padded), training=False)
            outputs.append(keras.ops.convert_to_numpy(out)[:, :height, :width])
        translated = _imaging.to_uint8(np.concatenate(outputs))
        return translated[0] if single else translated

    def get_config(self):
        config = super().get_config()
        config.update({
            "filters": self.filters,
            "blocks": self.blocks,
            "disc_filters": self.disc_filters,
            "disc_layers": self.disc_layers,
            "pool_size": self.pool_size,
        })
        return config


def _check_direction(direction):
    if direction not in DIRECTIONS:
        raise ValueError(
            f"direction must be 'a2b' or 'b2a'. Received: direction={direction!r}"
        )
    return direction
