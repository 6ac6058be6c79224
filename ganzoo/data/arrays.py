"""NumPy arrays as training data: `images` or `(images, labels)`.

Images are shaped (N, H, W) or (N, H, W, C) with C = 1 or 3, channels last. Their values:

- uint8 images are taken as [0, 255];
- float images must already lie in [-1, 1]. Values outside it are refused, and so are
  float images whose values all lie in [0, 1], not all equal (they look like [0, 1]
  data, which would silently train on the upper half of the range);
- `value_range=(low, high)` says what range the images are in (any integer or float
  dtype): they are rescaled linearly to [-1, 1], and values outside it are refused.
  `value_range=(-1, 1)` accepts float images that happen to lie in [0, 1].

Labels are integers >= 0, shaped (N,).
"""

import numpy as np

from ganzoo.data._common import VALID_CHANNELS, ImageArrays, data_error


def is_array_data(data):
    """Whether `data` is an array or an `(images, labels)` pair of arrays."""
    if isinstance(data, np.ndarray):
        return True
    return (
        isinstance(data, tuple)
        and len(data) == 2
        and isinstance(data[0], np.ndarray)
    )


def load_arrays(data, value_range=None):
    """Validate NumPy images (and labels) and wrap them as an `ImageArrays`.

    Args:
        data: an image array, or an `(images, labels)` tuple.
        value_range: (low, high) or None. The range the images are in, rescaled linearly
            to [-1, 1]; None takes uint8 as [0, 255] and floats as [-1, 1] (see the
            module docstring). Defaults to None.

    Returns:
        An `ImageArrays` holding the arrays (uint8 kept as they are, not copied).
    """
    images, labels = _split(data)
    images = _scale(data, _check_shape(data, images), value_range)
    if labels is not None:
        labels = _check_labels(data, labels, len(images))
    return ImageArrays(images, labels)


def describe(data):
    """Metadata of NumPy arrays from their shapes (see `ganzoo.data.describe`)."""
    images, labels = _split(data)
    images = _check_shape(data, images)
    if labels is not None:
        labels = _check_labels(data, labels, len(images))
    return {
        "num_examples": len(images),
        "num_classes": ImageArrays(images, labels).num_classes,
        "class_names": None,
        "channels": int(images.shape[-1]),
        "native_size": tuple(int(v) for v in images.shape[1:3]),
    }


def check_value_range(value_range):
    """`None` or a `(low, high)` pair of finite numbers with low < high, as floats."""
    if value_range is None:
        return None
    try:
        low, high = (float(bound) for bound in value_range)
        valid = np.isfinite(low) and np.isfinite(high) and low < high
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise ValueError(
            f"value_range must be a (low, high) pair of numbers with low < high, e.g. "
            f"(0, 1) or (0, 255). Received: value_range={value_range!r}"
        )
    return low, high


def _split(data):
    return (data, None) if isinstance(data, np.ndarray) else data


def _check_shape(data, images):
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise data_error(data, "expected images of shape (N, H, W) or (N, H, W, C)")
    channels = images.shape[-1]
    if channels not in VALID_CHANNELS:
        hint = ""
        if images.shape[1] in VALID_CHANNELS:
            hint = " (channels first? transpose to (N, H, W, C))"
        elif channels in (2, 4):
            hint = " (with alpha? drop it, e.g. images[..., :-1])"
        raise data_error(
            data,
            f"has {channels} channels; expected 1 (grayscale) or 3 (RGB), channels "
            f"last{hint}",
        )
    if len(images) == 0:
        raise data_error(data, "holds no images")
    return images


def _scale(data, images, value_range):
    """Images as uint8 in [0, 255] or float32 in [-1, 1], after checking their values."""
    value_range = check_value_range(value_range)
    is_float = np.issubdtype(images.dtype, np.floating)
    is_int = np.issubdtype(images.dtype, np.integer)
    if not (is_float or is_int):
        raise data_error(
            data,
            f"expected uint8 images in [0, 255] or float images in [-1, 1]; received "
            f"dtype {images.dtype}",
        )
    if value_range is None and images.dtype == np.uint8:
        return images
    if value_range is None and not is_float:
        raise data_error(
            data,
            f"expected uint8 images in [0, 255] or float images in [-1, 1]; for "
            f"{images.dtype} images pass value_range=(low, high), e.g. (0, 65535), to "
            f"rescale them to [-1, 1]",
        )
    found_low, found_high = images.min(), images.max()
    found = f"[{_number(found_low)}, {_number(found_high)}]"
    if not (np.isfinite(found_low) and np.isfinite(found_high)):
        raise data_error(data, f"images contain NaN or Inf (values in {found})")
    if value_range is None:
        return _check_minus_one_one(data, images, found_low, found_high, found)
    low, high = value_range
    if found_low < low or found_high > high:
        raise data_error(
            data,
            f"images have values in {found}, outside value_range="
            f"({_number(low)}, {_number(high)}); expected values in that range",
        )
    if images.dtype == np.uint8 and (low, high) == (0.0, 255.0):
        return images
    if is_float and (low, high) == (-1.0, 1.0):
        return images.astype(np.float32, copy=False)
    scaled = images.astype(np.float32)
    scaled -= np.float32(low)
    scaled *= np.float32(2.0 / (high - low))
    scaled -= np.float32(1.0)
    return np.clip(scaled, -1.0, 1.0, out=scaled)


def _check_minus_one_one(data, images, found_low, found_high, found):
    if found_low < -1.0 or found_high > 1.0:
        raise data_error(
            data,
            f"float images must lie in [-1, 1]; found values in {found}. Pass "
            f"value_range=(low, high), e.g. value_range=(0, 255), to rescale them to "
            f"[-1, 1], or pass uint8 images in [0, 255]",
        )
    if found_low >= 0.0 and found_high > found_low:
        raise data_error(
            data,
            f"float images look like [0, 1] data (values in {found}) but [-1, 1] is "
            f"expected; pass value_range=(0, 1) to rescale them to [-1, 1], or "
            f"value_range=(-1, 1) if they are [-1, 1] images after all",
        )
    return images.astype(np.float32, copy=False)


def _number(value):
    return f"{float(value):.4g}"


def _check_labels(data, labels, num_images):
    labels = np.asarray(labels)
    if labels.shape != (num_images,) or not np.issubdtype(labels.dtype, np.integer):
        raise data_error(
            data, f"expected integer labels of shape ({num_images},), one per image"
        )
    if labels.min() < 0:
        raise data_error(data, "labels must be >= 0")
    return labels.astype(np.int64, copy=False)
