"""SRGAN (Ledig et al. 2017, https://arxiv.org/abs/1609.04802).

Single-image super-resolution by 2x or 4x: a generator that maps a low-resolution image
to one `scale` times larger, trained on `(low_res, high_res)` pairs
(`ganzoo.data.load_super_resolution`) against a discriminator that tells generated
high-resolution images from real ones. As in the paper:

- generator (SRResNet): a 9x9 convolution and PReLU, `blocks` residual blocks (conv 3x3,
  batch norm, PReLU, conv 3x3, batch norm, plus the block's input), a 3x3 convolution and
  batch norm added to the output of the first PReLU (the long skip), log2(scale) sub-pixel
  upsampling blocks (conv 3x3 to 4 `filters` channels, `depth_to_space(2)`, PReLU:
  `ganzoo.layers.subpixel_upsampling`) and a 9x9 convolution to the image channels, then
  tanh. B = 16 blocks of 64 filters in the paper. Fully convolutional: the generator's input
  is `image` of shape (None, None, C), any height and width, and it returns `scale` times
  them. PReLU slopes are per channel and shared over positions;
- discriminator: a 3x3 convolution (64) and LeakyReLU(0.2), seven 3x3 conv / batch norm /
  LeakyReLU(0.2) blocks of 64, 128, 128, 256, 256, 512, 512 filters with strides 2, 1, 2,
  1, 2, 1, 2, a dense layer of 1024 units, LeakyReLU(0.2) and a dense logit (the paper's
  sigmoid is in the loss). `disc_filters` (64) scales every width (the dense layer is 16
  `disc_filters` wide), so small patches and CPUs can use a smaller one;
- losses: the generator minimises content loss + `adversarial_weight` (1e-3) x the
  non-saturating adversarial loss -log D(G(x)); the discriminator the binary
  cross-entropy. Content loss `"mse"`: the pixel mean squared error (SRGAN-MSE), or
  `"vgg"`: the mean squared error between VGG19 feature maps of the `block5_conv4` layer
  (phi_5,4: the last convolution before the fifth pooling, after its ReLU) of the
  generated and real images, the maps divided by 12.75 as in the paper (SRGAN-VGG54);
- a pre-training phase: the first `pretrain_steps` steps train the generator alone on the
  pixel MSE (SRResNet-MSE, which the paper starts SRGAN from), then the adversarial phase
  begins (`phases()`; the step count is saved in presets and checkpoints);
- Adam(1e-4, beta_1=0.9) for both networks, 1e-4 for the first half of the adversarial
  updates and 1e-5 for the second (`model.default_callbacks(epochs)`: a
  `ganzoo.schedules.StepDecay` that `ganzoo train` adds; pass it to `fit` yourself).

The default content loss is the pixel MSE: the default model is **SRGAN-MSE**, one of the
paper's variants, not the SRGAN of its headline results (SRGAN-VGG54, `content_loss="vgg"`),
because VGG19's ImageNet weights cannot be downloaded at run time here; with the weights
in the Keras cache (or given to `compile(vgg_weights=...)`) the paper's model is one
option away: `SRGAN(content_loss="vgg")`, or `ganzoo train srgan --model-option
content_loss=vgg [--compile-option vgg_weights=FILE]` (docs/srgan.md).

Images are in [-1, 1], the low-resolution ones too (the paper scales its inputs to
[0, 1]; one range for every ganzoo image keeps export and runtime alike).

The VGG19 network of the `"vgg"` content loss is frozen and loaded when the model is
compiled: ImageNet weights from the Keras cache (`~/.keras/models`, or `$KERAS_HOME/models`),
downloaded there when online, or from a file given to `compile(vgg_weights=...)`. It is
not part of the model: presets and checkpoints do not hold it, and upscaling never needs
it.

Distribution: losses are per-example means over the global batch and batch norm is
synchronised across replicas, so a step on N replicas equals a step on one device.
"""

import os

import keras
import numpy as np
import tensorflow as tf

from ganzoo import _imaging, _tiling, _validation
from ganzoo import data as data_lib
from ganzoo._keras_cache import keras_models_dir
from ganzoo.data import super_resolution, tfds_source
from ganzoo.data.super_resolution import bicubic_downscale
from ganzoo.layers import subpixel_upsampling
from ganzoo.models.base import register_family
from ganzoo.models.tasks import ImageToImage
from ganzoo.schedules import StepDecay

SCALES = (2, 4)
CONTENT_LOSSES = ("mse", "vgg")
PHASES = ("pretrain", "adversarial")
# The VGG19 convolutions of Keras' ImageNet weights without the classifier, as Keras names
# the file in its cache.
VGG19_WEIGHTS_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
VGG_LAYER = "block5_conv4"
# The paper divides the VGG feature maps by 12.75, "to obtain VGG losses of a scale that
# is comparable to the MSE loss".
VGG_RESCALE = 1.0 / 12.75
# Caffe's ImageNet means (BGR), which Keras' VGG weights expect subtracted.
_VGG_MEAN_BGR = (103.939, 116.779, 123.68)


# -- networks ---------------------------------------------------------------------------


def _bn(x, name):
    # Synchronised across replicas: a step on N replicas equals a step on one device.
    # Momentum 0.9 (PyTorch's 0.1, which SRGAN implementations use): Keras' 0.99 lets the
    # moving statistics lag far behind a generator that is still learning fast, and
    # upscaling uses them.
    return keras.layers.BatchNormalization(synchronized=True, momentum=0.9, name=name)(x)


def _prelu(x, name):
    return keras.layers.PReLU(shared_axes=[1, 2], name=name)(x)


def _residual_block(x, filters, name):
    """x + BN(conv(PReLU(BN(conv(x)))))."""
    y = keras.layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv1")(x)
    y = _bn(y, f"{name}_bn1")
    y = _prelu(y, f"{name}_prelu")
    y = keras.layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv2")(y)
    y = _bn(y, f"{name}_bn2")
    return keras.layers.Add(name=f"{name}_out")([x, y])


@keras.saving.register_keras_serializable(package="ganzoo")
class ClipToImageRange(keras.layers.Layer):
    """Clips to [-1, 1], the range of ganzoo images."""

    def call(self, inputs):
        return keras.ops.clip(inputs, -1.0, 1.0)


# What `upsampled_skip` takes: True is the bilinear skip (the presets written before the
# bicubic one was added say True).
SKIP_INTERPOLATIONS = ("bilinear", "bicubic")


def _keys_cubic(distance, a=-0.5):
    """The bicubic convolution kernel (Keys 1981) at `distance`, a = -0.5 as TensorFlow."""
    t = np.abs(distance)
    return np.where(t <= 1, (a + 2) * t ** 3 - (a + 3) * t ** 2 + 1,
                    np.where(t < 2, a * (t ** 3 - 5 * t ** 2 + 8 * t - 4), 0.0))


def bicubic_phase_filters(scale):
    """(5, 5, scale * scale) float32: for output phase (dy, dx) (index dy * scale + dx),
    the weights of the input pixels -2..2 rows and columns around the one it lies in,
    upscaling by `scale` with half-pixel centres (output pixel scale * i + d is centred
    on input coordinate i + (d + 0.5) / scale - 0.5)."""
    offsets = (np.arange(scale) + 0.5) / scale - 0.5
    taps = _keys_cubic(offsets[:, None] - np.arange(-2, 3)[None, :])  # (scale, 5)
    phases = taps[:, None, :, None] * taps[None, :, None, :]  # (dy, dx, row, column)
    return phases.reshape(scale * scale, 5, 5).transpose(1, 2, 0).astype(np.float32)


@keras.saving.register_keras_serializable(package="ganzoo")
class InterpolatedUpscale(keras.layers.Layer):
    """(B, H, W, C) -> (B, scale*H, scale*W, C), interpolated as TensorFlow's resize does
    (`"bilinear"` or `"bicubic"`: half-pixel centres; the bicubic kernel with a = -0.5,
    its taps past the border left out and the others renormalised), for any height and
    width, traced or exported (Keras' UpSampling2D needs static sizes there).

    Bicubic upscaling by an integer factor is computed as one convolution with fixed
    weights (each of the scale x scale output phases is a 5x5 filter of the input)
    followed by depth-to-space; near the border the filters are divided by their weight
    inside the picture. It equals `tf.image.resize(..., method="bicubic")` to float
    rounding and exports as a Conv, which onnxruntime runs far faster than its cubic
    Resize."""

    def __init__(self, scale, interpolation="bilinear", **kwargs):
        super().__init__(**kwargs)
        if interpolation not in SKIP_INTERPOLATIONS:
            raise ValueError(f"interpolation must be one of {SKIP_INTERPOLATIONS}. "
                             f"Received: interpolation={interpolation!r}")
        self.scale = int(scale)
        self.interpolation = interpolation

    def call(self, inputs):
        if self.interpolation == "bicubic":
            return self._bicubic(inputs)
        size = tf.shape(inputs)[1:3] * self.scale
        return tf.image.resize(inputs, size, method=self.interpolation)

    def _bicubic(self, inputs):
        inputs = tf.cast(inputs, tf.float32)
        channels = inputs.shape[-1]
        phases = bicubic_phase_filters(self.scale)  # (5, 5, scale * scale)
        # Output channel (phase, channel) sees only its input channel: the order
        # depth_to_space takes.
        kernel = np.einsum("hwp,cd->hwcpd", phases, np.eye(channels, dtype=np.float32))
        kernel = kernel.reshape(5, 5, channels, -1)
        summed = tf.nn.conv2d(inputs, kernel, 1, "SAME")
        # The weight of each phase's taps inside the picture: 1 but near the border.
        weight = tf.nn.conv2d(tf.ones_like(inputs[..., :1]), phases[:, :, None, :], 1, "SAME")
        weight = tf.repeat(weight, channels, axis=-1)
        return tf.nn.depth_to_space(summed / weight, self.scale)

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        return (batch, None if height is None else height * self.scale,
                None if width is None else width * self.scale, channels)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale,
                "interpolation": self.interpolation}


@keras.saving.register_keras_serializable(package="ganzoo")
class BilinearUpscale(InterpolatedUpscale):
    """`InterpolatedUpscale` bilinear: the layer of models saved before the bicubic skip."""

    def __init__(self, scale, **kwargs):
        kwargs.pop("interpolation", None)
        super().__init__(scale, "bilinear", **kwargs)


def build_srresnet_generator(channels, scale=4, filters=64, blocks=16, upsampled_skip=False,
                             name="generator"):
    """image (B, H, W, C) in [-1, 1] -> images (B, scale*H, scale*W, C) in [-1, 1].

    With `upsampled_skip` (True or "bilinear", or "bicubic") the last convolution's output
    (no tanh) is added to the input upscaled so and the sum clipped to [-1, 1] (see
    `SRGAN`).
    """
    image = keras.Input((None, None, channels), name="image")
    x = keras.layers.Conv2D(filters, 9, padding="same", name="head_conv")(image)
    head = _prelu(x, "head_prelu")
    x = head
    for index in range(blocks):
        x = _residual_block(x, filters, f"block{index + 1}")
    x = keras.layers.Conv2D(filters, 3, padding="same", name="body_conv")(x)
    x = _bn(x, "body_bn")
    x = keras.layers.Add(name="long_skip")([head, x])
    for index in range(int(np.log2(scale))):
        x = subpixel_upsampling(x, filters, name=f"up{index + 1}")
    # With the skip the residual starts at zero (a zero last convolution): the generator
    # starts as the interpolation instead of the interpolation plus noise.
    x = keras.layers.Conv2D(channels, 9, padding="same",
                            kernel_initializer="zeros" if upsampled_skip else "glorot_uniform",
                            name="to_image")(x)
    if upsampled_skip:
        interpolation = "bilinear" if upsampled_skip is True else upsampled_skip
        upscaled = InterpolatedUpscale(scale, interpolation, name="upscaled_input")(image)
        x = keras.layers.Add(name="residual")([upscaled, x])
        images = ClipToImageRange(dtype="float32", name="images")(x)
    else:
        images = keras.layers.Activation("tanh", dtype="float32", name="images")(x)
    return keras.Model(image, images, name=name)


def build_srgan_discriminator(image_shape, disc_filters=64, name="discriminator"):
    """images (B, H, W, C) -> one logit per image (B, 1); H and W multiples of 16."""
    images = keras.Input(image_shape, name="images")
    x = keras.layers.Conv2D(disc_filters, 3, padding="same", name="conv0")(images)
    x = keras.layers.LeakyReLU(0.2, name="conv0_lrelu")(x)
    widths = (1, 2, 2, 4, 4, 8, 8)
    for index, (width, strides) in enumerate(zip(widths, (2, 1, 2, 1, 2, 1, 2))):
        block = f"conv{index + 1}"
        x = keras.layers.Conv2D(disc_filters * width, 3, strides=strides, padding="same",
                                name=block)(x)
        x = _bn(x, f"{block}_bn")
        x = keras.layers.LeakyReLU(0.2, name=f"{block}_lrelu")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(16 * disc_filters, name="dense")(x)
    x = keras.layers.LeakyReLU(0.2, name="dense_lrelu")(x)
    logits = keras.layers.Dense(1, name="logit")(x)
    logits = keras.layers.Activation("linear", dtype="float32", name="logits")(logits)
    return keras.Model(images, logits, name=name)


# -- the VGG content loss ---------------------------------------------------------------


def vgg19_cache_path():
    """Where Keras keeps the VGG19 ImageNet weights once downloaded."""
    return os.path.join(keras_models_dir(), VGG19_WEIGHTS_FILE)


def _vgg_weights_source(vgg_weights):
    """A file to load or "imagenet" (download), or one ValueError naming both ways."""
    if vgg_weights is not None:
        path = os.fspath(vgg_weights)
        if not os.path.isfile(path):
            raise ValueError(
                f"vgg_weights must be a VGG19 weights file (Keras' {VGG19_WEIGHTS_FILE}). "
                f"Received: vgg_weights={path!r}, which is not a file"
            )
        return path
    cached = vgg19_cache_path()
    if os.path.isfile(cached):
        return cached

    if tfds_source.network_reachable():
        return "imagenet"
    raise ValueError(
        "SRGAN's VGG content loss needs VGG19's ImageNet weights, which are not in the "
        f"Keras cache ({cached}) and cannot be downloaded offline: put "
        f"{VGG19_WEIGHTS_FILE} there (keras.applications.VGG19(include_top=False, "
        "weights='imagenet') fills the cache on a machine online), or pass the file with "
        "compile(vgg_weights='/path/to/file.h5')"
    )


def build_vgg_features(vgg_weights=None):
    """The frozen VGG19 up to `block5_conv4`: RGB images in [-1, 1] -> feature maps.

    Args:
        vgg_weights: path or None. A VGG19 weights file without the classifier (Keras'
            `vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5`, or `.weights.h5` saved
            from `keras.applications.VGG19(include_top=False)`); None: the Keras cache,
            downloaded there when online.
    """
    source = _vgg_weights_source(vgg_weights)
    vgg = keras.applications.VGG19(include_top=False, weights=source,
                                   input_shape=(None, None, 3))
    features = keras.Model(vgg.input, vgg.get_layer(VGG_LAYER).output, name="vgg19_features")
    features.trainable = False
    return features


def vgg_content_loss(vgg, generated, real):
    """Per example: mean squared difference of the rescaled VGG19 phi_5,4 feature maps."""

    def features(images):
        pixels = (tf.cast(images, tf.float32) + 1.0) * 127.5
        if pixels.shape[-1] == 1:
            pixels = tf.repeat(pixels, 3, axis=-1)
        bgr = pixels[..., ::-1] - tf.constant(_VGG_MEAN_BGR, tf.float32)
        return vgg(bgr, training=False) * VGG_RESCALE

    difference = tf.square(features(generated) - features(real))
    return tf.reduce_mean(difference, axis=[1, 2, 3])


def mse_content_loss(generated, real):
    """Per example: pixel mean squared error."""
    difference = tf.square(tf.cast(generated, tf.float32) - tf.cast(real, tf.float32))
    return tf.reduce_mean(difference, axis=[1, 2, 3])


# -- pictures ---------------------------------------------------------------------------


# -- the family -------------------------------------------------------------------------


# How far bicubic low-resolution images may lie outside [-1, 1] (ringing at edges).
_BICUBIC_OVERSHOOT = 0.25


@register_family("srgan")
class SRGAN(ImageToImage):
    """Super-resolution GAN (Ledig et al. 2017): SRResNet generator, 2x or 4x.

    Trains on `(low_res, high_res)` batches (`ganzoo.data.load_super_resolution`); a
    batch of high-resolution images alone is accepted too, its low-resolution half made
    by `ganzoo.data.super_resolution.bicubic_downscale`. `upscale` enlarges uint8 images
    of any size, tile by tile (`ganzoo._tiling`), so memory stays bounded.

    Args:
        image_shape: tuple. `(height, width, channels)` of the high-resolution training
            patches: multiples of 16, 1 or 3 channels. The generator itself takes any
            size. Defaults to `(96, 96, 3)` as in the paper.
        scale: int. 2 or 4. Defaults to 4.
        filters: int. Width of the generator. Defaults to 64 as in the paper.
        blocks: int. Residual blocks of the generator. Defaults to 16 as in the paper.
        disc_filters: int. Width of the discriminator's first convolution; the others
            are 1, 2, 4, 8 times it and its dense layer 16 times. Defaults to 64.
        content_loss: str. `"mse"` (pixels) or `"vgg"` (VGG19 phi_5,4 feature maps;
            ImageNet weights needed at `compile`). Defaults to `"mse"`.
        adversarial_weight: float. Weight of the adversarial loss in the generator's
            loss. Defaults to 1e-3 as in the paper.
        upsampled_skip: bool or str. Add the input, upscaled by interpolation, to the
            generator's output, so it learns the residual over plain interpolation (the
            global skip of MSRResNet, Wang et al. 2018's SRResNet baseline for ESRGAN; not
            in the SRGAN paper): the output is then clipped to [-1, 1] instead of passing
            a tanh. `True` or `"bilinear"` upscales bilinearly (as MSRResNet);
            `"bicubic"` bicubically, so the untrained generator is already the bicubic
            baseline it is measured against. Converges far sooner, which minutes of
            training need. Defaults to False.
        pretrain_steps: int. Steps of generator-only training on the pixel MSE before
            the adversarial phase (the paper trains SRResNet-MSE for 10^6 steps first;
            the default suits minutes of training). Defaults to 2000.
        seed: int or None. Seed of the training noise.
        name: str or None. Model name.

    Examples:
    ```python
    data = ganzoo.data.load_super_resolution("photos", scale=4, patch_size=96,
                                             batch_size=16, seed=0)
    sr = ganzoo.models.SRGAN(image_shape=(96, 96, 3), scale=4, filters=32, blocks=8,
                             disc_filters=16, pretrain_steps=1000)
    sr.compile()  # Adam 1e-4 (0.9), MSE content loss + 1e-3 x adversarial
    sr.fit(data, epochs=100)
    big = sr.upscale(small)  # uint8 (H, W, 3) -> (4H, 4W, 3)

    perceptual = ganzoo.models.SRGAN(content_loss="vgg")
    perceptual.compile(vgg_weights="vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5")
    ```
    """

    does = "upscales images"
    use = "upscale(image) or `ganzoo upscale SOURCE IN.png OUT.png`"
    refuses_augmentation = (
        "the discriminator must judge the fine texture that augmentation would resample "
        "away, and the content loss pairs pixels; its data pipeline already flips and "
        "transposes patches (ganzoo.data.load_super_resolution)")
    default_loss = "non_saturating"
    default_batch_size = 16
    default_image_size = 96
    loss_names = ("d_loss", "g_loss", "content_loss")

    def __init__(self, image_shape=(96, 96, 3), scale=4, filters=64, blocks=16,
                 disc_filters=64, content_loss="mse", adversarial_weight=1e-3,
                 upsampled_skip=False, pretrain_steps=2000, seed=None, name=None, **kwargs):
        # A latent_dim given anyway reaches ImageToImage, which refuses it in one line.
        super().__init__(image_shape=image_shape, seed=seed, name=name, **kwargs)
        height, width, _ = self.image_shape
        if isinstance(scale, bool) or scale not in SCALES:
            raise ValueError(f"scale must be 2 or 4. Received: scale={scale!r}")
        self.scale = int(scale)
        if height % 16 or width % 16:
            raise ValueError(
                "SRGAN's high-resolution patches must have sides that are multiples of 16 "
                f"(the discriminator halves them four times). Received: "
                f"image_shape={self.image_shape}"
            )
        self.filters = _validation.check_count(filters, "filters")
        if isinstance(blocks, bool) or not isinstance(blocks, int) or blocks < 0:
            raise ValueError(f"blocks must be an int >= 0. Received: blocks={blocks!r}")
        self.blocks = blocks
        self.disc_filters = _validation.check_count(disc_filters, "disc_filters")
        if content_loss not in CONTENT_LOSSES:
            raise ValueError(
                f"content_loss must be 'mse' or 'vgg'. Received: content_loss={content_loss!r}"
            )
        self.content_loss = content_loss
        if isinstance(adversarial_weight, bool) or not isinstance(
                adversarial_weight, (int, float)) or not adversarial_weight >= 0:
            raise ValueError(
                "adversarial_weight must be a number >= 0. "
                f"Received: adversarial_weight={adversarial_weight!r}"
            )
        self.adversarial_weight = float(adversarial_weight)
        if isinstance(pretrain_steps, bool) or not isinstance(pretrain_steps, int) \
                or pretrain_steps < 0:
            raise ValueError(
                f"pretrain_steps must be an int >= 0. Received: pretrain_steps={pretrain_steps!r}"
            )
        self.pretrain_steps = pretrain_steps
        if not isinstance(upsampled_skip, bool) and upsampled_skip not in SKIP_INTERPOLATIONS:
            raise ValueError(
                "upsampled_skip must be False, True (bilinear), 'bilinear' or 'bicubic'. "
                f"Received: upsampled_skip={upsampled_skip!r}"
            )
        self.upsampled_skip = upsampled_skip
        self.__dict__["vgg_features"] = None

    def build_generator(self):
        return build_srresnet_generator(self.image_shape[2], self.scale, self.filters,
                                        self.blocks, self.upsampled_skip)

    def build_discriminator(self):
        return build_srgan_discriminator(self.image_shape, self.disc_filters)

    def default_optimizers(self):
        """Adam(1e-4, beta_1=0.9) for both networks, as in the paper."""
        return {
            "g_optimizer": keras.optimizers.Adam(1e-4, beta_1=0.9, name="g_adam"),
            "d_optimizer": keras.optimizers.Adam(1e-4, beta_1=0.9, name="d_adam"),
        }

    def default_callbacks(self, epochs):
        """The paper's schedule for `fit(..., epochs=epochs)`: the rates times 0.1 for the
        second half of the adversarial updates (after the `pretrain_steps`)."""
        return [StepDecay(epochs, factor=0.1, skip_steps=self.pretrain_steps)]

    def phases(self):
        if self.pretrain_steps:
            return (("pretrain", self.pretrain_steps), ("adversarial", None))
        return (("adversarial", None),)

    def configure_losses(self, vgg_weights=None, **loss_options):
        """`vgg_weights`: the VGG19 weights file of the `"vgg"` content loss; None (the
        default) takes them from the Keras cache (downloaded when online)."""
        super().configure_losses(**loss_options)
        if self.content_loss == "vgg":
            # Frozen and kept out of Keras' tracking: not saved in presets or checkpoints.
            with self.distribute_strategy.scope():
                self.__dict__["vgg_features"] = build_vgg_features(vgg_weights)
        elif vgg_weights is not None:
            raise ValueError(
                "vgg_weights is for content_loss='vgg'; this model uses "
                f"content_loss={self.content_loss!r}"
            )

    # -- the step -----------------------------------------------------------------------

    def low_res_shape(self):
        height, width, channels = self.image_shape
        return (height // self.scale, width // self.scale, channels)

    def unpack_pair(self, data):
        """(low_res, high_res) float32 batches, checked; the low-resolution half is made
        from high-resolution images alone by bicubic downscaling."""
        if isinstance(data, (tuple, list)):
            if len(data) != 2:
                raise ValueError(
                    "SRGAN trains on (low_res, high_res) batches "
                    "(ganzoo.data.load_super_resolution) or on high-resolution images")
            # Bicubic downscaling (load_super_resolution) overshoots [-1, 1] a little.
            low = self.model_images(data[0], tolerance=_BICUBIC_OVERSHOOT)
            high = self.model_images(data[1])
        else:
            high = self.model_images(data)
            low = bicubic_downscale(high, self.scale)
        self.check_batch(high)
        got = tuple(low.shape[1:])
        want = self.low_res_shape()
        if len(got) != 3 or any(have is not None and have != expected
                                for have, expected in zip(got, want)):
            raise ValueError(
                f"SRGAN(scale={self.scale}) pairs {self.image_shape} high-resolution "
                f"patches with {want} low-resolution ones; the data gives {got}: load it "
                f"with load_super_resolution(..., scale={self.scale}, "
                f"patch_size={self.image_shape[0]})"
            )
        return low, high

    def content_loss_of(self, generated, real, kind=None):
        """Per-example content loss (`kind`: "mse" or "vgg"; the model's by default)."""
        kind = kind or self.content_loss
        if kind == "mse":
            return mse_content_loss(generated, real)
        if self.vgg_features is None:
            raise ValueError("The VGG content loss is loaded by compile(): compile the model first")
        return vgg_content_loss(self.vgg_features, generated, real)

    def train_step(self, data):
        low, high = self.unpack_pair(data)
        if self.phase == "pretrain":
            # SRResNet-MSE: the generator alone, on the pixel MSE.
            with tf.GradientTape() as g_tape:
                generated = self.generator(low, training=True)
                content = self.average_loss(mse_content_loss(generated, high))
                g_total = content + self.network_losses(self.generator)
                g_scaled = self.g_optimizer.scale_loss(g_total)
            self.apply_gradients(self.g_optimizer, g_tape, g_scaled, self.generator_variables())
            return self.record(content_loss=content)

        with tf.GradientTape() as d_tape:
            generated = self.generator(low, training=True)
            real_logits = self.discriminator(high, training=True)
            fake_logits = self.discriminator(generated, training=True)
            d_loss = self.average_loss(self.d_loss_fn(real_logits, fake_logits))
            d_total = d_loss + self.network_losses(self.discriminator)
            d_scaled = self.d_optimizer.scale_loss(d_total)
        self.apply_gradients(self.d_optimizer, d_tape, d_scaled, self.discriminator_variables())

        with tf.GradientTape() as g_tape:
            generated = self.generator(low, training=True)
            fake_logits = self.discriminator(generated, training=True)
            g_loss = self.average_loss(self.g_loss_fn(fake_logits))
            content = self.average_loss(self.content_loss_of(generated, high))
            g_total = (content + self.adversarial_weight * g_loss
                       + self.network_losses(self.generator))
            g_scaled = self.g_optimizer.scale_loss(g_total)
        self.apply_gradients(self.g_optimizer, g_tape, g_scaled, self.generator_variables())
        return self.record(d_loss=d_loss, g_loss=g_loss, content_loss=content)

    def test_step(self, data):
        low, high = self.unpack_pair(data)
        generated = self.generator(low, training=False)
        real_logits = self.discriminator(high, training=False)
        fake_logits = self.discriminator(generated, training=False)
        kind = "mse" if self.vgg_features is None else self.content_loss
        return self.record(
            d_loss=self.average_loss(self.d_loss_fn(real_logits, fake_logits)),
            g_loss=self.average_loss(self.g_loss_fn(fake_logits)),
            content_loss=self.average_loss(self.content_loss_of(generated, high, kind)),
        )

    # -- data and previews --------------------------------------------------------------

    @classmethod
    def describe_training_data(cls, data, *, image_size=None, split="train"):
        """Crops per epoch of `load_super_resolution` at this patch size, and channels."""
        patch_size = image_size or cls.default_image_size
        # Any scale that divides the patch: the count does not depend on it.
        scale = 4 if patch_size % 4 == 0 else 2
        description = data_lib.describe_super_resolution(data, scale=scale,
                                                          patch_size=patch_size, split=split)
        return {**description, "class_names": None, "num_classes": None}

    def training_data(self, data, *, image_size, batch_size, seed=None, repeat=False,
                      split="train"):
        """`ganzoo.data.load_super_resolution(data, scale, patch_size=image_size, ...)`."""
        return data_lib.load_super_resolution(
            data, scale=self.scale, patch_size=image_size, batch_size=batch_size,
            seed=seed, repeat=repeat, split=split, channels=self.image_shape[2])

    def preview(self, n, seed=0):
        """Side-by-side pictures `[bicubic, SRGAN, original]` (uint8, (k, H, 3W, C)) of up
        to `n` crops of the remembered training batch (`remember_preview`)."""
        if self.preview_batch is None:
            raise ValueError(
                "SRGAN previews upscale training crops: call "
                "model.remember_preview((low_res, high_res)) with a batch first"
            )
        batch = self.preview_batch
        if isinstance(batch, (tuple, list)):
            low, high = self.unpack_pair(tuple(tf.constant(np.asarray(x)[:n]) for x in batch))
        else:
            low, high = self.unpack_pair(tf.constant(np.asarray(batch)[:n]))

        low_uint8 = _imaging.to_uint8(low.numpy())
        generated = keras.ops.convert_to_numpy(self.inference_generator()(low, training=False))
        return np.concatenate([super_resolution.bicubic_upscale(low_uint8, self.scale),
                               _imaging.to_uint8(generated),
                               _imaging.to_uint8(high.numpy())], axis=2)

    # -- inference ----------------------------------------------------------------------

    def upscale(self, images, tile_size=None, overlap=None):
        """Enlarge uint8 images `scale` times, tile by tile.

        Tiles of `tile_size` input pixels overlapping by `overlap` are upscaled one at a
        time and blended (`ganzoo._tiling.tiled_map`), so memory holds one tile's
        activations and the result whatever the image size; an image no larger than a
        tile is upscaled whole. Grayscale images given to an RGB model are converted to
        RGB (and RGB to grayscale for a grayscale model).

        Args:
            images: uint8 array, (H, W), (H, W, C) or (N, H, W, C), C in (1, 3).
            tile_size: int or None. Input pixels per tile side. Defaults to 128.
            overlap: int or None. Input pixels neighbouring tiles share. Defaults to 32.

        Returns:
            uint8 images (scale*H, scale*W, C) (or (N, ...)), C the model's channels.
        """
        tile_size, overlap = _tiling.check_tiling(tile_size, overlap)
        batch, single = _imaging.as_uint8_batch(images, "upscale")
        floats = _imaging.from_uint8(_imaging.convert_channels(batch, self.image_shape[2]))
        generator = self.inference_generator()

        def run(tile):
            return keras.ops.convert_to_numpy(generator(tile, training=False))

        results = [_imaging.to_uint8(_tiling.tiled_map(run, image, self.scale, tile_size,
                                                       overlap))
                   for image in floats]
        return results[0] if single else np.stack(results)

    def get_config(self):
        config = super().get_config()
        config.pop("latent_dim", None)
        config.update({
            "scale": self.scale,
            "filters": self.filters,
            "blocks": self.blocks,
            "disc_filters": self.disc_filters,
            "content_loss": self.content_loss,
            "adversarial_weight": self.adversarial_weight,
            "upsampled_skip": self.upsampled_skip,
            "pretrain_steps": self.pretrain_steps,
        })
        return config
