"""Instance normalisation and reflection padding, the image-to-image building blocks.

- `InstanceNormalization` (Ulyanov, Vedaldi & Lempitsky 2016,
  https://arxiv.org/abs/1607.08022): each image's channels are normalised over their own
  height and width, y = (x - mean_hw(x)) / sqrt(var_hw(x) + epsilon), optionally followed
  by a learned per-channel scale and offset. It keeps no moving statistics, so training
  and inference compute the same function and nothing needs synchronising across
  replicas: a step on N replicas equals a step on one device by construction.
- `ReflectionPadding2D`: pads height and width by mirroring the image at its borders
  without repeating the edge pixel (TensorFlow's and ONNX's "reflect" mode, PyTorch's
  `ReflectionPad2d`), so a convolution near the border sees image-like content instead
  of zeros (Johnson et al. 2016; the CycleGAN generators).

Both work on any height and width (the spatial axes stay dynamic), so a fully
convolutional generator built from them exports to ONNX with dynamic image sizes.
"""

import keras
from keras import ops


def _check_flag(value, name):
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False. Received: {name}={value!r}")
    return value


@keras.saving.register_keras_serializable(package="ganzoo")
class InstanceNormalization(keras.layers.Layer):
    """Normalises each image's channels over height and width (NHWC inputs).

    y = (x - mean) / sqrt(variance + epsilon) per example and channel, the mean and the
    (biased) variance taken over the spatial axes; then `gamma * y + beta` when `scale` /
    `center`. CycleGAN's reference code uses it without the affine part (the defaults
    here), as PyTorch's `InstanceNorm2d` does.

    Args:
        epsilon: float. Added to the variance. Defaults to 1e-5 (PyTorch's).
        center: bool. Learn a per-channel offset beta. Defaults to False.
        scale: bool. Learn a per-channel scale gamma. Defaults to False.
        **kwargs: base layer arguments (`name`, ...).

    Examples:
    ```python
    norm = ganzoo.layers.InstanceNormalization()
    y = norm(images)  # each (image, channel) now has mean 0 and variance ~1
    ```
    """

    def __init__(self, epsilon=1e-5, center=False, scale=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not epsilon > 0:
            raise ValueError(f"epsilon must be a positive number. Received: epsilon={epsilon!r}")
        self.epsilon = float(epsilon)
        self.center = _check_flag(center, "center")
        self.scale = _check_flag(scale, "scale")
        self.gamma = None
        self.beta = None

    def build(self, input_shape):
        if len(input_shape) != 4 or input_shape[-1] is None:
            raise ValueError(
                "InstanceNormalization expects NHWC inputs with a known channel count. "
                f"Received: input_shape={tuple(input_shape)}"
            )
        channels = input_shape[-1]
        if self.scale:
            self.gamma = self.add_weight(shape=(channels,), initializer="ones", name="gamma")
        if self.center:
            self.beta = self.add_weight(shape=(channels,), initializer="zeros", name="beta")

    def call(self, inputs):
        # Statistics in float32 even under mixed precision: a variance of float16
        # activations loses most of its digits.
        values = ops.cast(inputs, "float32")
        mean = ops.mean(values, axis=(1, 2), keepdims=True)
        variance = ops.mean(ops.square(values - mean), axis=(1, 2), keepdims=True)
        outputs = (values - mean) * ops.rsqrt(variance + self.epsilon)
        if self.gamma is not None:
            outputs = outputs * ops.cast(self.gamma, "float32")
        if self.beta is not None:
            outputs = outputs + ops.cast(self.beta, "float32")
        return ops.cast(outputs, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"epsilon": self.epsilon, "center": self.center, "scale": self.scale})
        return config


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
