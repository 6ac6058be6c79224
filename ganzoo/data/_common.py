"""Shared pieces of the data loaders: the in-memory image container and error helpers."""

import dataclasses
from typing import Optional

import numpy as np

VALID_CHANNELS = (1, 3)


def data_error(data, expected):
    """A one-line `ValueError` naming the data and what was expected."""
    message = f"Data source {describe_data(data)}: {expected}"
    return ValueError(" ".join(message.split()))


def describe_data(data):
    """A short printable name for the data (NumPy arrays are shown by shape and dtype)."""
    if isinstance(data, tuple) and data and isinstance(data[0], np.ndarray):
        images, labels = data[0], data[1] if len(data) > 1 else None
        text = f"NumPy arrays (images shape={images.shape} dtype={images.dtype}"
        if labels is not None:
            text += f", labels shape={np.shape(labels)}"
        return text + ")"
    if isinstance(data, np.ndarray):
        return f"NumPy array (shape={data.shape} dtype={data.dtype})"
    return repr(data if isinstance(data, str) else str(data))


@dataclasses.dataclass
class ImageArrays:
    """Images held in memory, ready for the `tf.data` pipeline.

    Attributes:
        images: uint8 array in [0, 255] or float32 array in [-1, 1], shape (N, H, W, C)
            with C in (1, 3).
        labels: int array of shape (N,), or None when the data has no labels.
        class_names: list of str (index = label), or None.
    """

    images: np.ndarray
    labels: Optional[np.ndarray] = None
    class_names: Optional[list] = None

    @property
    def num_classes(self):
        if self.class_names is not None:
            return len(self.class_names)
        if self.labels is not None and len(self.labels):
            return int(np.max(self.labels)) + 1
        return None


def normalize_image_size(image_size):
    """`None`, an int or an (H, W) pair → `None` or an (H, W) tuple of positive ints."""
    if image_size is None:
        return None
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        size = (int(image_size), int(image_size))
    elif (
        isinstance(image_size, (tuple, list))
        and len(image_size) == 2
        and all(isinstance(v, (int, np.integer)) for v in image_size)
    ):
        size = (int(image_size[0]), int(image_size[1]))
    else:
        raise ValueError(
            f"`image_size` must be an int or an (height, width) pair. "
            f"Received: image_size={image_size!r}"
        )
    if min(size) <= 0:
        raise ValueError(f"`image_size` must be positive. Received: image_size={image_size!r}")
    return size


def tile(image, patch_size):
    """Cut an HWC image into non-overlapping patches on a grid centred in the image.

    Args:
        image: array of shape (H, W, C).
        patch_size: (height, width) of each patch.

    Returns:
        Array of shape (N, patch_height, patch_width, C); N is 0 when the patch is larger
        than the image.
    """
    patch_h, patch_w = patch_size
    height, width, channels = image.shape
    rows, cols = height // patch_h, width // patch_w
    if rows == 0 or cols == 0:
        return np.zeros((0, patch_h, patch_w, channels), image.dtype)
    top = (height - rows * patch_h) // 2
    left = (width - cols * patch_w) // 2
    grid = image[top : top + rows * patch_h, left : left + cols * patch_w]
    grid = grid.reshape(rows, patch_h, cols, patch_w, channels)
    return grid.transpose(0, 2, 1, 3, 4).reshape(-1, patch_h, patch_w, channels)
