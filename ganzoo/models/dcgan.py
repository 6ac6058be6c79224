"""DCGAN (Radford, Metz & Chintala 2015, https://arxiv.org/abs/1511.06434).

The generator projects the latent to 4x4 feature maps and doubles the resolution with
strided transposed convolutions (batch norm + ReLU, tanh output); the discriminator halves
it with strided convolutions (LeakyReLU 0.2, batch norm except on the first layer). No
pooling and no fully connected hidden layers; weights start from N(0, 0.02); Adam with
learning rate 2e-4 and beta_1 = 0.5; the non-saturating loss.

Batch norm is synchronised across replicas (statistics of the global batch), so that a
step on several devices equals a step on one device and every replica keeps the same
moving statistics.
"""

import math

import keras

from ganzoo import _validation
from ganzoo.models.base import register_family
from ganzoo.models.tasks import NoiseToImage


def _init():
    return keras.initializers.RandomNormal(stddev=0.02)


def _batch_norm(name):
    # Statistics over the global batch, all-reduced across replicas: per-replica statistics
    # would make a step on N replicas differ from a step on one device, and each replica
    # would update its copy of the moving statistics on its own, so the copies drift apart.
    # Inference (training=False) uses the moving statistics and is unchanged.
    return keras.layers.BatchNormalization(synchronized=True, name=name)


def _num_stages(image_shape):
    """Resolution doublings from 4x4 to the image size."""
    return int(math.log2(image_shape[0])) - 2


def build_dcgan_generator(image_shape, latent_dim, filters, name="generator"):
    """latent (B, latent_dim) -> images (B, H, W, C) in [-1, 1]."""
    stages = _num_stages(image_shape)
    width = filters * 2 ** (stages - 1)
    latent = keras.Input((latent_dim,), name="latent")
    x = keras.layers.Dense(4 * 4 * width, use_bias=False, kernel_initializer=_init(),
                           name="project")(latent)
    x = keras.layers.Reshape((4, 4, width), name="reshape")(x)
    x = _batch_norm("project_bn")(x)
    x = keras.layers.ReLU(name="project_relu")(x)
    for stage in range(1, stages):
        width //= 2
        x = keras.layers.Conv2DTranspose(
            width, 4, strides=2, padding="same", use_bias=False,
            kernel_initializer=_init(), name=f"up{stage}_deconv",
        )(x)
        x = _batch_norm(f"up{stage}_bn")(x)
        x = keras.layers.ReLU(name=f"up{stage}_relu")(x)
    x = keras.layers.Conv2DTranspose(
        image_shape[2], 4, strides=2, padding="same", kernel_initializer=_init(),
        name="to_image",
    )(x)
    images = keras.layers.Activation("tanh", dtype="float32", name="images")(x)
    return keras.Model(latent, images, name=name)


def dcgan_features(images, image_shape, filters, flatten_name="flatten"):
    """DCGAN's discriminator body on `images`: strided 4x4 convolutions doubling the width
    down to 4x4, synchronised batch norm after all but the first, LeakyReLU(0.2); flattened.
    Shared by every family whose discriminator is DCGAN's (cgan's projection one)."""
    x = images
    width = filters
    for stage in range(_num_stages(image_shape)):
        x = keras.layers.Conv2D(
            width, 4, strides=2, padding="same", use_bias=stage == 0,
            kernel_initializer=_init(), name=f"down{stage}_conv",
        )(x)
        if stage > 0:
            x = _batch_norm(f"down{stage}_bn")(x)
        x = keras.layers.LeakyReLU(0.2, name=f"down{stage}_lrelu")(x)
        width *= 2
    return keras.layers.Flatten(name=flatten_name)(x)


def build_dcgan_discriminator(image_shape, filters, name="discriminator"):
    """images (B, H, W, C) -> one logit per image (B, 1)."""
    images = keras.Input(image_shape, name="images")
    x = dcgan_features(images, image_shape, filters)
    logits = keras.layers.Dense(1, kernel_initializer=_init(), dtype="float32",
                                name="logit")(x)
    return keras.Model(images, logits, name=name)


@register_family("dcgan")
class DCGAN(NoiseToImage):
    """Deep convolutional GAN (Radford et al. 2015).

    Args:
        image_shape: tuple. `(size, size, channels)`: a square power of two from 16 up,
            1 or 3 channels. Defaults to `(64, 64, 3)` as in the paper.
        latent_dim: int. Latent size. Defaults to 100 as in the paper.
        generator_filters: int. Width of the generator's last hidden layer (doubling
            towards the 4x4 input). Defaults to 64.
        discriminator_filters: int. Width of the discriminator's first layer (doubling
            with each downsampling). Defaults to 64.
        seed: int or None. Seed of the training noise.
        name: str or None. Model name.

    Examples:
    ```python
    data = ganzoo.data.load("digits", image_size=32, batch_size=64)
    gan = ganzoo.models.DCGAN(image_shape=(32, 32, 1), latent_dim=64)
    gan.compile()
    gan.fit(data, epochs=5)
    images = gan.sample(16, seed=0)  # uint8 (16, 32, 32, 1)
    ```
    """

    def __init__(self, image_shape=(64, 64, 3), latent_dim=100, generator_filters=64,
                 discriminator_filters=64, seed=None, name=None, **kwargs):
        super().__init__(image_shape=image_shape, latent_dim=latent_dim, seed=seed,
                         name=name, **kwargs)
        height, width, _ = self.image_shape
        if height != width or height < 16 or height & (height - 1):
            raise ValueError(
                "DCGAN images must be square with a power-of-two size from 16 up. "
                f"Received: image_shape={self.image_shape}"
            )
        self.generator_filters = _validation.check_count(generator_filters, "generator_filters")
        self.discriminator_filters = _validation.check_count(
            discriminator_filters, "discriminator_filters"
        )

    def build_generator(self):
        return build_dcgan_generator(self.image_shape, self.latent_dim, self.generator_filters)

    def build_discriminator(self):
        return build_dcgan_discriminator(self.image_shape, self.discriminator_filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "generator_filters": self.generator_filters,
                "discriminator_filters": self.discriminator_filters,
            }
        )
        return config
