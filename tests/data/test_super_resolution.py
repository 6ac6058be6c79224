"""ganzoo.data.load_super_resolution: (low_res, high_res) batches of random crops."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from ganzoo import data
from ganzoo.data import bundled
from ganzoo.data.super_resolution import bicubic_downscale


def batches(dataset, count=None):
    out = []
    for index, (low, high) in enumerate(dataset):
        if count is not None and index == count:
            break
        out.append((low.numpy(), high.numpy()))
    return out


def to_uint8(images):
    return np.rint((images + 1.0) * 127.5).astype(np.int64)


def occurs_in(patch, pictures):
    """Whether `patch` (uint8 HWC) is a crop of one of `pictures`, in any of the square's
    eight symmetries."""
    variants = []
    for k in range(4):
        turned = np.rot90(patch, k)
        variants += [turned, turned[:, ::-1]]
    size = patch.shape[0]
    for picture in pictures:
        for variant in variants:
            # Candidate places from the first row of the variant.
            rows, cols = np.nonzero(np.all(picture[:, :, :] == variant[0, 0], axis=-1))
            for top, left in zip(rows, cols):
                crop = picture[top:top + size, left:left + size]
                if crop.shape == variant.shape and np.array_equal(crop, variant):
                    return True
    return False


def test_photos_give_pairs_of_the_asked_sizes_and_an_epoch_of_tiles():
    dataset = data.load_super_resolution("photos", scale=4, patch_size=32, batch_size=8,
                                         seed=0)
    found = batches(dataset)
    # An epoch is as many crops as the five train photographs hold 32x32 tiles.
    tiles = sum((p.shape[0] // 32) * (p.shape[1] // 32) for p in bundled.photo_pictures("train"))
    assert len(found) == tiles // 8
    low, high = found[0]
    assert low.shape == (8, 8, 8, 3) and high.shape == (8, 32, 32, 3)
    assert low.dtype == high.dtype == np.float32
    assert low.min() >= -1 and high.max() <= 1
    assert data.describe_super_resolution("photos", 4, 32)["num_examples"] == tiles


def test_low_res_is_the_bicubic_antialiased_downscale_of_high_res_in_8_bit_levels():
    low, high = batches(data.load_super_resolution("photos", scale=2, patch_size=16,
                                                   batch_size=4, seed=1), 1)[0]
    expected = tf.image.resize(high, (8, 8), method="bicubic", antialias=True).numpy()
    expected = np.round((np.clip(expected, -1, 1) + 1) * 127.5) / 127.5 - 1
    np.testing.assert_allclose(low, expected, atol=1e-6)
    # Every value is an 8-bit level.
    levels = (low + 1) * 127.5
    np.testing.assert_allclose(levels, np.round(levels), atol=1e-4)


def test_the_train_split_never_shows_chelsea_or_coffee():
    held_out = bundled.photo_pictures("test")
    train = bundled.photo_pictures("train")
    assert len(held_out) == 2 and len(train) == 5
    high = np.concatenate([h for _, h in batches(data.load_super_resolution(
        "photos", scale=4, patch_size=32, batch_size=16, seed=3))])
    patches = to_uint8(high).astype(np.uint8)
    for patch in patches[:3]:
        assert occurs_in(patch, train)
        assert not occurs_in(patch, held_out)
    test_high = batches(data.load_super_resolution("photos", scale=4, patch_size=32,
                                                   batch_size=4, split="test", seed=0), 1)[0][1]
    assert occurs_in(to_uint8(test_high[0]).astype(np.uint8), held_out)
    # The plain photos tiles follow the same split.
    assert data.describe("photos", split="test")["num_examples"] == 36
    assert data.describe("photos")["num_examples"] == 199


def test_crops_are_seeded_and_change_from_epoch_to_epoch():
    def first(seed):
        dataset = data.load_super_resolution("photos", scale=4, patch_size=32, batch_size=4,
                                             seed=seed)
        return [h for _, h in batches(dataset, 2)], dataset

    same_a, dataset = first(5)
    same_b, _ = first(5)
    np.testing.assert_array_equal(same_a[0], same_b[0])
    other, _ = first(6)
    assert not np.array_equal(same_a[0], other[0])
    next_epoch = [h for _, h in batches(dataset, 2)]
    assert not np.array_equal(same_a[0], next_epoch[0])


def test_a_folder_of_pictures_of_any_size_and_numpy_images(tmp_path):
    rng = np.random.default_rng(0)
    for index, size in enumerate([(40, 60), (64, 48), (20, 20)]):  # the last is too small
        Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(
            tmp_path / f"{index}.png")
    low, high = batches(data.load_super_resolution(tmp_path, scale=2, patch_size=32,
                                                   batch_size=2, seed=0), 1)[0]
    assert low.shape == (2, 16, 16, 3) and high.shape == (2, 32, 32, 3)
    gray = batches(data.load_super_resolution(tmp_path, scale=2, patch_size=32, batch_size=2,
                                              channels=1, seed=0), 1)[0][1]
    assert gray.shape == (2, 32, 32, 1)

    arrays = rng.integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
    low, high = batches(data.load_super_resolution(arrays, scale=4, patch_size=32,
                                                   batch_size=3, augment=False,
                                                   shuffle=False), 1)[0]
    np.testing.assert_array_equal(to_uint8(high), arrays[:3])


def test_picture_tiles_cut_pictures_of_any_size_at_full_resolution(tmp_path):
    from ganzoo.data.super_resolution import picture_tiles

    rng = np.random.default_rng(0)
    pictures = [rng.integers(0, 256, size, dtype=np.uint8)
                for size in [(70, 100, 3), (40, 33, 3), (20, 20, 3)]]  # the last is too small
    for index, picture in enumerate(pictures):
        Image.fromarray(picture).save(tmp_path / f"{index}.png")
    tiles = picture_tiles(tmp_path, 32)
    # 2x3 tiles on a grid centred in the first picture (3 rows and 2 columns left over),
    # 1x1 in the second: the pictures' own pixels, never resized.
    assert tiles.shape == (7, 32, 32, 3) and tiles.dtype == np.uint8
    np.testing.assert_array_equal(tiles[0], pictures[0][3:35, 2:34])
    np.testing.assert_array_equal(tiles[5], pictures[0][35:67, 66:98])
    np.testing.assert_array_equal(tiles[6], pictures[1][4:36, 0:32])
    assert picture_tiles(tmp_path, (16, 32)).shape == (4 * 3 + 2 * 1, 16, 32, 3)
    # The bundled photos give the tiles of their loader.
    np.testing.assert_array_equal(
        picture_tiles("photos", 96, split="test"),
        bundled.load_arrays("photos", split="test", image_size=(96, 96)).images)
    with pytest.raises(ValueError, match="no picture of at least 128x128 pixels"):
        picture_tiles(tmp_path, 128)
    # Without a size: pictures of one size whole, else the 96x96 tiles of `photos`.
    arrays = rng.integers(0, 256, (3, 40, 24, 3), dtype=np.uint8)
    np.testing.assert_array_equal(picture_tiles(arrays), arrays)
    with pytest.raises(ValueError, match="no picture of at least 96x96 pixels"):
        picture_tiles(tmp_path)


def test_div2k_pairs_use_the_datasets_own_low_res_images():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=3):
        builder = tfds.builder("div2k/bicubic_x4")
        examples = list(builder.as_dataset(split="train").take(3))
        dataset = data.load_super_resolution("div2k/bicubic_x4", scale=4, patch_size=16,
                                             batch_size=3, seed=0, shuffle=False,
                                             augment=False)
        low, high = batches(dataset, 1)[0]
        assert low.shape == (3, 4, 4, 3) and high.shape == (3, 16, 16, 3)
        # The low-res crop is a crop of the example's own `lr` image, not a downscale.
        for crop, example in zip(to_uint8(low), examples):
            assert occurs_in(crop.astype(np.uint8), [example["lr"].numpy()])
        with pytest.raises(ValueError, match="scale=4") as error:
            data.load_super_resolution("div2k/bicubic_x4", scale=2, patch_size=16)
        assert "\n" not in str(error.value)


@pytest.mark.parametrize("kwargs, words", [
    (dict(data="photos", scale=4, patch_size=30), ["'photos'", "multiple of scale=4"]),
    (dict(data="photos", scale=1, patch_size=32), ["'photos'", "at least 2"]),
    (dict(data="digits", scale=2, patch_size=8), ["'digits'", "not a dataset of photographs"]),
    (dict(data="photos", scale=4, patch_size=2048), ["'photos'", "smaller patch_size"]),
    (dict(data="photos", scale=4, patch_size=96, batch_size=500), ["fewer than batch_size"]),
    (dict(data="photos", scale=4, patch_size=32, split="validation"), ["split"]),
])
def test_bad_arguments_are_one_line_errors_naming_the_data(kwargs, words):
    with pytest.raises(ValueError) as error:
        data.load_super_resolution(**kwargs)
    message = str(error.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_bicubic_downscale_matches_a_hand_computation_on_a_constant_and_a_ramp():
    constant = np.full((1, 8, 8, 1), 0.2, np.float32)
    np.testing.assert_allclose(bicubic_downscale(constant, 2).numpy(),
                               np.round(1.2 * 127.5) / 127.5 - 1, atol=1e-6)
    assert bicubic_downscale(np.zeros((2, 12, 20, 3), np.float32), 4).shape == (2, 3, 5, 3)
