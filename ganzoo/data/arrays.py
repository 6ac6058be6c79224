"""NumPy arrays as a data source: `images` or `(images, labels)`.

Images are uint8 in [0, 255] or floats in [-1, 1], shaped (N, H, W) or (N, H, W, C) with
C = 1 or 3. Labels are integers >= 0, shaped (N,).
"""

import numpy as np

from ganzoo.data._common import VALID_CHANNELS, ImageArrays, source_error


def is_array_source(source):
    """Whether `source` is an array or an `(images, labels)` pair of arrays."""
    if isinstance(source, np.ndarray):
        return True
    return (
        isinstance(source, tuple)
        and len(source) == 2
        and isinstance(source[0], np.ndarray)
    )


def load_arrays(source):
    """Validate NumPy images (and labels) and wrap them as an `ImageArrays`.

    Args:
        source: an image array, or an `(images, labels)` tuple.

    Returns:
        An `ImageArrays` holding the arrays (not copied when already valid).
    """
    images, labels = (source, None) if isinstance(source, np.ndarray) else source
    images = _check_images(source, images)
    if labels is not None:
        labels = _check_labels(source, labels, len(images))
    return ImageArrays(images, labels)


def describe(source):
    """Metadata of an array source (see `ganzoo.data.describe`)."""
    arrays = load_arrays(source)
    return {
        "num_examples": len(arrays.images),
        "num_classes": arrays.num_classes,
        "class_names": None,
        "channels": int(arrays.images.shape[-1]),
        "native_size": tuple(int(v) for v in arrays.images.shape[1:3]),
    }


def _check_images(source, images):
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise source_error(source, "expected images of shape (N, H, W) or (N, H, W, C)")
    if images.shape[-1] not in VALID_CHANNELS:
        raise source_error(
            source, f"has {images.shape[-1]} channels; expected 1 (grayscale) or 3 (RGB)"
        )
    if len(images) == 0:
        raise source_error(source, "holds no images")
    if images.dtype == np.uint8:
        return images
    if not np.issubdtype(images.dtype, np.floating):
        raise source_error(
            source, "expected uint8 images in [0, 255] or float images in [-1, 1]"
        )
    if not np.all((images >= -1.0) & (images <= 1.0)):
        raise source_error(
            source,
            f"float images must lie in [-1, 1] (found values in "
            f"[{np.nanmin(images):.3g}, {np.nanmax(images):.3g}] or NaN); scale them, "
            f"or pass uint8 images in [0, 255]",
        )
    return images.astype(np.float32, copy=False)


def _check_labels(source, labels, num_images):
    labels = np.asarray(labels)
    if labels.shape != (num_images,) or not np.issubdtype(labels.dtype, np.integer):
        raise source_error(
            source, f"expected integer labels of shape ({num_images},), one per image"
        )
    if labels.min() < 0:
        raise source_error(source, "labels must be >= 0")
    return labels.astype(np.int64, copy=False)
