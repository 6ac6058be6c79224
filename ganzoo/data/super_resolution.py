"""Paired super-resolution data: batches `(low_res, high_res)` of random crops.

`load_super_resolution(data, scale, patch_size, ...)` is what SRGAN trains on: each batch
holds `batch_size` high-resolution crops of `patch_size` x `patch_size` pixels and the same
crops at `1 / scale` of the size. As in Ledig et al. 2017 the low-resolution images are
made by bicubic downscaling with antialiasing (`bicubic_downscale`:
`tf.image.resize(..., "bicubic", antialias=True)`), rounded to 8-bit levels so the model
trains on what it will be given: 8-bit pictures.

Data:

- `"photos"`: the bundled colour photographs (`ganzoo.data.bundled.photo_pictures`);
  `split="train"` holds five of them, `"test"` the two held out (`chelsea`, `coffee`);
- a folder of images (any sizes; images smaller than a crop are skipped), or NumPy
  images (N, H, W[, C]), uint8 or floats in [-1, 1];
- `div2k/*` TensorFlow Datasets names, which carry their own low-resolution images
  (`lr`, made by the DIV2K authors for that track: bicubic, or unknown degradations):
  those are used, cropped in step with the `hr` images; the name's factor (`_x4`) must be
  `scale`;
- any other TensorFlow Datasets name with an image feature: crops of its images.

Crops are taken anew each epoch at random places, flipped left-right, upside down and
transposed with probability 1/2 each (`augment=True`, the default): the eight symmetries
of a square, all plausible photographs. An epoch of in-memory pictures (photos, folders,
arrays) is as many crops as the pictures hold non-overlapping `patch_size` tiles, each
picture chosen in proportion to that count; an epoch of a TFDS dataset is one crop per
image.

`picture_tiles(data, tile_size)` gives what super-resolution is measured on in pictures
(`ganzoo evaluate` of an upscaler on a folder): their non-overlapping tiles at full
resolution.

Example:

```python
data = ganzoo.data.load_super_resolution("photos", scale=4, patch_size=96, batch_size=16,
                                         seed=0)
low_res, high_res = next(iter(data))  # (16, 24, 24, 3) and (16, 96, 96, 3) in [-1, 1]
```
"""

import os
import re

import numpy as np

from ganzoo import _imaging

from ganzoo.data import arrays as _arrays
from ganzoo.data import bundled as _bundled
from ganzoo.data import folders as _folders
from ganzoo.data import loading
from ganzoo.data import tfds_source as _tfds
from ganzoo.data._common import data_error, tile

_DIV2K_SCALE = re.compile(r"_x(\d+)$")


def bicubic_downscale(images, scale):
    """Float images in [-1, 1] (B, H, W, C) -> (B, H // scale, W // scale, C).

    Bicubic resizing with antialiasing (a bicubic kernel widened by `scale`, as MATLAB's
    `imresize` that SRGAN's authors used), clipped to [-1, 1] and rounded to the 256 levels
    of 8-bit images.
    """
    import tensorflow as tf

    images = tf.convert_to_tensor(images, tf.float32)
    size = tf.shape(images)[1:3] // scale
    low = tf.image.resize(images, size, method="bicubic", antialias=True)
    levels = tf.round((tf.clip_by_value(low, -1.0, 1.0) + 1.0) * 127.5)
    return levels / 127.5 - 1.0


def bicubic_upscale(images, scale):
    """uint8 images (H, W, C) or (N, H, W, C) enlarged `scale` times by bicubic
    interpolation: the baseline super-resolution is compared with."""
    import tensorflow as tf

    array = np.asarray(images)
    if array.dtype != np.uint8 or array.ndim not in (3, 4):
        raise ValueError(
            "bicubic_upscale() takes uint8 images (H, W, C) or (N, H, W, C). "
            f"Received: dtype={array.dtype}, shape={array.shape}"
        )
    single = array.ndim == 3
    batch = array[None] if single else array
    height, width = batch.shape[1:3]
    resized = tf.image.resize(tf.cast(batch, tf.float32), (height * scale, width * scale),
                              method="bicubic")
    result = np.clip(np.rint(resized.numpy()), 0, 255).astype(np.uint8)
    return result[0] if single else result


def load_super_resolution(data, scale=4, patch_size=96, *, batch_size=16, seed=None,
                          repeat=False, split="train", channels=None, shuffle=True,
                          augment=True):
    """Batches `(low_res, high_res)` of random crops, scaled to [-1, 1].

    Args:
        data: str, path or array. `"photos"`, a folder of images, NumPy images, a
            `div2k/*` or another TensorFlow Datasets name (see the module docstring).
        scale: int. How much smaller the low-resolution crops are, at least 2.
            Defaults to 4.
        patch_size: int. Side of the high-resolution crops, a multiple of `scale`.
            Defaults to 96 as in the paper.
        batch_size: int. Crops per batch; incomplete last batches are dropped.
            Defaults to 16 as in the paper.
        seed: int or None. Seeds the order, the crops and the flips.
        repeat: bool. Repeat forever, for step-based training. Defaults to False.
        split: str. `"train"`, `"test"` or `"all"` for `photos`, any split of a TFDS
            dataset (DIV2K: `"train"`, `"validation"`), `"train"` or `"all"` for folders
            and arrays. Defaults to `"train"`.
        channels: 1, 3 or None. Convert the images to grayscale or RGB; None keeps their
            own (RGB when any image of a folder is RGB).
        shuffle: bool. Shuffle the crops' order, anew each epoch. Defaults to True.
        augment: bool. Random flips and transposition. Defaults to True.

    Returns:
        A `tf.data.Dataset` of `(low_res, high_res)` float32 NHWC batches in [-1, 1],
        shaped (B, patch_size / scale, patch_size / scale, C) and
        (B, patch_size, patch_size, C).

    Raises:
        ValueError: one line naming the data, for the errors of `ganzoo.data.load`, a
            bad scale or patch size, a `div2k` name of another factor, pictures smaller
            than a crop, or fewer crops per epoch than `batch_size`.
    """
    import tensorflow as tf

    scale, patch_size = _check_sizes(data, scale, patch_size)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise data_error(data, f"batch_size must be a positive int; received {batch_size!r}")
    if channels not in (None, 1, 3):
        raise data_error(data, f"channels must be 1, 3 or None; received {channels!r}")
    if _is_tfds(data):
        crops, count = _tfds_crops(tf, data, split, scale, patch_size, channels, seed,
                                   shuffle, augment)
    else:
        crops, count = _picture_crops(tf, data, split, scale, patch_size, channels, seed,
                                      shuffle, augment)
    if count is not None and count < batch_size:
        raise data_error(
            data,
            f"gives {count} crops of {patch_size}x{patch_size} per epoch, fewer than "
            f"batch_size={batch_size} (incomplete batches are dropped); use a smaller "
            f"batch_size or patch_size",
        )
    if repeat:
        crops = crops.repeat()
    batches = crops.batch(batch_size, drop_remainder=True)
    return batches.map(_to_pairs(tf, scale), num_parallel_calls=tf.data.AUTOTUNE) \
        .prefetch(tf.data.AUTOTUNE)


def is_folder_or_arrays(data):
    """Whether `data` is a folder of images or NumPy images (not `photos`, not a TensorFlow
    Datasets name): pictures of any size that `picture_tiles` cuts for measuring."""
    return not _bundled.is_bundled(data) and not _is_tfds(data)


def picture_tiles(data, tile_size=None, split="train", channels=None):
    """The non-overlapping `tile_size` tiles of in-memory pictures, at full resolution.

    What super-resolution is measured on (`ganzoo evaluate` of an upscaler on a folder or
    NumPy images): each picture is cut on a grid centred in it, as the bundled `photos`
    are (`ganzoo.data.load("photos", image_size=...)`), and never resized, since resizing
    would change the very detail an upscaler must restore. Pictures smaller than a tile
    give none.

    Args:
        data: `"photos"`, a folder of images (any sizes) or NumPy images, as in
            `load_super_resolution`.
        tile_size: int, (height, width) or None. Side(s) of the tiles. None: the whole
            pictures when they all have one size, else the 96x96 tiles of `photos`.
            Defaults to None.
        split: str. As in `load_super_resolution`. Defaults to `"train"`.
        channels: 1, 3 or None. As in `load_super_resolution`.

    Returns:
        uint8 tiles (N, height, width, C), picture by picture (sorted file names for a
        folder), row by row.

    Raises:
        ValueError: one line naming the data, for the errors of `ganzoo.data.load` or no
            picture at least one tile large.
    """
    pictures = _pictures(data, split, channels)
    if tile_size is None:
        sizes = {p.shape[:2] for p in pictures}
        tile_size = sizes.pop() if len(sizes) == 1 else _bundled.PHOTO_PATCH
    if isinstance(tile_size, (int, np.integer)) and not isinstance(tile_size, bool):
        tile_size = (int(tile_size), int(tile_size))
    height, width = tile_size
    pictures = [p for p in pictures if p.shape[0] >= height and p.shape[1] >= width]
    if not pictures:
        raise data_error(
            data,
            f"has no picture of at least {height}x{width} pixels to cut into tiles; use a "
            "smaller tile size (--image-size on the command line)",
        )
    return np.concatenate([tile(picture, (height, width)) for picture in pictures])


def describe_super_resolution(data, scale=4, patch_size=96, split="train"):
    """Crops per epoch and channels of `load_super_resolution(data, ...)`, cheaply.

    Returns:
        A dict: `num_examples` (crops per epoch, None when unknown) and `channels`.
    """
    scale, patch_size = _check_sizes(data, scale, patch_size)
    if _is_tfds(data):
        description = loading.describe(data, split)
        return {"num_examples": description["num_examples"],
                "channels": description["channels"] or 3}
    pictures = _croppable(data, _pictures(data, split, None), patch_size)
    return {"num_examples": int(sum(_tiles(p, patch_size) for p in pictures)),
            "channels": 3 if any(p.shape[-1] == 3 for p in pictures) else 1}


# -- data -------------------------------------------------------------------------------


def _check_sizes(data, scale, patch_size):
    for name, value in (("scale", scale), ("patch_size", patch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise data_error(data, f"{name} must be an int; received {name}={value!r}")
    if scale < 2:
        raise data_error(data, f"scale must be at least 2; received scale={scale}")
    if patch_size < scale or patch_size % scale:
        raise data_error(
            data,
            f"patch_size must be a multiple of scale={scale}; received patch_size={patch_size}",
        )
    return int(scale), int(patch_size)


def _is_tfds(data):
    if not isinstance(data, str) or _bundled.is_bundled(data) or os.path.exists(data):
        return False
    return _tfds.looks_like_tfds_name(data)


def _pictures(data, split, channels):
    """uint8 (H, W, C) pictures of bundled photos, a folder or NumPy images."""
    if _bundled.is_bundled(data):
        if data != "photos":
            raise data_error(
                data,
                "is not a dataset of photographs; super-resolution trains on `photos`, a "
                "folder of images, NumPy images or a TensorFlow Datasets name such as "
                "div2k/bicubic_x4",
            )
        pictures = list(_bundled.photo_pictures(split))
    elif _arrays.is_array_data(data):
        if split not in ("train", "all"):
            raise data_error(data, f"unknown split {split!r}; expected 'train' or 'all'")
        images = _arrays.load_arrays(data).images
        if images.dtype != np.uint8:
            images = np.clip(np.rint((images + 1.0) * 127.5), 0, 255).astype(np.uint8)
        pictures = list(images)
    else:
        if split not in ("train", "all"):
            raise data_error(data, f"unknown split {split!r}; expected 'train' or 'all'")
        paths, _, _ = _folders.scan(data)
        pictures = [_folders._decode(data, path, channels) for path in paths]
    converted = []
    for picture in pictures:
        picture = np.asarray(picture)
        if picture.ndim == 2:
            picture = picture[..., None]
        converted.append(picture)
    if channels is None:
        channels = 3 if any(p.shape[-1] == 3 for p in converted) else 1
    # convert_channels works on batches: add and drop a batch axis.
    return [_imaging.convert_channels(p[None], channels)[0] for p in converted]


def _croppable(data, pictures, patch_size):
    """The pictures at least `patch_size` on each side; one line when there is none."""
    pictures = [p for p in pictures if min(p.shape[:2]) >= patch_size]
    if not pictures:
        raise data_error(
            data,
            f"has no picture of at least {patch_size}x{patch_size} pixels to crop; use a "
            "smaller patch_size (--image-size on the command line)",
        )
    return pictures


def _tiles(picture, patch_size):
    return (picture.shape[0] // patch_size) * (picture.shape[1] // patch_size)


def _picture_crops(tf, data, split, scale, patch_size, channels, seed, shuffle, augment):
    """Unbatched uint8 high-res crops of in-memory pictures, and how many per epoch."""
    pictures = _croppable(data, _pictures(data, split, channels), patch_size)
    tiles = np.array([_tiles(p, patch_size) for p in pictures])
    height = max(p.shape[0] for p in pictures)
    width = max(p.shape[1] for p in pictures)
    depth = pictures[0].shape[-1]
    stack = np.zeros((len(pictures), height, width, depth), np.uint8)
    for index, picture in enumerate(pictures):
        stack[index, :picture.shape[0], :picture.shape[1]] = picture
    sizes = tf.constant([p.shape[:2] for p in pictures], tf.int32)
    stack = tf.constant(stack)
    # Each picture as often as it holds non-overlapping tiles: larger pictures give more.
    order = tf.data.Dataset.from_tensor_slices(
        np.repeat(np.arange(len(pictures)), tiles).astype(np.int32))
    count = int(tiles.sum())
    if shuffle:
        order = order.shuffle(count, seed=seed, reshuffle_each_iteration=True)

    def crop(index, crop_seed):
        size = sizes[index]
        top = tf.random.stateless_uniform([], crop_seed, 0, size[0] - patch_size + 1, tf.int32)
        left = tf.random.stateless_uniform([], crop_seed + tf.constant([0, 1], tf.int64), 0,
                                           size[1] - patch_size + 1, tf.int32)
        image = tf.slice(stack, [index, top, left, 0], [1, patch_size, patch_size, depth])[0]
        return _augmented(tf, image, crop_seed) if augment else image

    return _with_seeds(tf, order, seed).map(crop, num_parallel_calls=tf.data.AUTOTUNE), count


def _tfds_crops(tf, data, split, scale, patch_size, channels, seed, shuffle, augment):
    """Unbatched crops of a TFDS dataset: high-res uint8 crops, or (low, high) pairs for
    datasets with their own low-res images (DIV2K)."""
    import tensorflow_datasets as tfds

    builder = _tfds.prepared_builder(data, loading._unknown_message())
    features = builder.info.features
    paired = "lr" in features and "hr" in features
    if paired:
        match = _DIV2K_SCALE.search(data.split(":")[0])
        if match and int(match.group(1)) != scale:
            raise data_error(
                data,
                f"holds low-resolution images downscaled x{match.group(1)}; train with "
                f"scale={match.group(1)} or use div2k/bicubic_x{scale}",
            )
    try:
        dataset = builder.as_dataset(split=split, shuffle_files=shuffle,
                                     read_config=tfds.ReadConfig(shuffle_seed=seed))
    except Exception as error:  # a bad split, damaged files: one clear line
        raise data_error(data, f"TensorFlow Datasets could not read split {split!r} "
                               f"({str(error).splitlines()[0]})") from None
    cardinality = int(dataset.cardinality())
    count = cardinality if cardinality >= 0 else None
    if shuffle and count:
        dataset = dataset.shuffle(min(count, 1000), seed=seed, reshuffle_each_iteration=True)
    low_size = patch_size // scale

    def fix_channels(image):
        if channels is None or image.shape[-1] == channels:
            return image
        if channels == 3:
            return tf.image.grayscale_to_rgb(image)
        return tf.cast(tf.round(tf.image.rgb_to_grayscale(tf.cast(image, tf.float32))), tf.uint8)

    if paired:
        def crop(example, crop_seed):
            low, high = fix_channels(example["lr"]), fix_channels(example["hr"])
            # Places where both crops fit (DIV2K's sizes are exact multiples; be safe).
            size = tf.minimum(tf.shape(low)[:2] - low_size,
                              (tf.shape(high)[:2] - patch_size) // scale) + 1
            top = tf.random.stateless_uniform([], crop_seed, 0, size[0], tf.int32)
            left = tf.random.stateless_uniform([], crop_seed + tf.constant([0, 1], tf.int64),
                                               0, size[1], tf.int32)
            low = low[top:top + low_size, left:left + low_size]
            high = high[top * scale:top * scale + patch_size,
                        left * scale:left * scale + patch_size]
            if augment:
                low, high = _augmented(tf, low, crop_seed), _augmented(tf, high, crop_seed)
            return low, high

        def big_enough(example):
            return tf.logical_and(tf.reduce_all(tf.shape(example["lr"])[:2] >= low_size),
                                  tf.reduce_all(tf.shape(example["hr"])[:2] >= patch_size))
    else:
        image_key = _tfds._image_feature(data, dataset.element_spec)

        def crop(example, crop_seed):
            image = fix_channels(example[image_key])
            image = tf.image.stateless_random_crop(
                image, [patch_size, patch_size, tf.shape(image)[-1]], crop_seed)
            return _augmented(tf, image, crop_seed) if augment else image

        def big_enough(example):
            return tf.reduce_all(tf.shape(example[image_key])[:2] >= patch_size)

    dataset = dataset.filter(big_enough)
    return _with_seeds(tf, dataset, seed).map(crop, num_parallel_calls=tf.data.AUTOTUNE), count


# -- pieces -----------------------------------------------------------------------------


def _with_seeds(tf, dataset, seed):
    """(element, [2] int64 stateless seed) pairs, new seeds each epoch."""
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
    return tf.data.Dataset.zip((dataset, seeds))


def _augmented(tf, image, seed):
    """One of the eight symmetries of the square, chosen by `seed`."""
    flips = tf.random.stateless_uniform([3], seed + tf.constant([1, 0], tf.int64)) < 0.5
    image = tf.cond(flips[0], lambda: tf.reverse(image, [1]), lambda: image)
    image = tf.cond(flips[1], lambda: tf.reverse(image, [0]), lambda: image)
    return tf.cond(flips[2], lambda: tf.transpose(image, [1, 0, 2]), lambda: image)


def _to_pairs(tf, scale):
    def to_pairs(*batch):
        if len(batch) == 2:  # the dataset's own low-res crops (DIV2K)
            low, high = (tf.cast(x, tf.float32) / 127.5 - 1.0 for x in batch)
            return low, high
        high = tf.cast(batch[0], tf.float32) / 127.5 - 1.0
        return bicubic_downscale(high, scale), high

    return to_pairs
