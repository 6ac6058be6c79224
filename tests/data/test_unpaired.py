"""ganzoo.data.load_unpaired: (a, b) batches of two domains, drawn independently."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from ganzoo import data
from ganzoo.data import bundled


def first(dataset):
    return tuple(x.numpy() for x in next(iter(dataset)))


def crop_position(target, picture):
    """(top, left) of the window of `picture` (H, W) equal to `target` (h, w), or None."""
    size = target.shape[0]
    rows, cols = picture.shape[0] - size + 1, picture.shape[1] - size + 1
    # Candidates: windows whose first two pixels match, then a full comparison.
    candidates = np.argwhere((picture[:rows, :cols] == target[0, 0])
                             & (picture[:rows, 1:cols + 1] == target[0, 1]))
    for top, left in candidates:
        if np.array_equal(picture[top:top + size, left:left + size], target):
            return top, left
    return None


def as_uint8(crop):
    return np.rint((crop[..., 0] + 1.0) * 127.5).astype(int)


def is_crop_of(crop, picture):
    """Whether `crop` (h, w, 1 in [-1, 1]) is a window of `picture` (uint8), flipped or not."""
    target, picture = as_uint8(crop), picture[..., 0].astype(int)
    return any(crop_position(flip, picture) is not None
               for flip in (target, target[::-1], target[:, ::-1], target[::-1, ::-1]))


def test_textures_give_random_crops_of_the_whole_picture_independently_per_domain():
    pairs = data.load_unpaired("textures/grass", "textures/gravel", image_size=16,
                               batch_size=4, seed=0)
    grass, gravel = first(pairs)
    assert grass.shape == gravel.shape == (4, 16, 16, 1) and grass.dtype == np.float32
    assert grass.min() >= -1.0 and grass.max() <= 1.0
    assert all(is_crop_of(crop, bundled.texture_picture("grass")) for crop in grass)
    assert all(is_crop_of(crop, bundled.texture_picture("gravel")) for crop in gravel)
    # An epoch is as many crops as the picture holds 16x16 tiles: 1024, in 256 batches.
    assert sum(1 for _ in pairs) == 256
    # New crops each epoch; the same seed gives the same stream.
    again, _ = first(pairs)
    assert not np.array_equal(grass, again)
    same, _ = first(data.load_unpaired("textures/grass", "textures/gravel", image_size=16,
                                       batch_size=4, seed=0))
    np.testing.assert_array_equal(grass, same)


def test_crops_are_spread_over_the_picture_and_flipped():
    pairs = data.load_unpaired("textures/brick", "textures/brick", image_size=32,
                               batch_size=64, seed=1, repeat=True)
    crops, other = first(pairs)
    # The two domains draw their crops independently, even from one picture.
    assert not any(np.array_equal(a, b) for a, b in zip(crops, other))
    # 64 random 32x32 crops of a 512x512 picture: (almost) all different.
    assert len({crop.tobytes() for crop in crops}) >= 60
    picture = bundled.texture_picture("brick")[..., 0].astype(int)
    flipped = sum(crop_position(as_uint8(crop), picture) is None for crop in crops[:16])
    assert 2 <= flipped <= 15  # 3 in 4 crops are flipped one way or both
    assert all(is_crop_of(crop, bundled.texture_picture("brick")) for crop in crops[:16])


def test_fixed_tiles_without_augmentation_and_channels_convert():
    tiles, gravel = first(data.load_unpaired("textures/grass", "textures/gravel",
                                             image_size=64, batch_size=64, augment=False,
                                             shuffle=False, channels=3))
    assert tiles.shape == (64, 64, 64, 3)
    expected = data.bundled.load_arrays("textures/grass", image_size=(64, 64)).images
    np.testing.assert_allclose(tiles[..., :1], expected.astype(np.float32) / 127.5 - 1.0,
                               atol=1e-6)
    np.testing.assert_array_equal(tiles[..., 0], tiles[..., 2])


def test_folders_of_different_sizes_pair_and_the_smaller_domain_cycles(tmp_path):
    rng = np.random.default_rng(0)
    for domain, count, mode in (("a", 3, "L"), ("b", 7, "RGB")):
        folder = tmp_path / domain
        folder.mkdir()
        for index in range(count):
            shape = (20, 24) if mode == "L" else (20, 24, 3)
            Image.fromarray(rng.integers(0, 256, shape).astype("uint8"), mode).save(
                folder / f"{index}.png")
    pairs = data.load_unpaired(tmp_path / "a", tmp_path / "b", image_size=16, batch_size=2,
                               seed=0)
    batches = [first_batch for first_batch in pairs]
    # RGB wins (domain B), an epoch is one pass over the larger domain (7 // 2 batches).
    assert len(batches) == 3
    a, b = (x.numpy() for x in batches[0])
    assert a.shape == b.shape == (2, 16, 16, 3)
    np.testing.assert_array_equal(a[..., 0], a[..., 1])  # grayscale domain A, converted
    description = data.describe_unpaired(tmp_path / "a", tmp_path / "b")
    assert description == {"num_examples": 7, "num_examples_a": 3, "num_examples_b": 7,
                           "channels": 3}


def test_cycle_gan_tfds_names_hold_both_domains():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=6):
        pairs = data.load_unpaired("cycle_gan/horse2zebra", image_size=16, batch_size=2,
                                   seed=0, augment=False)
        horses, zebras = first(pairs)
        assert horses.shape == zebras.shape == (2, 16, 16, 3)
        jittered = data.load_unpaired("cycle_gan/horse2zebra", "cycle_gan/horse2zebra",
                                      split="test", image_size=16, batch_size=2, seed=0)
        assert first(jittered)[0].shape == (2, 16, 16, 3)
        described = data.describe_unpaired("cycle_gan/horse2zebra")
        assert described["channels"] == 3 and described["num_examples"] == 6


@pytest.mark.parametrize("kwargs, expected", [
    (dict(data_a="textures/grass"), "give the other as data_b (--data-b)"),
    (dict(data_a="textures/grass", data_b="textures/gravel", image_size=600),
     "larger than its 512x512 picture"),
    (dict(data_a="textures/grass", data_b="textures/gravel", batch_size=100,
          image_size=128), "has 16 images, fewer than batch_size=100"),
    (dict(data_a="textures/grass", data_b="no/such/folder"), "'no/such/folder'"),
    (dict(data_a="textures/grass", data_b="textures/gravel", channels=2),
     "channels must be 1, 3 or None"),
    (dict(data_a="textures/grass", data_b="textures/gravel", split="test"),
     "unknown split 'test'"),
])
def test_bad_arguments_are_one_line_naming_the_data(kwargs, expected):
    with pytest.raises(ValueError) as error:
        data.load_unpaired(**kwargs)
    message = str(error.value)
    assert "\n" not in message and expected in message, message


def test_batches_feed_a_cyclegan_step():
    from ganzoo import models

    gan = models.CycleGAN(image_shape=(16, 16, 1), filters=2, disc_filters=2, disc_layers=2,
                          blocks=1, pool_size=2)
    pairs = gan.training_data("textures/grass", data_b="textures/gravel", image_size=16,
                              batch_size=2, seed=0, repeat=True)
    a, b = next(iter(pairs))
    assert a.shape == b.shape == (2, 16, 16, 1)
    assert isinstance(pairs, tf.data.Dataset)
