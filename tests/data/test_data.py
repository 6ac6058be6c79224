"""Tests for `ganzoo.data`: bundled datasets, folders, arrays, TFDS (mocked) and errors."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from ganzoo import data

BUNDLED_SHAPES = {
    "faces": (25, 25, 1),
    "textures/grass": (64, 64, 1),
    "textures/gravel": (64, 64, 1),
    "textures/brick": (64, 64, 1),
    "photos": (96, 96, 3),
}


def first_batch(dataset):
    return next(iter(dataset))


def write_png(path, value, size=(6, 5), mode="L"):
    """A uniform image of `value` (int, or RGB tuple), `size` = (height, width)."""
    height, width = size
    channels = () if mode == "L" else (3,)
    pixels = np.full((height, width) + channels, value, dtype=np.uint8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(pixels).convert(mode).save(path)


def assert_one_line_naming(error, data_text, *fragments):
    message = str(error.value)
    assert "\n" not in message
    assert data_text in message
    for fragment in fragments:
        assert fragment in message, message


# ---- digits ----


def test_digits_batches_are_scaled_float_images_with_labels():
    images, labels = first_batch(data.load("digits", batch_size=32, labels=True, seed=0))
    assert images.shape == (32, 8, 8, 1) and images.dtype == tf.float32
    assert labels.shape == (32,) and labels.dtype == tf.int32
    assert float(tf.reduce_min(images)) >= -1.0 and float(tf.reduce_max(images)) <= 1.0
    assert set(labels.numpy()) <= set(range(10))


def test_digits_full_range_reaches_both_ends():
    images = np.concatenate(list(data.load("digits", batch_size=599, split="all")))
    assert images.shape == (1797, 8, 8, 1)  # 3 batches of 599
    assert images.min() == -1.0 and images.max() == 1.0


def test_digits_splits_partition_all_examples():
    train_images, train_labels = data.digits_arrays("train")
    test_images, test_labels = data.digits_arrays("test")
    all_images, all_labels = data.digits_arrays("all")
    assert len(train_labels) == 1437 and len(test_labels) == 360
    assert len(train_labels) + len(test_labels) == len(all_labels) == 1797
    # Train + test is exactly the whole set (as a multiset of (image, label) rows).
    def rows(images, labels):
        table = np.concatenate([images.reshape(len(images), -1), labels[:, None]], axis=1)
        return table[np.lexsort(table.T[::-1])]

    joined = rows(
        np.concatenate([train_images, test_images]), np.concatenate([train_labels, test_labels])
    )
    np.testing.assert_array_equal(joined, rows(all_images, all_labels))
    # Stratified: every class is in both splits.
    assert set(train_labels) == set(test_labels) == set(range(10))


def test_digits_split_matches_documented_definition():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    target = load_digits().target
    train_index, test_index = train_test_split(
        np.arange(1797), test_size=0.2, random_state=0, stratify=target
    )
    assert not set(train_index) & set(test_index)
    np.testing.assert_array_equal(data.digits_arrays("train")[1], target[train_index])
    np.testing.assert_array_equal(data.digits_arrays("test")[1], target[test_index])


def test_digits_arrays_are_uint8_scaled_from_0_16():
    from sklearn.datasets import load_digits

    images, labels = data.digits_arrays("all")
    assert images.dtype == np.uint8 and images.shape == (1797, 8, 8)
    assert labels.dtype == np.int64 and labels.shape == (1797,)
    raw = load_digits().images
    np.testing.assert_array_equal(images, np.rint(raw * 255 / 16).astype(np.uint8))
    assert images.max() == 255


def test_describe_digits():
    info = data.describe("digits", split="test")
    assert info == {
        "num_examples": 360,
        "num_classes": 10,
        "class_names": [str(d) for d in range(10)],
        "channels": 1,
        "native_size": (8, 8),
    }


def test_drop_remainder_keeps_only_full_batches():
    dataset = data.load("digits", batch_size=100)  # 1437 train examples → 14 batches
    sizes = [int(batch.shape[0]) for batch in dataset]
    assert sizes == [100] * 14
    assert dataset.element_spec.shape[0] == 100


def test_seeded_shuffle_is_reproducible_and_reshuffles_each_epoch():
    def epochs(seed):
        dataset = data.load("digits", batch_size=64, labels=True, seed=seed)
        return [np.concatenate([labels for _, labels in dataset]) for _ in range(2)]

    first, second = epochs(7), epochs(7)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert not np.array_equal(first[0], first[1])
    assert not np.array_equal(first[0], epochs(8)[0])


def test_no_shuffle_keeps_split_order():
    _, labels = first_batch(data.load("digits", batch_size=50, labels=True, shuffle=False))
    np.testing.assert_array_equal(labels.numpy(), data.digits_arrays("train")[1][:50])


@pytest.mark.parametrize("image_size, expected", [(32, (32, 32)), ((16, 24), (16, 24))])
def test_image_size_resizes(image_size, expected):
    images = first_batch(data.load("digits", image_size=image_size, batch_size=8))
    assert images.shape == (8,) + expected + (1,)
    assert float(tf.reduce_min(images)) >= -1.0 and float(tf.reduce_max(images)) <= 1.0


def test_channels_conversion():
    rgb = first_batch(data.load("digits", channels=3, batch_size=4))
    assert rgb.shape == (4, 8, 8, 3)
    np.testing.assert_array_equal(rgb[..., 0], rgb[..., 2])
    gray = first_batch(data.load("photos", channels=1, batch_size=4))
    assert gray.shape == (4, 96, 96, 1)


def test_repeat_is_infinite():
    dataset = data.load("digits", batch_size=64, repeat=True)
    assert dataset.cardinality() == tf.data.INFINITE_CARDINALITY
    assert len(list(dataset.take(30))) == 30  # more than one epoch (22 batches)


# ---- other bundled datasets ----


@pytest.mark.parametrize("name", sorted(BUNDLED_SHAPES))
def test_bundled_image_datasets(name):
    images = first_batch(data.load(name, batch_size=16, seed=0))
    assert images.shape == (16,) + BUNDLED_SHAPES[name]
    assert float(tf.reduce_min(images)) >= -1.0 and float(tf.reduce_max(images)) <= 1.0
    info = data.describe(name)
    assert info["native_size"] == BUNDLED_SHAPES[name][:2]
    assert info["channels"] == BUNDLED_SHAPES[name][2]
    assert info["num_examples"] >= 16 and info["num_classes"] is None


def test_faces_are_the_face_half_of_lfw_subset():
    assert data.describe("faces")["num_examples"] == 100


def test_textures_tile_at_image_size():
    assert data.describe("textures/brick")["num_examples"] == 64  # (512 / 64) ** 2
    dataset = data.load("textures/brick", image_size=32, batch_size=256)
    assert [batch.shape for batch in dataset] == [(256, 32, 32, 1)]  # (512 / 32) ** 2


def test_photos_patch_larger_than_pictures_is_rejected():
    with pytest.raises(ValueError) as error:
        data.load("photos", image_size=2048)
    assert_one_line_naming(error, "'photos'", "image_size")


# ---- folders ----


def test_folder_with_class_subfolders_gives_sorted_labels(tmp_path):
    for index in range(3):
        write_png(tmp_path / "cat" / f"{index}.png", 0)
    for index in range(2):
        write_png(tmp_path / "dog" / f"{index}.jpg", 255)
    images, labels = first_batch(
        data.load(str(tmp_path), batch_size=5, labels=True, seed=0)
    )
    assert images.shape == (5, 6, 5, 1)
    means = images.numpy().mean(axis=(1, 2, 3))
    # Black images are the first class (cat → 0), white ones the second (dog → 1).
    np.testing.assert_allclose(means[labels.numpy() == 0], -1.0)
    np.testing.assert_allclose(means[labels.numpy() == 1], 1.0, atol=0.02)  # jpeg
    assert sorted(labels.numpy()) == [0, 0, 0, 1, 1]
    info = data.describe(tmp_path)
    assert info["class_names"] == ["cat", "dog"] and info["num_examples"] == 5


def test_flat_folder_has_no_labels(tmp_path):
    write_png(tmp_path / "a.png", (255, 0, 0), mode="RGB")
    write_png(tmp_path / "b.png", 128)
    images = first_batch(data.load(tmp_path, batch_size=2, shuffle=False))
    assert images.shape == (2, 6, 5, 3)  # one RGB image makes the folder RGB
    np.testing.assert_allclose(images[0, 0, 0], [1.0, -1.0, -1.0])
    with pytest.raises(ValueError) as error:
        data.load(tmp_path, batch_size=2, labels=True)
    assert_one_line_naming(error, str(tmp_path), "no labels")


def test_folder_of_different_sizes_needs_image_size(tmp_path):
    write_png(tmp_path / "small.png", 0, size=(6, 5))
    write_png(tmp_path / "large.png", 255, size=(12, 10))
    with pytest.raises(ValueError) as error:
        data.load(tmp_path, batch_size=2)
    assert_one_line_naming(error, str(tmp_path), "small.png", "image_size")
    images = first_batch(data.load(tmp_path, image_size=8, batch_size=2))
    assert images.shape == (2, 8, 8, 1)
    assert data.describe(tmp_path)["native_size"] is None


# ---- 16-bit and other pixel formats ----


def gradient_16_bit(height=16, width=64):
    """A horizontal ramp over the whole 16-bit range, one value per column."""
    ramp = np.rint(np.linspace(0, 65535, width)).astype(np.uint16)
    return np.tile(ramp, (height, 1))


def write_16_bit_png(path, values):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(values).save(path)  # uint16 → Pillow "I;16" → a 16-bit PNG
    with Image.open(path) as image:
        assert image.mode == "I;16"  # really 16 bits per pixel on disk


def write_16_bit_rgb_png(path, values):
    """A 16-bit RGB PNG (colour type 2), written by hand: Pillow cannot write one."""
    import struct
    import zlib

    height, width, _ = values.shape
    rows = b"".join(b"\x00" + values[y].astype(">u2").tobytes() for y in range(height))

    def chunk(kind, payload):
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def test_16_bit_png_folder_is_scaled_to_8_bits_not_clipped(tmp_path):
    values = gradient_16_bit()
    write_16_bit_png(str(tmp_path / "ramp.png"), values)
    write_16_bit_png(str(tmp_path / "ramp_copy.png"), values)
    images = first_batch(data.load(tmp_path, batch_size=2, shuffle=False)).numpy()
    assert images.shape == (2, 16, 64, 1)
    levels = np.rint((images[0, ..., 0] + 1.0) * 127.5)  # back to 8-bit levels
    expected = np.rint(values / 257.0)
    assert np.abs(levels - expected).max() <= 1
    assert (levels == 255).mean() < 0.05  # clipping put 99.6% of pixels at 255
    assert levels.min() == 0 and levels.max() == 255


def test_16_bit_and_8_bit_files_of_one_picture_load_alike(tmp_path):
    values = gradient_16_bit()
    write_16_bit_png(str(tmp_path / "deep.png"), values)
    Image.fromarray(np.rint(values / 257.0).astype(np.uint8)).save(tmp_path / "flat.png")
    deep, flat = first_batch(data.load(tmp_path, batch_size=2, shuffle=False)).numpy()
    np.testing.assert_allclose(deep, flat, atol=1.01 / 127.5)


def test_load_image_scales_16_bit_grayscale_formats(tmp_path):
    from ganzoo._imaging import load_image

    values = gradient_16_bit()
    png = tmp_path / "ramp.png"
    write_16_bit_png(str(png), values)
    pgm = tmp_path / "ramp.pgm"  # a 16-bit PGM opens in Pillow's 32-bit "I" mode
    pgm.write_bytes(b"P5\n64 16\n65535\n" + values.astype(">u2").tobytes())
    with Image.open(pgm) as image:
        assert image.mode == "I"
    for path in (png, pgm):
        for channels in (None, 1, 3):
            array = load_image(path, channels=channels)
            assert array.dtype == np.uint8
            assert array.shape == (16, 64, channels or 1)
            difference = np.abs(array.astype(int) - np.rint(values / 257.0)[..., None])
            assert difference.max() <= 1, (path.name, channels)


def test_load_image_16_bit_rgb_png_comes_back_8_bit(tmp_path):
    from ganzoo._imaging import load_image

    ramp = gradient_16_bit()
    values = np.stack([ramp, ramp[:, ::-1], 65535 - ramp], axis=-1)
    path = tmp_path / "rgb16.png"
    write_16_bit_rgb_png(path, values)
    array = load_image(path)
    assert array.dtype == np.uint8 and array.shape == (16, 64, 3)
    assert np.abs(array.astype(int) - np.rint(values / 257.0)).max() <= 1


def test_load_image_palette_and_bilevel_give_colours_not_indices(tmp_path):
    from ganzoo._imaging import load_image

    rgb = np.zeros((4, 6, 3), np.uint8)
    rgb[:, 3:] = (200, 30, 10)
    Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=2).save(
        tmp_path / "palette.png"
    )
    np.testing.assert_array_equal(load_image(tmp_path / "palette.png"), rgb)
    Image.fromarray(rgb[..., 0] > 0).save(tmp_path / "bilevel.png")  # mode "1"
    bilevel = load_image(tmp_path / "bilevel.png")
    assert bilevel.dtype == np.uint8 and set(np.unique(bilevel)) == {0, 255}


def test_load_image_refuses_float_pixels_in_one_line(tmp_path):
    from ganzoo._imaging import load_image

    path = tmp_path / "float.tif"
    Image.fromarray(np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)).save(path)
    with pytest.raises(ValueError) as error:
        load_image(path)
    assert_one_line_naming(error, str(path), "mode F", "8- or 16-bit")


# ---- NumPy arrays ----


def test_uint8_array_is_scaled_to_minus_one_one():
    array = np.zeros((10, 4, 4), np.uint8)
    array[5:] = 255
    images = np.concatenate(list(data.load(array, batch_size=5, shuffle=False)))
    assert images.shape == (10, 4, 4, 1)
    assert (images[:5] == -1.0).all() and (images[5:] == 1.0).all()


def test_float_array_with_labels_passes_values_through():
    array = np.random.default_rng(0).uniform(-1, 1, (12, 4, 4, 3)).astype(np.float64)
    labels = np.arange(12) % 3
    images, batch_labels = first_batch(
        data.load((array, labels), batch_size=12, labels=True, shuffle=False)
    )
    np.testing.assert_allclose(images.numpy(), array.astype(np.float32))
    np.testing.assert_array_equal(batch_labels.numpy(), labels)
    assert data.describe((array, labels))["num_classes"] == 3


def all_images(dataset):
    return np.concatenate([batch.numpy() for batch in dataset])


def ramp_images(low, high, dtype, count=4):
    """`count` 2x2 images whose values run evenly from `low` to `high`."""
    return np.linspace(low, high, count * 4).reshape(count, 2, 2).astype(dtype)


def test_float_array_in_zero_one_is_refused_naming_value_range():
    images = np.random.default_rng(0).uniform(0, 1, (8, 4, 4, 3)).astype(np.float32)
    with pytest.raises(ValueError) as error:
        data.load(images, batch_size=4)
    assert_one_line_naming(
        error, "NumPy array", "look like [0, 1] data", "[-1, 1] is expected",
        "value_range=(0, 1)",
    )


def test_float_array_outside_minus_one_one_names_both_ranges():
    with pytest.raises(ValueError) as error:
        data.load(ramp_images(0, 255, np.float32), batch_size=4)
    assert_one_line_naming(error, "NumPy array", "[0, 255]", "[-1, 1]", "value_range=")


@pytest.mark.parametrize(
    "value_range, low, high, dtype",
    [
        ((0, 1), 0.0, 1.0, np.float32),
        ((0, 1), 0.0, 1.0, np.float64),
        ((0, 255), 0.0, 255.0, np.float32),
        ((0, 255), 0, 255, np.uint8),
        ((0, 65535), 0, 65535, np.uint16),
        ((-5, 5), -5.0, 5.0, np.float32),
    ],
)
def test_value_range_rescales_linearly_to_minus_one_one(value_range, low, high, dtype):
    arrays = ramp_images(low, high, dtype)
    images = all_images(data.load(arrays, batch_size=4, shuffle=False, value_range=value_range))
    expected = (arrays.astype(np.float64) - low) / (high - low) * 2.0 - 1.0
    np.testing.assert_allclose(images[..., 0], expected, atol=1e-6)
    assert images.min() == -1.0 and images.max() == 1.0


def test_value_range_minus_one_one_accepts_zero_one_looking_floats():
    arrays = ramp_images(0.0, 0.5, np.float32)
    images = all_images(data.load(arrays, batch_size=4, shuffle=False, value_range=(-1, 1)))
    np.testing.assert_array_equal(images[..., 0], arrays)


@pytest.mark.parametrize(
    "arrays, value_range, expected",
    [
        (ramp_images(0, 2, np.float32), (0, 1), "[0, 2], outside value_range=(0, 1)"),
        (ramp_images(0, 300, np.uint16), (0, 255), "[0, 300], outside value_range=(0, 255)"),
        (np.full((4, 2, 2), np.nan, np.float32), None, "NaN or Inf"),
        (ramp_images(0, 1, np.float32), (1, 0), "low < high"),
        (ramp_images(0, 1, np.float32), "0-1", "Received: value_range='0-1'"),
        (ramp_images(0, 1000, np.int32), None, "value_range=(low, high)"),
    ],
)
def test_bad_array_values_are_refused_in_one_line(arrays, value_range, expected):
    with pytest.raises(ValueError) as error:
        data.load(arrays, batch_size=2, value_range=value_range)
    message = str(error.value)
    assert "\n" not in message and expected in message, message


def test_value_range_is_for_arrays_only():
    with pytest.raises(ValueError) as error:
        data.load("digits", value_range=(0, 1))
    assert_one_line_naming(error, "'digits'", "NumPy arrays only")


def test_array_channels_convert_between_gray_and_rgb():
    rgb = np.zeros((4, 3, 3, 3), np.uint8)
    rgb[..., 0] = 255  # pure red
    gray = all_images(data.load(rgb, channels=1, batch_size=4, shuffle=False))
    assert gray.shape == (4, 3, 3, 1)
    np.testing.assert_allclose(gray, 0.2989 * 2 - 1, atol=0.01)  # red's luma, in [-1, 1]
    levels = np.arange(4 * 9, dtype=np.uint8).reshape(4, 3, 3)
    colour = all_images(data.load(levels, channels=3, batch_size=4, shuffle=False))
    assert colour.shape == (4, 3, 3, 3)
    np.testing.assert_array_equal(colour[..., 0], colour[..., 2])


@pytest.mark.parametrize(
    "shape, channels, expected",
    [
        ((4, 5, 5, 4), None, "has 4 channels; expected 1 (grayscale) or 3 (RGB)"),
        ((4, 5, 5, 4), 3, "drop it"),
        ((4, 3, 8, 8), None, "channels first?"),
        ((4, 5, 5, 2), 1, "has 2 channels"),
    ],
)
def test_array_with_wrong_channel_count_is_one_line(shape, channels, expected):
    with pytest.raises(ValueError) as error:
        data.load(np.zeros(shape, np.uint8), channels=channels, batch_size=2)
    assert_one_line_naming(error, f"NumPy array (shape={shape}", expected)


# ---- errors ----

BAD_ARRAY_CASES = [
    (np.full((4, 4, 4), 3.0, np.float32), "[-1, 1]"),
    (np.zeros((4, 4, 4, 2), np.uint8), "2 channels"),
    (np.zeros((4, 4, 4), np.int32), "uint8"),
    ((np.zeros((4, 4, 4), np.uint8), np.zeros(3, np.int64)), "labels"),
]


@pytest.mark.parametrize("arrays, expected", BAD_ARRAY_CASES)
def test_bad_arrays_are_rejected(arrays, expected):
    with pytest.raises(ValueError) as error:
        data.load(arrays, batch_size=2)
    assert_one_line_naming(error, "NumPy array", expected)


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        (dict(data="no_such_dataset_xyz"), "is not a bundled dataset"),
        (dict(data="digits", channels=2), "channels"),
        (dict(data="digits", batch_size=5000), "batch_size=5000"),
        (dict(data="digits", split="validation"), "unknown split 'validation'"),
        (dict(data="faces", labels=True), "no labels"),
        (dict(data="./does/not/exist"), "no such folder"),
    ],
)
def test_bad_data_raises_one_line_naming_it(kwargs, expected):
    with pytest.raises(ValueError) as error:
        data.load(**kwargs)
    assert_one_line_naming(error, repr(kwargs["data"]), expected)


def test_empty_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(ValueError) as error:
        data.load(tmp_path)
    assert_one_line_naming(error, str(tmp_path), "contains no images (.png, .jpg")


def test_unreadable_image_is_named(tmp_path):
    write_png(tmp_path / "good.png", 0)
    (tmp_path / "broken.png").write_bytes(b"definitely not a png")
    with pytest.raises(ValueError) as error:
        data.load(tmp_path, batch_size=1)
    assert_one_line_naming(error, str(tmp_path), "broken.png")


def test_folder_mixing_images_and_class_folders(tmp_path):
    write_png(tmp_path / "loose.png", 0)
    write_png(tmp_path / "cls" / "a.png", 0)
    with pytest.raises(ValueError) as error:
        data.load(tmp_path, batch_size=1)
    assert_one_line_naming(error, str(tmp_path), "loose.png")


def test_wrong_data_type():
    with pytest.raises(ValueError, match="expected a bundled dataset name"):
        data.load(42)


# ---- TensorFlow Datasets (mocked, offline) ----


@pytest.fixture
def mock_tfds():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=20):
        yield


def test_tfds_mnist_with_labels(mock_tfds):
    images, labels = first_batch(data.load("mnist", batch_size=8, labels=True, seed=0))
    assert images.shape == (8, 28, 28, 1) and images.dtype == tf.float32
    assert labels.shape == (8,) and labels.dtype == tf.int32
    assert float(tf.reduce_min(images)) >= -1.0 and float(tf.reduce_max(images)) <= 1.0
    assert data.describe("mnist")["num_classes"] == 10


def test_tfds_without_labels_and_resized(mock_tfds):
    images = first_batch(data.load("mnist", image_size=16, channels=3, batch_size=4))
    assert images.shape == (4, 16, 16, 3)


def test_tfds_div2k_uses_hr_and_cycle_gan_passes_split(mock_tfds):
    hr = first_batch(data.load("div2k/bicubic_x4", image_size=24, batch_size=4))
    assert hr.shape == (4, 24, 24, 3)
    horses = first_batch(data.load("cycle_gan/horse2zebra", split="trainA", image_size=16,
                                   batch_size=4))
    assert horses.shape == (4, 16, 16, 3)


def test_tfds_errors(mock_tfds):
    with pytest.raises(ValueError) as error:
        data.load("celeb_a", labels=True, batch_size=4)
    assert_one_line_naming(error, "'celeb_a'", "no 'label' feature")
    with pytest.raises(ValueError) as error:
        data.load("div2k/bicubic_x4", batch_size=4)  # images vary in size
    assert_one_line_naming(error, "'div2k/bicubic_x4'", "image_size")
    with pytest.raises(ValueError) as error:
        data.load("mnist", batch_size=64)
    assert_one_line_naming(error, "'mnist'", "batch_size=64")


def test_unknown_tfds_name():
    with pytest.raises(ValueError) as error:
        data.load("not_a_real_tfds_dataset/config")
    assert_one_line_naming(
        error, "'not_a_real_tfds_dataset/config'", "TensorFlow Datasets name", "digits"
    )


@pytest.fixture
def offline_empty_tfds_dir(tmp_path, monkeypatch):
    """An empty TFDS_DATA_DIR, a network check that fails at once, and no download."""
    import tensorflow_datasets as tfds

    from ganzoo.data import tfds_source

    def no_download(self, *args, **kwargs):
        raise AssertionError("download_and_prepare must not run offline")

    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
    for proxy in ("http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)
        monkeypatch.delenv(proxy.upper(), raising=False)
    # Port 9 (discard) on loopback refuses at once: the real check runs, offline.
    monkeypatch.setattr(tfds_source, "NETWORK_PROBE_URL", "http://127.0.0.1:9/")
    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", no_download)
    return tmp_path


@pytest.mark.parametrize("call", [data.describe, data.load])
def test_tfds_not_prepared_offline_is_one_clear_error(offline_empty_tfds_dir, call):
    import time

    started = time.monotonic()
    with pytest.raises(ValueError) as error:
        call("cifar10")
    assert time.monotonic() - started < 10
    assert_one_line_naming(
        error, "'cifar10'", "not available offline", str(offline_empty_tfds_dir),
        "tfds build cifar10", "TFDS_DATA_DIR",
    )
    assert os.listdir(offline_empty_tfds_dir) == []  # nothing half-downloaded


def test_network_check_returns_in_time_when_name_resolution_hangs(monkeypatch):
    import socket
    import time

    from ganzoo.data import tfds_source

    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: time.sleep(30))
    started = time.monotonic()
    assert tfds_source.network_reachable("http://example.invalid/", timeout=0.5) is False
    assert time.monotonic() - started < 3


def test_offline_error_is_the_shared_one():
    from ganzoo.data import tfds_source

    error = tfds_source.not_available_offline_error("mnist", "/data/tfds")
    assert isinstance(error, ValueError)
    message = str(error)
    assert message.startswith("Data source 'mnist': not available offline")
    assert "/data/tfds" in message and "\n" not in message


def test_import_does_not_load_tensorflow_datasets():
    code = (
        "import sys, ganzoo.data; "
        "assert 'tensorflow_datasets' not in sys.modules, 'tfds imported'"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
