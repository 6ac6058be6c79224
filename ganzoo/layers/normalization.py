"""Instance normalisation, an image-to-image building block.

`InstanceNormalization` (Ulyanov, Vedaldi & Lempitsky 2016,
https://arxiv.org/abs/1607.08022): each image's channels are normalised over their own
height and width, y = (x - mean_hw(x)) / sqrt(var_hw(x) + epsilon), optionally followed by
a learned per-channel scale and offset. It keeps no moving statistics, so training and
inference compute the same function and nothing needs synchronising across replicas: a
step on N replicas equals a step on one device by construction.

It works on any height and width (the spatial axes stay dynamic), so a fully
convolutional generator built from it (and `ganzoo.layers.ReflectionPadding2D`) exports to
ONNX with dynamic image sizes.
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
