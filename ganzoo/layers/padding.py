"""Reflection padding, an image-to-image building block.

`ReflectionPadding2D` pads height and width by mirroring the image at its borders without
repeating the edge pixel (TensorFlow's and ONNX's "reflect" mode, PyTorch's
`ReflectionPad2d`), so a convolution near the border sees image-like content instead of
zeros (Johnson et al. 2016; the CycleGAN generators). It works on any height and width
(the spatial axes stay dynamic), so a fully convolutional generator built from it exports
to ONNX with dynamic image sizes.

Registered with Keras as "ganzoo>ReflectionPadding2D", the name it had in
`ganzoo.layers.normalization`, so configs saved then still load.
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="ganzoo")
class ReflectionPadding2D(keras.layers.Layer):
    """Pads the height and width of NHWC inputs by reflection (edge pixel not repeated).

    `[a, b, c, d]` padded by 2 becomes `[c, b, a, b, c, d, c, b]`. Each padding must be
    smaller than the padded side (a reflection cannot reach further than the image).

    Args:
        padding: int or ((top, bottom), (left, right)). Defaults to 1.
        **kwargs: base layer arguments (`name`, ...).

    Examples:
    ```python
    padded = ganzoo.layers.ReflectionPadding2D(3)(images)  # (B, H + 6, W + 6, C)
    ```
    """

    def __init__(self, padding=1, **kwargs):
        super().__init__(**kwargs)
        self.padding = _normalize_padding(padding)

    def call(self, inputs):
        (top, bottom), (left, right) = self.padding
        return ops.pad(inputs, [[0, 0], [top, bottom], [left, right], [0, 0]], mode="reflect")

    def compute_output_shape(self, input_shape):
        (top, bottom), (left, right) = self.padding
        batch, height, width, channels = input_shape
        return (batch, None if height is None else height + top + bottom,
                None if width is None else width + left + right, channels)

    def get_config(self):
        config = super().get_config()
        config["padding"] = [list(pair) for pair in self.padding]
        return config


def _normalize_padding(padding):
    def is_count(value):
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0

    if is_count(padding):
        return ((padding, padding), (padding, padding))
    if (isinstance(padding, (tuple, list)) and len(padding) == 2
            and all(isinstance(pair, (tuple, list)) and len(pair) == 2 for pair in padding)
            and all(is_count(value) for pair in padding for value in pair)):
        return tuple(tuple(pair) for pair in padding)
    raise ValueError(
        "padding must be an int >= 0 or ((top, bottom), (left, right)) of ints >= 0. "
        f"Received: padding={padding!r}"
    )
