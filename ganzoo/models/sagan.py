"""SAGAN (Zhang, Goodfellow, Metaxas & Odena 2018, https://arxiv.org/abs/1805.08318).

The self-attention GAN: the residual generator and discriminator of SN-GAN / projection
GAN (Miyato et al. 2018) with a self-attention block (`ganzoo.layers.SelfAttention`) on the
feature maps of one chosen resolution in both networks, spectral normalisation on every
convolution and dense layer of *both* networks (`ganzoo.layers.SpectralNormalization`;
the module docstring there says why not Keras' own), the hinge loss, and two time-scale
learning rates: Adam(1e-4) for the generator, Adam(4e-4) for the discriminator, both with
beta_1 = 0 and beta_2 = 0.9, one discriminator step per generator step.

Networks, as in the authors' code (for 128x128 images and `filters` = ch: generator widths
16ch at 4x4 and 8x8, halving with each doubling of the resolution down to ch; discriminator
widths ch at 64x64, doubling with each halving up to 16ch at 4x4):

- generator: latent -> SN-dense -> 4x4 maps -> residual up-blocks (BN, ReLU, 2x nearest
  upsampling, SN-conv 3x3, BN, ReLU, SN-conv 3x3; shortcut: upsampling and SN-conv 1x1)
  to the image size, self-attention after the block that reaches `attention_resolution`,
  then BN, ReLU, SN-conv 3x3 and tanh;
- discriminator: residual down-blocks (the first: SN-conv 3x3, ReLU, SN-conv 3x3, 2x2
  average pooling, shortcut pooling and SN-conv 1x1; the others start with ReLU) to 4x4,
  self-attention after the block that reaches `attention_resolution`, one more block
  without pooling, ReLU, a sum over positions and an SN-dense logit (without bias, see
  `build_sagan_discriminator`).

Class conditioning (optional, `num_classes`), as in the paper: conditional batch norm in
the generator (batch norm without its own scale and offset, then a per-class scale and
offset from embeddings initialised to 1 and 0) and a projection discriminator (the logit
plus the inner product of an SN-embedding of the label with the pooled features), both
built by `ganzoo.layers.conditioning`, as for `cgan`.

Batch norm is synchronised across replicas and the spectral-norm vectors are written from
the first replica (identical on every replica), so a step on several devices equals a
step on one device.
"""

import keras

from ganzoo import _validation
from ganzoo.layers import SelfAttention
from ganzoo.layers.conditioning import conditional_batch_norm, label_input
from ganzoo.models._conditional import ClassConditional
from ganzoo.models._sn_resnet import build_sn_resnet_discriminator, sn, sn_conv
from ganzoo.models.base import register_family
from ganzoo.models.tasks import NoiseToImage


def _batch_norm(x, label, num_classes, name):
    """Batch norm, class-conditional when `label` is given.

    Synchronised across replicas (statistics of the global batch), so that a step on N
    replicas equals a step on one device and the moving statistics stay identical.
    """
    if label is None:
        return keras.layers.BatchNormalization(synchronized=True, name=name)(x)
    return conditional_batch_norm(x, label, num_classes, name, norm_name=name,
                                  gamma_name=f"{name}_scale", beta_name=f"{name}_offset",
                                  output_name=f"{name}_shifted")


def _generator_block(x, label, num_classes, width, name):
    """Residual up-block: doubles the resolution, `width` channels out."""
    shortcut = keras.layers.UpSampling2D(2, name=f"{name}_shortcut_up")(x)
    shortcut = sn_conv(width, 1, f"{name}_shortcut_conv")(shortcut)
    x = _batch_norm(x, label, num_classes, f"{name}_bn1")
    x = keras.layers.ReLU(name=f"{name}_relu1")(x)
    x = keras.layers.UpSampling2D(2, name=f"{name}_up")(x)
    x = sn_conv(width, 3, f"{name}_conv1")(x)
    x = _batch_norm(x, label, num_classes, f"{name}_bn2")
    x = keras.layers.ReLU(name=f"{name}_relu2")(x)
    x = sn_conv(width, 3, f"{name}_conv2")(x)
    return keras.layers.Add(name=f"{name}_out")([shortcut, x])


def _generator_width(filters, size, resolution):
    """ch * size / resolution, the same at 4x4 as at 8x8, at most 16 ch."""
    return filters * min(size // max(resolution, 8), 16)


def build_sagan_generator(image_shape, latent_dim, filters, attention_resolution,
                          num_classes=None, attention_gamma_init=0.0, name="generator"):
    """latent (B, latent_dim) [+ label (B,) int32] -> images (B, H, W, C) in [-1, 1]."""
    size = image_shape[0]
    latent = keras.Input((latent_dim,), name="latent")
    label = label_input() if num_classes else None
    width = _generator_width(filters, size, 4)
    x = sn(keras.layers.Dense(4 * 4 * width, name="project"))(latent)
    x = keras.layers.Reshape((4, 4, width), name="reshape")(x)
    resolution = 4
    while resolution < size:
        resolution *= 2
        x = _generator_block(x, label, num_classes,
                             _generator_width(filters, size, resolution), f"up{resolution}")
        if resolution == attention_resolution:
            x = SelfAttention(spectral_norm=True, gamma_initializer=attention_gamma_init,
                              name=f"attention{resolution}")(x)
    x = _batch_norm(x, label, num_classes, "out_bn")
    x = keras.layers.ReLU(name="out_relu")(x)
    x = sn_conv(image_shape[2], 3, "to_image")(x)
    images = keras.layers.Activation("tanh", dtype="float32", name="images")(x)
    inputs = latent if label is None else [latent, label]
    return keras.Model(inputs, images, name=name)


def build_sagan_discriminator(image_shape, filters, attention_resolution, num_classes=None,
                              attention_gamma_init=0.0, name="discriminator"):
    """images (B, H, W, C) [+ label (B,) int32] -> one logit per image (B, 1): the SN-GAN
    ResNet discriminator (`ganzoo.models._sn_resnet`) with self-attention at
    `attention_resolution`."""
    return build_sn_resnet_discriminator(
        image_shape, filters, num_classes=num_classes,
        attention_resolution=attention_resolution,
        attention_gamma_init=attention_gamma_init, name=name)


@register_family("sagan")
class SAGAN(ClassConditional, NoiseToImage):
    """Self-attention GAN (Zhang et al. 2018), optionally class-conditional.

    Hinge loss, spectral normalisation on both networks, Adam(1e-4) for the generator and
    Adam(4e-4) for the discriminator (beta_1=0, beta_2=0.9). With `num_classes` the model
    is conditional (conditional batch norm in the generator, projection discriminator):
    it trains on `(images, labels)` batches and samples any class (`labels=`); the
    instance's `conditional` is then True. The class attribute `SAGAN.conditional` stays
    False, so `ganzoo train sagan` trains the unconditional model; conditional SAGANs are
    trained from Python.

    Args:
        image_shape: tuple. `(size, size, channels)`: a square power of two from 16 up,
            1 or 3 channels. Defaults to `(128, 128, 3)` as in the paper.
        latent_dim: int. Latent size. Defaults to 128 as in the paper.
        generator_filters: int. ch of the generator: its width at the image size
            (doubling as the resolution halves, up to 16 ch). Defaults to 64.
        discriminator_filters: int. ch of the discriminator: its width at half the image
            size (doubling as the resolution halves, up to 16 ch). Defaults to 64.
        attention_resolution: int. Size of the feature maps the self-attention block of
            each network attends over: a power of two from 8 to half the image size.
            Defaults to 32 (the paper's best, "feat32") for images of 64x64 and up, and
            to half the image size below that (16 for 32x32), so the defaults train at
            any size.
        num_classes: int or None. Classes of a conditional model; None (the default) is
            unconditional.
        attention_gamma_init: float. Initial gamma of both attention blocks (their output
            is gamma * attention + input). Defaults to 0.0 as in the paper: the blocks
            start as the identity.
        seed: int or None. Seed of the training noise.
        name: str or None. Model name.

    Examples:
    ```python
    data = ganzoo.data.load("digits", image_size=32, batch_size=64)
    gan = ganzoo.models.SAGAN(image_shape=(32, 32, 1), latent_dim=64, generator_filters=16,
                              discriminator_filters=16, attention_resolution=16)
    gan.compile()  # hinge loss, Adam 1e-4 (G) / 4e-4 (D), betas (0, 0.9)
    gan.fit(data, epochs=5)
    images = gan.sample(16, seed=0)  # uint8 (16, 32, 32, 1)

    # Class-conditional, from Python:
    labelled = ganzoo.data.load("digits", image_size=32, batch_size=64, labels=True)
    cgan = ganzoo.models.SAGAN(image_shape=(32, 32, 1), latent_dim=64, num_classes=10,
                               attention_resolution=16)
    cgan.compile()
    cgan.fit(labelled, epochs=5)
    sevens = cgan.sample(16, seed=0, labels=7)
    ```
    """

    default_loss = "hinge"
    no_labels_message = (
        "SAGAN(num_classes={num_classes}) is conditional and trains on (images, labels) "
        "batches; the data gives images only: load it with labels=True (`ganzoo train "
        "sagan` trains the unconditional model)"
    )

    def __init__(self, image_shape=(128, 128, 3), latent_dim=128, generator_filters=64,
                 discriminator_filters=64, attention_resolution=None, num_classes=None,
                 attention_gamma_init=0.0, seed=None, name=None, **kwargs):
        super().__init__(image_shape=image_shape, latent_dim=latent_dim, seed=seed,
                         name=name, **kwargs)
        size, width, _ = self.image_shape
        if size != width or size < 16 or size & (size - 1):
            raise ValueError(
                "SAGAN images must be square with a power-of-two size from 16 up. "
                f"Received: image_shape={self.image_shape}"
            )
        self.generator_filters = _validation.check_count(generator_filters, "generator_filters")
        self.discriminator_filters = _validation.check_count(
            discriminator_filters, "discriminator_filters"
        )
        if attention_resolution is None:
            # The paper's best, feat32, where the images have 32x32 feature maps (64x64
            # and up); the largest feature maps there are below that.
            attention_resolution = min(32, size // 2)
        if (isinstance(attention_resolution, bool) or not isinstance(attention_resolution, int)
                or attention_resolution not in _attention_resolutions(size)):
            raise ValueError(
                "attention_resolution must be the size of feature maps both networks have "
                f"for {size}x{size} images: one of {_attention_resolutions(size)}. "
                f"Received: attention_resolution={attention_resolution!r}"
            )
        self.attention_resolution = attention_resolution
        if num_classes is not None:
            num_classes = _validation.check_count(num_classes, "num_classes")
        self.num_classes = num_classes
        self.conditional = num_classes is not None
        if isinstance(attention_gamma_init, bool) or not isinstance(
                attention_gamma_init, (int, float)):
            raise ValueError(
                "attention_gamma_init must be a number. "
                f"Received: attention_gamma_init={attention_gamma_init!r}"
            )
        self.attention_gamma_init = float(attention_gamma_init)

    def build_generator(self):
        return build_sagan_generator(
            self.image_shape, self.latent_dim, self.generator_filters,
            self.attention_resolution, self.num_classes, self.attention_gamma_init,
        )

    def build_discriminator(self):
        return build_sagan_discriminator(
            self.image_shape, self.discriminator_filters, self.attention_resolution,
            self.num_classes, self.attention_gamma_init,
        )

    def default_optimizers(self):
        """Two time-scale update rule: Adam 1e-4 (G), 4e-4 (D), beta_1=0, beta_2=0.9."""
        return (
            keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9, name="g_adam"),
            keras.optimizers.Adam(4e-4, beta_1=0.0, beta_2=0.9, name="d_adam"),
        )

    # Conditional models' training and sampling inputs (labels checked, seeded labels
    # drawn): `ClassConditional`, which leaves unconditional ones to `NoiseToImage`.

    def get_config(self):
        config = super().get_config()
        config.update({
            "generator_filters": self.generator_filters,
            "discriminator_filters": self.discriminator_filters,
            "attention_resolution": self.attention_resolution,
            "num_classes": self.num_classes,
            "attention_gamma_init": self.attention_gamma_init,
        })
        return config


def _attention_resolutions(size):
    """Feature-map sizes both networks have: 8, 16, ..., size / 2."""
    return [2**k for k in range(3, size.bit_length() - 1)]
