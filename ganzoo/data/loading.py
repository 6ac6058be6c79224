"""`load` and `describe`: one entry point for every kind of image data.

The package `ganzoo.data` exports them; `unpaired` and `super_resolution` build on them.
"""

import os

import numpy as np

from ganzoo.data import arrays as _arrays
from ganzoo.data import bundled as _bundled
from ganzoo.data import folders as _folders
from ganzoo.data import tfds_source as _tfds
from ganzoo.data._common import VALID_CHANNELS, data_error, normalize_image_size
from ganzoo.data.bundled import BUNDLED_NAMES

# Kinds of data `load` accepts, for help texts.
SOURCES = {
    "bundled": BUNDLED_NAMES,
    "tfds": "a TensorFlow Datasets name, e.g. 'mnist' or 'cycle_gan/horse2zebra'",
    "folder": "a path to a folder of images (flat, or one sub-folder per class)",
    "numpy": "an image array (N, H, W[, C]) or an (images, labels) tuple",
}
# Arrays and folders have no held-out part: these split names all mean every example.
_WHOLE_SPLITS = ("train", "all")


def load(
    data,
    image_size=None,
    batch_size=64,
    split="train",
    labels=False,
    channels=None,
    shuffle=True,
    seed=None,
    cache=True,
    repeat=False,
    value_range=None,
):
    """Load a dataset of images scaled to [-1, 1], ready for `fit`.

    The pipeline scales to [-1, 1], converts channels, resizes (bilinear, antialiased),
    caches in memory when the preprocessed images fit in 2 GiB and their number is known,
    shuffles, optionally repeats, batches with `drop_remainder=True` and prefetches.

    Value ranges: image files (8-bit, or 16-bit PNGs scaled to 8 bits), bundled and TFDS
    data are scaled from [0, 255]. NumPy arrays: uint8 is taken as [0, 255]; float arrays
    must already lie in [-1, 1] (values outside it are refused, and so are float arrays
    whose values all lie in [0, 1], not all equal: they look like [0, 1] data);
    `value_range` names any other range, rescaled linearly to [-1, 1].

    Args:
        data: str, path or NumPy array(s). A bundled name (`BUNDLED_NAMES`), a
            TensorFlow Datasets name, a folder of images, an image array, or an
            `(images, labels)` tuple of arrays.
        image_size: int, (height, width) or None. Size of the yielded images; None keeps
            the native size. For `textures/*` and `photos` it is the size of the patches
            the pictures are tiled into. Defaults to None.
        batch_size: int. Images per batch; incomplete last batches are dropped.
            Defaults to 64.
        split: str. `"train"`, `"test"`, `"all"` for bundled data (see
            `ganzoo.data.bundled`), any TFDS split for TFDS names, `"train"` or `"all"`
            (the same) for folders and arrays. Defaults to `"train"`.
        labels: bool. Yield `(images, labels)` pairs with int32 labels of shape (B,).
            Defaults to False.
        channels: 1, 3 or None. Convert to grayscale or RGB; None keeps the native
            channels. Defaults to None.
        shuffle: bool. Shuffle the examples, anew each epoch. Defaults to True.
        seed: int or None. Seed that makes the shuffle order reproducible. Defaults to None.
        cache: bool. Cache preprocessed images in memory (when they fit). Defaults to True.
        repeat: bool. Repeat forever, for step-based training. Defaults to False.
        value_range: (low, high) or None. NumPy arrays only: the range their values lie
            in, e.g. `(0, 1)` for float images in [0, 1], `(0, 255)`, or `(0, 65535)`
            for uint16 images; they are rescaled linearly to [-1, 1] and values outside
            it are refused. `(-1, 1)` accepts float images that happen to lie in
            [0, 1]. None: uint8 as [0, 255], floats as [-1, 1]. Defaults to None.

    Returns:
        A `tf.data.Dataset` of float32 NHWC image batches, or `(images, labels)` pairs.

    Raises:
        ValueError: with one line naming the data, for an unknown name, a TFDS
            dataset that is not prepared while offline, a missing or empty folder, an
            unreadable image, a wrong channel count (not 1 or 3), array values outside
            the expected range, an unknown split, missing labels, or fewer examples than
            `batch_size`.

    Examples:

    ```python
    images = np.random.default_rng(0).uniform(0, 1, (256, 32, 32, 3))
    data = ganzoo.data.load(images, value_range=(0, 1), batch_size=64)
    ```
    """
    # Lazy: the tf.data pipeline imports TensorFlow; describe() and the checks run without it.
    from ganzoo.data import _pipeline

    image_size = normalize_image_size(image_size)
    _check_options(data, batch_size, channels)
    value_range = _arrays.check_value_range(value_range)
    options = dict(
        image_size=image_size,
        channels=channels,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        cache=cache,
        repeat=repeat,
    )
    kind = _kind_of(data)
    if value_range is not None and kind != "numpy":
        raise data_error(
            data,
            f"value_range applies to NumPy arrays only (image files and datasets are "
            f"scaled from [0, 255]); received value_range={value_range!r}",
        )
    if kind == "tfds":
        elements, num_examples = _tfds.load_elements(
            data, split, labels, shuffle, seed, _unknown_message()
        )
        return _pipeline.finish(
            data, elements, num_examples=num_examples, in_memory=False, **options
        )
    if kind == "bundled":
        arrays = _bundled.load_arrays(data, split, image_size)
    elif kind == "numpy":
        _check_whole_split(data, split)
        arrays = _arrays.load_arrays(data, value_range)
    else:
        _check_whole_split(data, split)
        arrays = _folders.load_arrays(data, image_size, channels)
    return _pipeline.from_arrays(data, arrays, labels, **options)


def describe(data, split="train"):
    """Cheap metadata about `data`, without building a dataset.

    Args:
        data: anything `load` accepts.
        split: str. As in `load`. Defaults to `"train"`.

    Returns:
        A dict: `num_examples` (int),
        `num_classes` (int or None), `class_names` (list of str or None), `channels`
        (native, 1 or 3), `native_size` ((height, width), or None when images vary in
        size). Bundled textures and photos report their default patch size.

    A TFDS dataset that is not prepared yet is downloaded and prepared first; offline it
    raises the `ValueError` of `ganzoo.data.tfds_source.not_available_offline_error`.
    """
    kind = _kind_of(data)
    if kind == "tfds":
        return _tfds.describe(data, split, _unknown_message())
    if kind == "bundled":
        return _bundled.describe(data, split)
    _check_whole_split(data, split)
    if kind == "numpy":
        return _arrays.describe(data)
    return _folders.describe(data)


def _kind_of(data):
    """Which kind of data this is: bundled, numpy, folder or tfds."""
    if _bundled.is_bundled(data):
        return "bundled"
    if _arrays.is_array_data(data):
        return "numpy"
    if isinstance(data, os.PathLike) or (isinstance(data, str) and os.path.exists(data)):
        return "folder"
    if _tfds.looks_like_tfds_name(data):
        return "tfds"
    if isinstance(data, str):
        # Not a name and not an existing path: the folder loader says so clearly.
        return "folder"
    raise ValueError(
        f"Data source of type {type(data).__name__}: expected a bundled dataset name "
        f"({', '.join(BUNDLED_NAMES)}), a TensorFlow Datasets name, a folder path, an "
        f"image array or an (images, labels) tuple of arrays"
    )


def _unknown_message():
    return (
        f"is not a bundled dataset ({', '.join(BUNDLED_NAMES)}), a TensorFlow Datasets "
        f"name or an existing folder of images"
    )


def _check_options(data, batch_size, channels):
    if channels is not None and channels not in VALID_CHANNELS:
        raise data_error(
            data, f"channels must be 1 (grayscale), 3 (RGB) or None; received {channels!r}"
        )
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or batch_size < 1
    ):
        raise data_error(
            data, f"batch_size must be a positive int; received {batch_size!r}"
        )


def _check_whole_split(data, split):
    if split not in _WHOLE_SPLITS:
        raise data_error(
            data,
            f"unknown split {split!r}; folders and arrays have no held-out part, expected "
            f"one of {list(_WHOLE_SPLITS)}",
        )
