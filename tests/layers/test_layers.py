"""Shared layers against hand computations."""

import keras
import numpy as np
import pytest

from ganzoo.layers import Maxout


def test_maxout_is_the_max_over_each_units_pieces():
    layer = Maxout(2, pieces=3, name="maxout")
    inputs = np.array([[1.0, -2.0], [0.5, 4.0]], "float32")
    layer.build(inputs.shape)
    # Dense of units * pieces = 6 outputs: unit u owns outputs [3u, 3u + 3).
    kernel = np.array([[1, 2, 3, -1, -2, -3],
                       [0, 1, -1, 2, 0, 1]], "float32")
    bias = np.array([0.0, 0.5, 1.0, 0.0, -0.5, 2.0], "float32")
    layer.linear.set_weights([kernel, bias])
    linear = inputs @ kernel + bias
    expected = np.stack([linear[:, 0:3].max(axis=1), linear[:, 3:6].max(axis=1)], axis=1)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(inputs)), expected, rtol=1e-6)
    assert layer.compute_output_shape((None, 2)) == (None, 2)


def test_maxout_round_trips_its_config():
    layer = Maxout(4, pieces=2, name="m")
    twin = Maxout.from_config(layer.get_config())
    assert (twin.units, twin.pieces, twin.name) == (4, 2, "m")


@pytest.mark.parametrize("units, pieces", [(0, 2), (3, 0)])
def test_maxout_rejects_empty_shapes(units, pieces):
    with pytest.raises(ValueError, match="must be positive"):
        Maxout(units, pieces=pieces)
