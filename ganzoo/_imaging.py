"""Image helpers shared by training callbacks, the CLI and the runtime (NumPy + Pillow)."""

import math
import os
import tempfile

import numpy as np

from ganzoo import _atomic


def to_uint8(images, value_range=(-1.0, 1.0)):
    """Map float images in `value_range` to uint8 [0, 255], rounding to nearest."""
    low, high = value_range
    images = np.asarray(images, dtype=np.float32)
    scaled = (images - low) * (255.0 / (high - low))
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def from_uint8(images, value_range=(-1.0, 1.0)):
    """Map uint8 images to float32 in `value_range`."""
    low, high = value_range
    images = np.asarray(images, dtype=np.float32)
    return images * ((high - low) / 255.0) + low


def grid(images, columns=None, padding=2, pad_value=0):
    """Tile uint8 NHWC images into one HWC picture, `columns` wide (square by default)."""
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(
            f"Expected images of shape (N, H, W, C). Received: shape={images.shape}"
        )
    n, height, width, channels = images.shape
    columns = columns or int(math.ceil(math.sqrt(n)))
    rows = int(math.ceil(n / columns))
    out = np.full(
        (
            rows * height + (rows + 1) * padding,
            columns * width + (columns + 1) * padding,
            channels,
        ),
        pad_value,
        dtype=images.dtype,
    )
    for index, image in enumerate(images):
        row, col = divmod(index, columns)
        top = padding + row * (height + padding)
        left = padding + col * (width + padding)
        out[top : top + height, left : left + width] = image
    return out


def save_png(image, path, overwrite=True):
    """Write one uint8 HWC (or HW) image to `path` atomically."""
    from PIL import Image

    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    path = os.fspath(path)
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{path} already exists; pass overwrite=True to replace it")
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, tmp_path = tempfile.mkstemp(suffix=".png", dir=folder)
    os.close(handle)
    try:
        Image.fromarray(image).save(tmp_path, format="PNG")
        _atomic.public_mode(tmp_path)
        os.replace(tmp_path, path)
    except BaseException:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)
        raise
    return path


def load_image(path, channels=None):
    """Read an image file as uint8 HWC, optionally converted to 1 or 3 channels."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            if channels == 1:
                image = image.convert("L")
            elif channels == 3:
                image = image.convert("RGB")
            array = np.asarray(image)
    except Exception as error:
        raise ValueError(f"Cannot read image {path}: {error}") from None
    if array.ndim == 2:
        array = array[..., None]
    return array
