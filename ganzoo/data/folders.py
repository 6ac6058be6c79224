"""Folders of image files as training data.

A folder is either flat (image files directly inside it: no labels) or holds one
sub-folder per class (sorted sub-folder names give labels 0..K-1; images are looked for one
level down only). Hidden files and folders (names starting with ".") are skipped. All
images are decoded with Pillow into memory at once, which suits the few-thousand-image
folders users fine-tune on; stream larger collections through TensorFlow Datasets instead.
"""

import os

import numpy as np

from ganzoo._imaging import load_image
from ganzoo.data._common import ImageArrays, data_error
from ganzoo.data.bundled import BUNDLED_NAMES

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
GRAYSCALE_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F")
_EXTENSIONS_TEXT = ", ".join(IMAGE_EXTENSIONS)


def scan(folder):
    """List a folder's images and classes.

    Args:
        folder: path of the folder.

    Returns:
        `(paths, labels, class_names)`: sorted image paths, their int64 labels (None for a
        flat folder) and the sorted class names (None for a flat folder).
    """
    folder = os.fspath(folder)
    top_images, sub_folders = _list_entries(folder)
    classes = [(name, _images_in(os.path.join(folder, name))) for name in sub_folders]
    classes = [(name, paths) for name, paths in classes if paths]
    if classes and top_images:
        raise data_error(
            folder,
            f"mixes image files ({os.path.basename(top_images[0])}, ...) with class "
            f"sub-folders ({classes[0][0]}, ...); expected either a flat folder of images "
            f"or one sub-folder of images per class",
        )
    if classes:
        paths = [path for _, class_paths in classes for path in class_paths]
        labels = np.concatenate(
            [np.full(len(class_paths), index) for index, (_, class_paths) in enumerate(classes)]
        ).astype(np.int64)
        return paths, labels, [name for name, _ in classes]
    if not top_images:
        raise data_error(
            folder,
            f"contains no images ({_EXTENSIONS_TEXT}) directly or in class sub-folders",
        )
    return top_images, None, None


def describe(folder):
    """Metadata of a folder of images from the file headers (see `ganzoo.data.describe`)."""
    paths, _, class_names = scan(folder)
    headers = [_read_header(folder, path) for path in paths]
    sizes = {size for size, _ in headers}
    return {
        "num_examples": len(paths),
        "num_classes": len(class_names) if class_names else None,
        "class_names": class_names,
        "channels": _native_channels(headers),
        "native_size": sizes.pop() if len(sizes) == 1 else None,
    }


def load_arrays(folder, image_size=None, channels=None):
    """Decode every image of a folder into memory.

    Args:
        folder: path of the folder.
        image_size: (height, width) or None. Needed when the images differ in size: they
            are then resized while loading (bilinear, antialiased).
        channels: 1, 3 or None (grayscale if every image is grayscale, else RGB).

    Returns:
        An `ImageArrays` (uint8 when the images share one size, else float32 in [-1, 1]).
    """
    paths, labels, class_names = scan(folder)
    headers = [_read_header(folder, path) for path in paths]
    channels = channels or _native_channels(headers)
    sizes = [size for size, _ in headers]
    if image_size is None and len(set(sizes)) > 1:
        odd = next(index for index, size in enumerate(sizes) if size != sizes[0])
        raise data_error(
            folder,
            f"images differ in size ({_relative(folder, paths[0])} is {_hw(sizes[0])}, "
            f"{_relative(folder, paths[odd])} is {_hw(sizes[odd])}); pass image_size to "
            f"resize them",
        )
    images = [_decode(folder, path, channels) for path in paths]
    if len(set(sizes)) > 1:
        images = _resize_each(images, image_size)
    return ImageArrays(np.stack(images), labels, class_names)


def _list_entries(folder):
    if not os.path.exists(folder):
        raise data_error(
            folder,
            f"no such folder; expected a folder of images, a bundled dataset "
            f"({', '.join(BUNDLED_NAMES)}) or a TensorFlow Datasets name",
        )
    if not os.path.isdir(folder):
        raise data_error(folder, "is a file; expected a folder of images")
    names = sorted(name for name in os.listdir(folder) if not name.startswith("."))
    images = [
        os.path.join(folder, name)
        for name in names
        if _is_image(name) and os.path.isfile(os.path.join(folder, name))
    ]
    sub_folders = [name for name in names if os.path.isdir(os.path.join(folder, name))]
    return images, sub_folders


def _images_in(folder):
    return [
        os.path.join(folder, name)
        for name in sorted(os.listdir(folder))
        if not name.startswith(".")
        and _is_image(name)
        and os.path.isfile(os.path.join(folder, name))
    ]


def _is_image(name):
    return name.lower().endswith(IMAGE_EXTENSIONS)


def _read_header(folder, path):
    """`((height, width), mode)` of an image file without decoding its pixels."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            width, height = image.size
            return (height, width), image.mode
    except Exception as error:
        raise _unreadable(folder, path, error) from None


def _decode(folder, path, channels):
    try:
        return load_image(path, channels=channels)
    except ValueError as error:
        # load_image says "Cannot read image PATH: REASON"; keep the reason only.
        raise _unreadable(folder, path, str(error).split(f"{path}: ", 1)[-1]) from None


def _unreadable(folder, path, error):
    reason = str(error).splitlines()[0] if str(error) else type(error).__name__
    return data_error(folder, f"cannot read image file {_relative(folder, path)} ({reason})")


def _relative(folder, path):
    return os.path.relpath(path, folder)


def _hw(size):
    return f"{size[0]}x{size[1]}"


def _native_channels(headers):
    return 1 if all(mode in GRAYSCALE_MODES for _, mode in headers) else 3


def _resize_each(images, image_size):
    import tensorflow as tf

    resized = []
    for image in images:
        image = tf.cast(image, tf.float32) / 127.5 - 1.0
        image = tf.image.resize(image, image_size, method="bilinear", antialias=True)
        resized.append(np.clip(image.numpy(), -1.0, 1.0))
    return resized
