"""StyleGAN building blocks (Karras et al. 2019, https://arxiv.org/abs/1812.04948, and
2020, https://arxiv.org/abs/1912.04958).

- `EqualizedDense`, `EqualizedConv2D`: the equalised learning rate. Weights are stored as
  N(0, 1 / lr_multiplier) and scaled at run time by lr_multiplier / sqrt(fan_in) (biases
  by lr_multiplier), so every weight learns at the same speed under Adam whatever its fan
  in; the mapping network uses lr_multiplier = 0.01.
- `ModulatedConv2D`: StyleGAN2's weight modulation and demodulation, computed as "scale
  the input channels by the style, convolve with the shared kernel, scale the output
  channels by the demodulation coefficients". This is the same function as convolving with
  the per-example kernel w'_oik = s_i w_oik / sqrt(sum_ik (s_i w_oik)^2 + eps) (the
  authors' non-fused path) and exports as one ordinary convolution.
- `AdaptiveInstanceNormalization`: StyleGAN's AdaIN (the `style="adain"` option).
- `NoiseInjection`: x + strength_c * noise, one noise map per example shared by the
  channels, a learned strength per channel (StyleGAN, zero at the start). The noise is an
  input, never drawn inside the layer: random ops do not convert to ONNX.
- `BiasActivation`: bias, then leaky ReLU(0.2) times sqrt(2) (the gain that keeps unit
  variance), or linear.
- `PixelNormalization`: x / sqrt(mean(x^2) + eps) over the channels (normalising z).
- `LearnedConstant`: the learned 4x4 input of the synthesis network, tiled over the batch.
- `Truncation`: w_avg + psi (w - w_avg) with the tracked mean w (`w_avg`).
- `MinibatchStdDev`: the standard deviation over groups of examples as extra feature maps
  (Karras et al. 2018). Groups are of *consecutive* examples, so a batch split over
  replicas (each holding whole groups) gives every example the statistics one device
  gives it.
"""

import math

import keras
from keras import ops

LRELU_GAIN = math.sqrt(2.0)


def _check_positive(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"{name} must be a positive number. Received: {name}={value!r}")
    return value


def _check_activation(activation):
    if activation not in ("linear", "lrelu"):
        raise ValueError(
            f"activation must be 'linear' or 'lrelu'. Received: activation={activation!r}"
        )
    return activation


def _check_clamp(clamp):
    if clamp is None:
        return None
    return float(_check_positive(clamp, "clamp"))


def activate(x, activation, clamp=None):
    """Leaky ReLU(0.2) times sqrt(2), or the identity; then clipped to [-clamp, clamp]
    when `clamp` is set (StyleGAN2-ADA's `conv_clamp`, which keeps float16 activations
    from overflowing)."""
    if activation == "lrelu":
        x = ops.leaky_relu(x, negative_slope=0.2) * LRELU_GAIN
    if clamp is not None:
        x = ops.clip(x, -clamp, clamp)
    return x


@keras.saving.register_keras_serializable(package="ganzoo")
class EqualizedDense(keras.layers.Layer):
    """Dense layer with the equalised learning rate.

    Args:
        units: int. Output size.
        lr_multiplier: float. Learning-rate multiplier (0.01 in the mapping network).
            Defaults to 1.0.
        bias_init: float. Initial value of the (effective) bias: 1.0 for style affines,
            so that styles start at one. Defaults to 0.0.
        activation: str. "linear" or "lrelu" (with gain sqrt(2)). Defaults to "linear".
        use_bias: bool. Defaults to True.
    """

    def __init__(self, units, lr_multiplier=1.0, bias_init=0.0, activation="linear",
                 use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.lr_multiplier = float(_check_positive(lr_multiplier, "lr_multiplier"))
        self.bias_init = float(bias_init)
        self.activation = _check_activation(activation)
        self.use_bias = bool(use_bias)

    def build(self, input_shape):
        fan_in = int(input_shape[-1])
        self.weight_gain = self.lr_multiplier / math.sqrt(fan_in)
        self.kernel = self.add_weight(
            name="kernel", shape=(fan_in, self.units),
            initializer=keras.initializers.RandomNormal(0.0, 1.0 / self.lr_multiplier))
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(self.units,),
                initializer=keras.initializers.Constant(self.bias_init / self.lr_multiplier))

    def call(self, inputs):
        x = ops.matmul(inputs, self.kernel * self.weight_gain)
        if self.use_bias:
            x = x + self.bias * self.lr_multiplier
        return activate(x, self.activation)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, lr_multiplier=self.lr_multiplier,
                      bias_init=self.bias_init, activation=self.activation,
                      use_bias=self.use_bias)
        return config


@keras.saving.register_keras_serializable(package="ganzoo")
class EqualizedConv2D(keras.layers.Layer):
    """2-D convolution ("same" padding, stride 1) with the equalised learning rate.

    Args:
        filters: int. Output channels.
        kernel_size: int. Square kernel size.
        activation: str. "linear" or "lrelu". Defaults to "linear".
        use_bias: bool. Defaults to True.
        clamp: float or None. Clip the activations to [-clamp, clamp]. Defaults to None.
    """

    def __init__(self, filters, kernel_size, activation="linear", use_bias=True, clamp=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.activation = _check_activation(activation)
        self.use_bias = bool(use_bias)
        self.clamp = _check_clamp(clamp)

    def build(self, input_shape):
        channels = int(input_shape[-1])
        self.weight_gain = 1.0 / math.sqrt(channels * self.kernel_size**2)
        self.kernel = self.add_weight(
            name="kernel", shape=(self.kernel_size, self.kernel_size, channels, self.filters),
            initializer=keras.initializers.RandomNormal(0.0, 1.0))
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.filters,),
                                        initializer="zeros")

    def call(self, inputs):
        x = ops.conv(inputs, self.kernel * self.weight_gain, padding="same")
        if self.use_bias:
            x = x + self.bias
        return activate(x, self.activation, self.clamp)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, kernel_size=self.kernel_size,
                      activation=self.activation, use_bias=self.use_bias, clamp=self.clamp)
        return config


@keras.saving.register_keras_serializable(package="ganzoo")
class ModulatedConv2D(keras.layers.Layer):
    """StyleGAN2's modulated convolution: inputs `[x (B, H, W, I), styles (B, I)]`.

    Output channel o of example b is sum_ik w'_boik x_bik with w'_boik = s_bi w_oik
    (modulation) divided by sqrt(sum_ik w'_boik^2 + 1e-8) when `demodulate` (so that, for
    unit-variance inputs, every output channel has unit expected variance). No bias: the
    noise goes in between (see `BiasActivation`).

    Args:
        filters: int. Output channels.
        kernel_size: int. Square kernel size ("same" padding).
        demodulate: bool. Defaults to True (False for toRGB layers).
    """

    def __init__(self, filters, kernel_size, demodulate=True, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.demodulate = bool(demodulate)

    def build(self, input_shape):
        channels = int(input_shape[0][-1])
        self.weight_gain = 1.0 / math.sqrt(channels * self.kernel_size**2)
        self.kernel = self.add_weight(
            name="kernel", shape=(self.kernel_size, self.kernel_size, channels, self.filters),
            initializer=keras.initializers.RandomNormal(0.0, 1.0))

    def call(self, inputs):
        x, styles = inputs
        kernel = self.kernel * self.weight_gain
        x = x * styles[:, None, None, :]
        x = ops.conv(x, kernel, padding="same")
        if self.demodulate:
            # sum_ik (s_i w_oik)^2 = sum_i s_i^2 (sum_k w_oik^2)
            squared = ops.sum(ops.square(kernel), axis=(0, 1))  # (I, O)
            coefficients = ops.rsqrt(ops.matmul(ops.square(styles), squared) + 1e-8)
            x = x * coefficients[:, None, None, :]
        return x

    def compute_output_shape(self, input_shape):
        return (*input_shape[0][:-1], self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, kernel_size=self.kernel_size,
                      demodulate=self.demodulate)
        return config


@keras.saving.register_keras_serializable(package="ganzoo")
class AdaptiveInstanceNormalization(keras.layers.Layer):
    """AdaIN (StyleGAN 2019): inputs `[x (B, H, W, C), scale (B, C), offset (B, C)]`;
    each channel of each example normalised to zero mean and unit variance over its
    positions, then times `scale` plus `offset`."""

    def __init__(self, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def call(self, inputs):
        x, scale, offset = inputs
        x = x - ops.mean(x, axis=(1, 2), keepdims=True)
        x = x * ops.rsqrt(ops.mean(ops.square(x), axis=(1, 2), keepdims=True) + self.epsilon)
        return x * scale[:, None, None, :] + offset[:, None, None, :]

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="ganzoo")
class NoiseInjection(keras.layers.Layer):
    """inputs `[x (B, H, W, C), noise (B, H, W, 1)]` -> x + strength * noise.

    The learned strength (zeros at the start) is one scalar for the layer with
    `per_channel=False` (StyleGAN2) or one per channel (StyleGAN, the default for layers
    saved before the option existed).
    """

    def __init__(self, per_channel=True, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(per_channel, bool):
            raise ValueError(f"per_channel must be True or False. Received: "
                             f"per_channel={per_channel!r}")
        self.per_channel = per_channel

    def build(self, input_shape):
        shape = (int(input_shape[0][-1]),) if self.per_channel else ()
        self.strength = self.add_weight(name="strength", shape=shape, initializer="zeros")

    def call(self, inputs):
        x, noise = inputs
        return x + noise * self.strength

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "per_channel": self.per_channel}


@keras.saving.register_keras_serializable(package="ganzoo")
class BiasActivation(keras.layers.Layer):
    """A learned bias per channel, then "lrelu" (leaky ReLU 0.2 times sqrt(2)) or "linear",
    then clipped to [-clamp, clamp] when `clamp` is set."""

    def __init__(self, activation="lrelu", clamp=None, **kwargs):
        super().__init__(**kwargs)
        self.activation = _check_activation(activation)
        self.clamp = _check_clamp(clamp)

    def build(self, input_shape):
        self.bias = self.add_weight(name="bias", shape=(int(input_shape[-1]),),
                                    initializer="zeros")

    def call(self, inputs):
        return activate(inputs + self.bias, self.activation, self.clamp)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "activation": self.activation, "clamp": self.clamp}


@keras.saving.register_keras_serializable(package="ganzoo")
class PixelNormalization(keras.layers.Layer):
    """x / sqrt(mean over the last axis of x^2 + eps): puts z on the sphere of radius
    sqrt(dim)."""

    def __init__(self, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def call(self, inputs):
        return inputs * ops.rsqrt(ops.mean(ops.square(inputs), axis=-1, keepdims=True)
                                  + self.epsilon)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="ganzoo")
class LearnedConstant(keras.layers.Layer):
    """The synthesis network's learned input, `(size, size, channels)` ~ N(0, 1) at the
    start, repeated for every example of the batch the input tensor has."""

    def __init__(self, channels, size=4, **kwargs):
        super().__init__(**kwargs)
        self.channels = int(channels)
        self.size = int(size)

    def build(self, input_shape):
        self.constant = self.add_weight(
            name="constant", shape=(self.size, self.size, self.channels),
            initializer=keras.initializers.RandomNormal(0.0, 1.0))

    def call(self, inputs):
        batch_size = ops.shape(inputs)[0]
        return ops.broadcast_to(self.constant[None],
                                (batch_size, self.size, self.size, self.channels))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.size, self.size, self.channels)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "size": self.size}


@keras.saving.register_keras_serializable(package="ganzoo")
class Truncation(keras.layers.Layer):
    """The truncation trick: inputs `[w (B, D), psi (B, 1)]` -> w_avg + psi (w - w_avg).

    `w_avg` is a non-trainable weight that training moves towards the mean w of each
    global batch (`track`). Computed as psi w + (1 - psi) w_avg, so that psi = 1 returns
    w and psi = 0 returns w_avg exactly.
    """

    def build(self, input_shape):
        self.w_avg = self.add_weight(
            name="w_avg", shape=(int(input_shape[0][-1]),), initializer="zeros",
            trainable=False, aggregation="only_first_replica")

    def call(self, inputs):
        w, psi = inputs
        return psi * w + (1.0 - psi) * self.w_avg

    def track(self, batch_mean, beta):
        """w_avg <- batch_mean + beta (w_avg - batch_mean) (StyleGAN's moving average)."""
        self.w_avg.assign(batch_mean + beta * (self.w_avg - batch_mean))

    def compute_output_shape(self, input_shape):
        return input_shape[0]


@keras.saving.register_keras_serializable(package="ganzoo")
class MinibatchStdDev(keras.layers.Layer):
    """Appends the mean standard deviation over a group of examples as feature maps.

    Each group of `group_size` consecutive examples (fewer when the batch does not split
    into such groups: the largest size up to `group_size` that does) gets, per feature
    group, the standard deviation of each value over the group averaged over values,
    channels of the feature group and positions: `num_features` extra channels.

    Args:
        group_size: int. Examples per group. Defaults to 4 (StyleGAN).
        num_features: int. Extra channels (feature groups). Defaults to 1.
    """

    def __init__(self, group_size=4, num_features=1, **kwargs):
        super().__init__(**kwargs)
        self.group_size = int(group_size)
        self.num_features = int(num_features)

    def _group(self, batch_size):
        sizes = ops.arange(self.group_size, 0, -1)
        divides = ops.cast(ops.equal(ops.mod(batch_size, sizes), 0), "int32")
        return ops.take(sizes, ops.argmax(divides))

    def call(self, inputs):
        shape = ops.shape(inputs)
        batch_size, height, width, channels = shape[0], shape[1], shape[2], inputs.shape[-1]
        group = self._group(batch_size)
        features = self.num_features
        x = ops.reshape(inputs, (-1, group, height, width, features, channels // features))
        x = x - ops.mean(x, axis=1, keepdims=True)
        x = ops.sqrt(ops.mean(ops.square(x), axis=1) + 1e-8)  # (G', H, W, F, c)
        x = ops.mean(x, axis=(1, 2, 4))  # (G', F)
        x = ops.repeat(x, group, axis=0)  # one row per example
        x = ops.broadcast_to(x[:, None, None, :], (batch_size, height, width, features))
        return ops.concatenate([inputs, ops.cast(x, inputs.dtype)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + self.num_features)

    def get_config(self):
        return {**super().get_config(), "group_size": self.group_size,
                "num_features": self.num_features}


def _nearest_up(x, factor):
    """Nearest-neighbour upsampling of (B, H, W, C) by an integer factor."""
    if factor == 1:
        return x
    return ops.repeat(ops.repeat(x, factor, axis=1), factor, axis=2)


class _LevelOfDetail(keras.layers.Layer):
    """Holds `lod`, the level of detail of progressive growing (Karras et al. 2018):
    0 is the final resolution, k one 2^k times smaller, a fractional value fades in the
    next resolution. A non-trainable weight (saved in checkpoints and presets), set from
    outside (`ganzoo.training.ProgressiveGrowing`); values are clipped to [0, max_lod].
    """

    def __init__(self, max_lod, **kwargs):
        super().__init__(**kwargs)
        self.max_lod = int(max_lod)

    def build(self, input_shape):
        self.lod = self.add_weight(name="lod", shape=(), initializer="zeros",
                                   trainable=False, aggregation="only_first_replica")

    def _level_weights(self):
        """`(level k, floor, frac)` with lod clipped; floor and frac are float tensors."""
        lod = ops.clip(ops.cast(self.lod, "float32"), 0.0, float(self.max_lod))
        floor = ops.floor(lod)
        return floor, lod - floor

    def get_config(self):
        return {**super().get_config(), "max_lod": self.max_lod}


@keras.saving.register_keras_serializable(package="ganzoo")
class ProgressiveImages(_LevelOfDetail):
    """The skip generator's output cut at the current level of detail.

    Inputs `[rgb_0, base_1, rgb_1, ..., base_n, rgb_n]`: `rgb_i` the toRGB output of
    resolution i (4x4 is 0, n = max_lod the final one) and `base_i` the skip sum of the
    resolutions below, upsampled to resolution i; image_i = base_i + rgb_i (rgb_0 at 0) is
    the skip sum at resolution i. With k = floor(lod), f = lod - k and i = n - k, the
    output is (1 - f) image_i + f image_{i-1} (pixels repeated twice), upsampled to the
    final size by repeating pixels: the images only change continuously as lod moves, and
    at lod 0 the output is the full skip sum base_n + rgb_n.
    """

    def call(self, inputs):
        floor, frac = self._level_weights()
        frac = ops.cast(frac, inputs[0].dtype)
        alpha = 1.0 - frac
        n = self.max_lod
        out = None
        lower = None
        for i in range(n + 1):
            image = inputs[0] if i == 0 else inputs[2 * i - 1] + inputs[2 * i]
            candidate = image if i == 0 else alpha * image + frac * _nearest_up(lower, 2)
            lower = image
            selected = ops.cast(ops.equal(floor, float(n - i)), candidate.dtype)
            term = _nearest_up(candidate, 2 ** (n - i)) * selected
            out = term if out is None else out + term
        return out

    def compute_output_shape(self, input_shape):
        return input_shape[-1]


@keras.saving.register_keras_serializable(package="ganzoo")
class ProgressiveBlend(_LevelOfDetail):
    """Images (B, H, W, C) as the discriminator sees them at the current level of detail:
    at integer lod k, each 2^k x 2^k block replaced by its mean; in between, the two
    neighbouring levels blended, (1 - f) level k + f level k + 1 (k = floor(lod), f the
    fraction). The identity at lod 0.

    Also counts the training images the discriminator has seen (`images_seen`, a
    non-trainable weight the training step adds the global batch to), which the growing
    schedule follows.
    """

    def build(self, input_shape):
        super().build(input_shape)
        self.images_seen = self.add_weight(
            name="images_seen", shape=(), dtype="int64", initializer="zeros",
            trainable=False, aggregation="only_first_replica")

    def call(self, inputs):
        floor, frac = self._level_weights()
        out = None
        for level in range(self.max_lod + 1):
            factor = 2 ** level
            if factor == 1:
                blurred = inputs
            else:
                blurred = _nearest_up(ops.average_pool(inputs, factor, factor,
                                                       padding="valid"), factor)
            weight = (ops.cast(ops.equal(floor, float(level)), "float32") * (1.0 - frac)
                      + ops.cast(ops.equal(floor, float(level - 1)), "float32") * frac)
            term = blurred * ops.cast(weight, blurred.dtype)
            out = term if out is None else out + term
        return out

    def compute_output_shape(self, input_shape):
        return input_shape
