"""Image helpers shared by training callbacks, the CLI and the runtime (NumPy + Pillow)."""

import math
import os

import numpy as np

from ganzoo import _atomic


# to_uint8 converts this many values at a time, so its float64 work arrays stay small
# whatever the size of the batch.
_UINT8_CHUNK = 1 << 20


def to_uint8(images, value_range=(-1.0, 1.0)):
    """Map float images in `value_range` to uint8 [0, 255], rounding half up.

    A value x becomes floor((x - low) * 255 / (high - low) + 0.5), computed in float64 and
    clipped to [0, 255]: with the default range -1 -> 0, 0 -> 128 (127.5 rounds up),
    1 -> 255, and values outside the range clip. Rounding half up, not NumPy's
    half-to-even `rint`, so every .5 goes the same way (126.5 -> 127, 127.5 -> 128).
    The same floats always give the same bytes, so Keras, the runtime and the CLI agree
    exactly whenever their floats agree. Works in chunks of about a million values, so a
    large batch needs little memory beyond its uint8 result.

    Args:
        images: float array, any shape.
        value_range: (low, high). The floats that map to 0 and 255. Defaults to (-1, 1).

    Returns:
        uint8 array of the same shape.
    """
    low, high = (float(bound) for bound in value_range)
    if not high > low:
        raise ValueError(
            "value_range must be (low, high) with low < high. "
            f"Received: value_range={value_range!r}"
        )
    images = np.asarray(images)
    out = np.empty(images.shape, dtype=np.uint8)
    flat_in, flat_out = images.reshape(-1), out.reshape(-1)
    scale = 255.0 / (high - low)
    for start in range(0, flat_in.size, _UINT8_CHUNK):
        chunk = flat_in[start : start + _UINT8_CHUNK].astype(np.float64)
        chunk -= low
        chunk *= scale
        chunk += 0.5
        np.floor(chunk, out=chunk)
        np.clip(chunk, 0.0, 255.0, out=chunk)
        flat_out[start : start + _UINT8_CHUNK] = chunk
    return out


def from_uint8(images, value_range=(-1.0, 1.0)):
    """Map uint8 images to float32 in `value_range`: 0 -> low, 255 -> high.

    The inverse of `to_uint8` on its 256 levels: `to_uint8(from_uint8(u)) == u`.
    """
    low, high = value_range
    images = np.asarray(images, dtype=np.float32)
    return images * np.float32((high - low) / 255.0) + np.float32(low)


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
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    _atomic.replace_file(path, lambda tmp_path: Image.fromarray(image).save(tmp_path, format="PNG"),
                         suffix=".png")
    return path


def load_image(path, channels=None):
    """Read an image file as uint8 HWC, optionally converted to 1 or 3 channels.

    16-bit grayscale images (Pillow modes "I;16", "I;16B", "I;16L", and "I", which 16-bit
    PNG and PGM files may open as) are scaled to 8 bits, round(v * 255 / 65535), where
    Pillow's own conversion would clip them at 255. Pillow itself reduces 16-bit RGB(A)
    PNGs to 8 bits. Bilevel images come back as grayscale 0 / 255 and palette images as
    RGB (RGBA with transparency), never as palette indices.

    Raises:
        ValueError: "Cannot read image PATH: REASON", for a file Pillow cannot decode or
            floating-point pixels (mode "F"), whose range is unknown.
    """
    from PIL import Image

    try:
        with Image.open(path) as image:
            image = _eight_bit(image)
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


# Pillow modes of 16-bit grayscale images ("I" holds 32-bit ints, but 16-bit PNG and PGM
# files open as "I" too: values above 65535 are clipped).
_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")


def _eight_bit(image):
    """An opened Pillow image with 8-bit channels: 16-bit grayscale scaled, not clipped."""
    from PIL import Image

    if image.mode in _SIXTEEN_BIT_MODES:
        values = np.clip(np.asarray(image).astype(np.float64), 0, 65535)
        return Image.fromarray(np.rint(values * (255.0 / 65535.0)).astype(np.uint8))
    if image.mode == "1":
        return image.convert("L")
    if image.mode in ("P", "PA"):
        transparent = image.mode == "PA" or "transparency" in image.info
        return image.convert("RGBA" if transparent else "RGB")
    if image.mode == "F":
        raise ValueError(
            "floating-point pixels (Pillow mode F) have no known range; expected 8- or "
            "16-bit images"
        )
    return image


# ITU-R BT.601 luma, as `tf.image.rgb_to_grayscale`.
LUMA_WEIGHTS = (0.2989, 0.5870, 0.1140)


def convert_channels(images, channels):
    """uint8 NHWC `images` with `channels` channels: grayscale repeated into RGB, RGB
    turned grayscale with `LUMA_WEIGHTS`; unchanged when they already match (or when
    `channels` is not 1 or 3). Keras models and the runtime convert alike."""
    have = images.shape[-1]
    if have == channels or channels not in (1, 3) or have not in (1, 3):
        return images
    if channels == 3:
        return np.repeat(images, 3, axis=-1)
    gray = images.astype(np.float32) @ np.asarray(LUMA_WEIGHTS, np.float32)
    return np.clip(np.rint(gray), 0, 255).astype(np.uint8)[..., None]


def pad_to_multiple(images, multiple, minimum=None):
    """`(padded, (height, width))`: NHWC `images` padded at the bottom and right by
    reflection (mirroring without repeating the edge; repeating it where the image is too
    small to reflect) to heights and widths that are multiples of `multiple` and at least
    `minimum` (default: `multiple`)."""
    height, width = images.shape[1:3]
    minimum = multiple if minimum is None else minimum

    def target(side):
        side = max(side, minimum)
        return side + (-side % multiple)

    pad_h, pad_w = target(height) - height, target(width) - width
    if pad_h or pad_w:
        mode = "reflect" if height > pad_h and width > pad_w else "symmetric"
        images = np.pad(images, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode=mode)
    return images, (height, width)


def as_uint8_batch(images, verb):
    """(NHWC uint8 batch, whether one image was given) from uint8 (H, W), (H, W, C) or
    (N, H, W, C) images with 1 or 3 channels; one ValueError naming `verb` otherwise."""
    array = np.asarray(images)
    if array.dtype != np.uint8:
        raise ValueError(
            f"{verb}() expects uint8 images (H, W[, C]) or (N, H, W, C). "
            f"Received: dtype={array.dtype}, shape={array.shape}"
        )
    single = array.ndim in (2, 3)
    if array.ndim == 2:
        array = array[..., None]
    if single:
        array = array[None]
    if array.ndim != 4 or array.shape[-1] not in (1, 3) or 0 in array.shape:
        raise ValueError(
            f"{verb}() expects uint8 images (H, W[, C]) or (N, H, W, C) with 1 or 3 "
            f"channels. Received: shape={np.asarray(images).shape}"
        )
    return array, single
