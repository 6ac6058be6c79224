"""Self-attention over the positions of a feature map (Zhang et al. 2018, SAGAN,
https://arxiv.org/abs/1805.08318).

For a feature map x of shape (B, H, W, C) and its N = H * W positions, three 1x1
convolutions give queries Q (N, C/8), keys K (N, C/8) and values V (N, C/2) per image;
each position attends to every position with weights softmax(Q K^T) (a softmax over the
keys, per query), and a last 1x1 convolution maps the attended values back to C channels:
o = (softmax(Q K^T) V) W_o. The block returns gamma * o + x, gamma a learned scalar that
starts at 0, so the block starts as the identity and the network learns how much
non-local evidence to use (paper, section 4).

The paper writes the convolutions W_f (keys), W_g (queries), W_h (values) and W_v (output)
with C/8 channels; C/8 for queries and keys is the paper's choice (k = 8), C/2 for the
values is the authors' code's. Their code also max-pools keys and values 2x2 to save
memory; here every position attends to every position, as the paper's equations say.
"""

import keras
from keras import ops

from ganzoo.layers.spectral_norm import SpectralNormalization


def _check_ratio(value, name):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
    return value


@keras.saving.register_keras_serializable(package="ganzoo")
class SelfAttention(keras.layers.Layer):
    """SAGAN's self-attention block: `gamma * o + x` (see the module docstring).

    Args:
        key_ratio: int. Queries and keys have `max(1, C // key_ratio)` channels.
            Defaults to 8 as in the paper.
        value_ratio: int. Values have `max(1, C // value_ratio)` channels. Defaults to 2
            as in the authors' code.
        spectral_norm: bool. Spectral normalisation on the four 1x1 convolutions, as in
            the paper's networks. Defaults to False.
        gamma_initializer: float. Initial gamma. Defaults to 0.0 (the block starts as the
            identity), as in the paper.
        **kwargs: base layer arguments (`name`, ...).

    Call arguments:
        inputs: Tensor of shape (B, H, W, C), H and W known.
        training: bool. Updates the spectral-norm estimates when True.

    Examples:
    ```python
    block = ganzoo.layers.SelfAttention(spectral_norm=True, name="attention16")
    features = block(features)  # (B, 16, 16, C) -> (B, 16, 16, C)
    ```
    """

    def __init__(self, key_ratio=8, value_ratio=2, spectral_norm=False,
                 gamma_initializer=0.0, **kwargs):
        super().__init__(**kwargs)
        self.key_ratio = _check_ratio(key_ratio, "key_ratio")
        self.value_ratio = _check_ratio(value_ratio, "value_ratio")
        if not isinstance(spectral_norm, bool):
            raise ValueError(
                f"spectral_norm must be True or False. Received: spectral_norm={spectral_norm!r}"
            )
        self.spectral_norm = spectral_norm
        self.gamma_initializer = float(gamma_initializer)

    def _conv(self, channels, name):
        conv = keras.layers.Conv2D(channels, 1, use_bias=False, name=name)
        return SpectralNormalization(conv, name=f"{name}_sn") if self.spectral_norm else conv

    def build(self, input_shape):
        if len(input_shape) != 4 or any(dim is None for dim in input_shape[1:]):
            raise ValueError(
                "SelfAttention takes feature maps (batch, height, width, channels) of known "
                f"height, width and channels. Received: input_shape={tuple(input_shape)}"
            )
        channels = input_shape[-1]
        key_channels = max(1, channels // self.key_ratio)
        value_channels = max(1, channels // self.value_ratio)
        self.query = self._conv(key_channels, "query")
        self.key = self._conv(key_channels, "key")
        self.value = self._conv(value_channels, "value")
        self.output_conv = self._conv(channels, "output")
        for conv in (self.query, self.key, self.value):
            conv.build(input_shape)
        self.output_conv.build(tuple(input_shape[:-1]) + (value_channels,))
        self.gamma = self.add_weight(
            shape=(), initializer=keras.initializers.Constant(self.gamma_initializer),
            name="gamma",
        )

    def _positions(self, features):
        """(B, H, W, D) -> (B, H * W, D) in float32."""
        _, height, width, depth = features.shape
        return ops.reshape(ops.cast(features, "float32"), (-1, height * width, depth))

    def attention_weights(self, inputs, training=False):
        """softmax(Q K^T) per image, (B, N, N): row i weighs the positions query i reads."""
        queries = self._positions(self._run(self.query, inputs, training))
        keys = self._positions(self._run(self.key, inputs, training))
        return ops.softmax(ops.matmul(queries, ops.transpose(keys, (0, 2, 1))), axis=-1)

    def _run(self, conv, inputs, training):
        if self.spectral_norm:
            return conv(inputs, training=training)
        return conv(inputs)

    def call(self, inputs, training=False):
        _, height, width, _ = inputs.shape
        weights = self.attention_weights(inputs, training=training)
        values = self._positions(self._run(self.value, inputs, training))
        attended = ops.matmul(weights, values)
        attended = ops.reshape(attended, (-1, height, width, attended.shape[-1]))
        output = self._run(self.output_conv, ops.cast(attended, self.compute_dtype), training)
        return inputs + ops.cast(self.gamma, self.compute_dtype) * output

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({
            "key_ratio": self.key_ratio,
            "value_ratio": self.value_ratio,
            "spectral_norm": self.spectral_norm,
            "gamma_initializer": self.gamma_initializer,
        })
        return config
