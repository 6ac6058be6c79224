"""The spectrally normalised ResNet discriminator of SN-GAN, shared by sagan and cgan.

Miyato et al. 2018 (spectral normalisation) and Miyato & Koyama 2018 (the projection
discriminator): residual down-blocks of spectrally normalised 3x3 convolutions with ReLU
and no batch norm (SN-GAN's "optimized block" first, whose shortcut pools before its 1x1
convolution), one block without downsampling, ReLU, global sum pooling to features phi(x),
a spectrally normalised linear score psi(phi(x)) and, for class-conditional models, the
projection term <V[y], phi(x)> with a spectrally normalised class embedding V. SAGAN adds
self-attention at one resolution (`attention_resolution`).
"""

import keras

from ganzoo.layers import SelfAttention, SpectralNormalization
from ganzoo.layers.conditioning import label_input, projection_logit
from ganzoo.layers.pooling import GlobalSumPooling2D


def sn(layer):
    """`layer` wrapped in spectral normalisation, named after it."""
    return SpectralNormalization(layer, name=f"{layer.name}_sn")


def sn_conv(width, kernel_size, name):
    """A spectrally normalised 'same' convolution."""
    return sn(keras.layers.Conv2D(width, kernel_size, padding="same", name=name))


def discriminator_block(x, width, name, first=False, downsample=True):
    """Residual down-block: halves the resolution (unless not `downsample`)."""
    shortcut = x
    if first:
        # The first block sees images: no ReLU before its first convolution, and its
        # shortcut pools before the 1x1 convolution (SN-GAN's "optimized block").
        shortcut = keras.layers.AveragePooling2D(2, name=f"{name}_shortcut_pool")(shortcut)
        shortcut = sn_conv(width, 1, f"{name}_shortcut_conv")(shortcut)
    else:
        if downsample or shortcut.shape[-1] != width:
            shortcut = sn_conv(width, 1, f"{name}_shortcut_conv")(shortcut)
        if downsample:
            shortcut = keras.layers.AveragePooling2D(2, name=f"{name}_shortcut_pool")(shortcut)
        x = keras.layers.ReLU(name=f"{name}_relu0")(x)
    x = sn_conv(width, 3, f"{name}_conv1")(x)
    x = keras.layers.ReLU(name=f"{name}_relu1")(x)
    x = sn_conv(width, 3, f"{name}_conv2")(x)
    if downsample:
        x = keras.layers.AveragePooling2D(2, name=f"{name}_pool")(x)
    return keras.layers.Add(name=f"{name}_out")([shortcut, x])


def discriminator_width(filters, size, resolution):
    """ch * size / (2 resolution), at most 16 ch."""
    return filters * min(size // (2 * resolution), 16)


def build_sn_resnet_discriminator(image_shape, filters, num_classes=None,
                                  attention_resolution=None, attention_gamma_init=0.0,
                                  name="discriminator"):
    """images (B, H, W, C) [+ label (B,) int32] -> one logit per image (B, 1).

    Down-blocks halve the resolution down to 4x4 (widths `discriminator_width`), then one
    block at 4x4, ReLU, global sum pooling, a linear score without bias and, given
    `num_classes`, the projection term. `attention_resolution`: where SAGAN's
    self-attention goes (None: nowhere).
    """
    size = image_shape[0]
    images = keras.Input(image_shape, name="images")
    label = label_input() if num_classes else None
    x = images
    resolution = size
    while resolution > 4:
        resolution //= 2
        x = discriminator_block(x, discriminator_width(filters, size, resolution),
                                f"down{resolution}", first=resolution == size // 2)
        if resolution == attention_resolution:
            x = SelfAttention(spectral_norm=True, gamma_initializer=attention_gamma_init,
                              name=f"attention{resolution}")(x)
    x = discriminator_block(x, x.shape[-1], "top", downsample=False)
    x = keras.layers.ReLU(name="top_relu")(x)
    features = GlobalSumPooling2D(name="sum_pool")(x)
    # No bias: under the hinge loss a bias's gradient is the difference between the
    # shares of fake and real examples inside the margin, zero while every logit is in it
    # (as at the start of training), and the features can shift the logit themselves.
    logits = sn(keras.layers.Dense(1, use_bias=False, name="logit"))(features)
    if label is not None:
        # Projection discriminator (Miyato & Koyama 2018): + <embed(y), features>.
        class_embedding = sn(keras.layers.Embedding(num_classes, features.shape[-1],
                                                    name="class_embedding"))
        logits = projection_logit(logits, features, label, class_embedding,
                                  output_name="conditional_logit")
    logits = keras.layers.Activation("linear", dtype="float32", name="logits")(logits)
    inputs = images if label is None else [images, label]
    return keras.Model(inputs, logits, name=name)
