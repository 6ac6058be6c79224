"""Pooling over positions.

- `GlobalSumPooling2D`: the sum of a feature map over its height and width, the pooling
  of SN-GAN's and SAGAN's residual discriminators before their last dense layer and the
  projection term.
"""

import keras


@keras.saving.register_keras_serializable(package="ganzoo")
class GlobalSumPooling2D(keras.layers.Layer):
    """(B, H, W, C) -> (B, C): the sum over positions (SN-GAN's and SAGAN's pooling)."""

    def call(self, inputs):
        return keras.ops.sum(inputs, axis=(1, 2))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])
