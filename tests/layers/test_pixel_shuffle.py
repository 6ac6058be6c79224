"""ganzoo.layers.PixelShuffle and subpixel_upsampling against hand computations."""

import keras
import numpy as np
import pytest

from ganzoo.layers import PixelShuffle, subpixel_upsampling


def test_pixel_shuffle_puts_channel_i_r_plus_j_at_offset_i_j():
    r, channels = 2, 3
    inputs = np.random.default_rng(0).normal(size=(2, 3, 4, r * r * channels)).astype("float32")
    out = keras.ops.convert_to_numpy(PixelShuffle(r)(inputs))
    assert out.shape == (2, 6, 8, 3)
    for h in range(3):
        for w in range(4):
            for i in range(r):
                for j in range(r):
                    np.testing.assert_array_equal(
                        out[:, h * r + i, w * r + j],
                        inputs[:, h, w, (i * r + j) * channels:(i * r + j + 1) * channels])


def test_pixel_shuffle_takes_any_height_and_width_and_round_trips_its_config():
    layer = PixelShuffle(4, name="shuffle")
    assert layer.compute_output_shape((None, None, None, 32)) == (None, None, None, 2)
    assert layer.compute_output_shape((1, 5, 7, 16)) == (1, 20, 28, 1)
    twin = PixelShuffle.from_config(layer.get_config())
    assert (twin.block_size, twin.name) == (4, "shuffle")


@pytest.mark.parametrize("block_size", [1, 2.0, True])
def test_pixel_shuffle_rejects_bad_block_sizes(block_size):
    with pytest.raises(ValueError, match="block_size must be an int of at least 2"):
        PixelShuffle(block_size)


def test_pixel_shuffle_refuses_channels_that_do_not_divide():
    with pytest.raises(ValueError, match="multiple of 4"):
        PixelShuffle(2)(np.zeros((1, 2, 2, 6), "float32"))


def test_subpixel_upsampling_is_conv_shuffle_prelu():
    image = keras.Input((None, None, 2))
    model = keras.Model(image, subpixel_upsampling(image, 3, name="up"))
    conv, shuffle, prelu = (model.get_layer(f"up_{part}") for part in ("conv", "shuffle",
                                                                        "prelu"))
    assert conv.filters == 12 and conv.kernel_size == (3, 3)
    # One PReLU slope per channel, shared over positions: any height and width.
    assert tuple(prelu.alpha.shape) == (1, 1, 3)
    prelu.alpha.assign(np.full((1, 1, 3), 0.25, "float32"))
    x = np.random.default_rng(1).normal(size=(1, 5, 6, 2)).astype("float32")
    shuffled = keras.ops.convert_to_numpy(shuffle(conv(x)))
    expected = np.where(shuffled > 0, shuffled, 0.25 * shuffled)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), expected, rtol=1e-6)
    assert model(x).shape == (1, 10, 12, 3)
