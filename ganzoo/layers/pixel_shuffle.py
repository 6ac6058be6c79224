"""Sub-pixel convolution upsampling (Shi et al. 2016, https://arxiv.org/abs/1609.05158).

`PixelShuffle(r)` rearranges (B, H, W, r*r*C) feature maps into (B, r*H, r*W, C):
output pixel (r*h + i, r*w + j) channel c is input pixel (h, w) channel (i*r + j)*C + c,
TensorFlow's `depth_to_space` (and ONNX's `DepthToSpace`, DCR mode, which the export
writes). Preceded by a convolution to r*r*C channels it is the "sub-pixel convolution"
SRGAN's generator upsamples with; `subpixel_upsampling` builds that block with the PReLU
SRGAN puts after it (Keras' own `keras.layers.PReLU`, one slope per channel, shared
over positions so the block takes any height and width).
"""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="ganzoo")
class PixelShuffle(keras.layers.Layer):
    """(B, H, W, r*r*C) -> (B, r*H, r*W, C) by `depth_to_space` with block size r.

    Args:
        block_size: int. The upscaling factor r, at least 2. Defaults to 2.

    Examples:
    ```python
    layer = ganzoo.layers.PixelShuffle(2)
    layer(np.zeros((1, 8, 8, 12), "float32")).shape  # (1, 16, 16, 3)
    ```
    """

    def __init__(self, block_size=2, **kwargs):
        super().__init__(**kwargs)
        if isinstance(block_size, bool) or not isinstance(block_size, int) or block_size < 2:
            raise ValueError(
                f"block_size must be an int of at least 2. Received: block_size={block_size!r}"
            )
        self.block_size = block_size

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is not None and channels % (self.block_size**2):
            raise ValueError(
                f"PixelShuffle({self.block_size}) needs channels that are a multiple of "
                f"{self.block_size**2}. Received: input_shape={tuple(input_shape)}"
            )

    def call(self, inputs):
        return tf.nn.depth_to_space(inputs, self.block_size)

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        r = self.block_size
        return (batch, None if height is None else height * r,
                None if width is None else width * r, channels // (r * r))

    def get_config(self):
        config = super().get_config()
        config["block_size"] = self.block_size
        return config


def subpixel_upsampling(x, filters, name, block_size=2, kernel_initializer="glorot_uniform"):
    """SRGAN's upsampling block: conv 3x3 to r*r*filters, PixelShuffle(r), PReLU.

    Args:
        x: Keras tensor (B, H, W, C).
        filters: int. Channels out.
        name: str. Prefix of the block's layer names.
        block_size: int. The upscaling factor r. Defaults to 2.
        kernel_initializer: initializer of the convolution.

    Returns:
        Keras tensor (B, r*H, r*W, filters).
    """
    x = keras.layers.Conv2D(filters * block_size**2, 3, padding="same",
                            kernel_initializer=kernel_initializer, name=f"{name}_conv")(x)
    x = PixelShuffle(block_size, name=f"{name}_shuffle")(x)
    return keras.layers.PReLU(shared_axes=[1, 2], name=f"{name}_prelu")(x)
