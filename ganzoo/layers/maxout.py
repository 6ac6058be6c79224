"""Maxout units (Goodfellow et al. 2013), as used by the original GAN discriminator."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="ganzoo")
class Maxout(keras.layers.Layer):
    """Max over `pieces` linear pieces per unit: a Dense of `units * pieces`, then a max.

    Args:
        units: int. Number of output units.
        pieces: int. Linear pieces per unit. Defaults to 5.
        kernel_initializer: initializer of the linear pieces.
    """

    def __init__(self, units, pieces=5, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        if units < 1 or pieces < 1:
            raise ValueError(
                f"units and pieces must be positive. Received: units={units}, pieces={pieces}"
            )
        self.units = units
        self.pieces = pieces
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.linear = keras.layers.Dense(
            units * pieces, kernel_initializer=self.kernel_initializer, name="linear"
        )

    def build(self, input_shape):
        self.linear.build(input_shape)

    def call(self, inputs):
        pieces = ops.reshape(self.linear(inputs), (-1, self.units, self.pieces))
        return ops.max(pieces, axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "pieces": self.pieces,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
