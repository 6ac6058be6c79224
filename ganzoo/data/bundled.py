"""Small real datasets that ship inside scikit-learn and scikit-image: they work offline.

| name | what | examples (default) | labels |
| --- | --- | --- | --- |
| `digits` | scikit-learn `load_digits()`: 8×8 grayscale handwritten digits, values 0..16 | 1,437 train / 360 test / 1,797 all | 0..9 |
| `faces` | scikit-image `lfw_subset()`: the 100 face crops (25×25 grayscale) | 100 | none |
| `textures/grass`, `textures/gravel`, `textures/brick` | one 512×512 grayscale texture each, tiled into non-overlapping patches | 64 patches of 64×64 | none |
| `photos` | seven RGB photographs of scikit-image, tiled into non-overlapping patches | 199 train / 36 test / 235 all patches of 96×96 | none |

`ganzoo.data.load_unpaired` takes random crops of the whole texture pictures instead of
the fixed tiles (see `texture_picture`).

Splits: `digits` has `"train"` and `"test"`, defined once and for all as
`sklearn.model_selection.train_test_split(np.arange(1797), test_size=0.2, random_state=0,
stratify=target)` (1,437 / 360 examples, every class in both), and `"all"`. `photos` holds
out two whole photographs, `chelsea` and `coffee`, as its `"test"` split (super-resolution
is measured on them: `"train"` never shows them), the other five are `"train"`, `"all"` is
the seven. The other bundled datasets are too small to hold out a test part: `"train"` and
`"all"` are the same images.
"""

import functools

import numpy as np

from ganzoo.data._common import ImageArrays, data_error, tile

TEXTURES = ("grass", "gravel", "brick")
BUNDLED_NAMES = ("digits", "faces") + tuple(f"textures/{name}" for name in TEXTURES) + (
    "photos",
)

DIGITS_SPLITS = ("train", "test", "all")
PHOTO_SPLITS = ("train", "test", "all")
SINGLE_SPLITS = ("train", "all")

TEXTURE_PATCH = (64, 64)
PHOTO_PATCH = (96, 96)
# Only the colour photographs shipped inside the scikit-image wheel (no pooch download);
# synthetic pictures (colorwheel, logo) and the mostly black retina scan are left out.
PHOTO_NAMES = (
    "astronaut",
    "chelsea",
    "coffee",
    "hubble_deep_field",
    "immunohistochemistry",
    "rocket",
    "motorcycle_left",
)
# Held out of the `photos` train split, for measuring super-resolution.
PHOTO_TEST_NAMES = ("chelsea", "coffee")
DIGITS_CLASS_NAMES = [str(digit) for digit in range(10)]


def is_bundled(data):
    """Whether `data` names a bundled dataset."""
    return isinstance(data, str) and data in BUNDLED_NAMES


def splits_of(name):
    """The split names a bundled dataset accepts."""
    if name == "digits":
        return DIGITS_SPLITS
    return PHOTO_SPLITS if name == "photos" else SINGLE_SPLITS


def load_arrays(name, split="train", image_size=None):
    """Load a bundled dataset into memory.

    Args:
        name: str. One of `BUNDLED_NAMES`.
        split: str. `"train"`, `"test"` (digits and photos) or `"all"`.
        image_size: (height, width) or None. For textures and photos this is the patch
            size the pictures are tiled into (so patches keep full resolution); other
            datasets are resized later by the pipeline.

    Returns:
        An `ImageArrays`.
    """
    _check_split(name, split)
    if name == "digits":
        images, labels = _digits_split(split)
        # 0..16 mapped exactly onto [-1, 1].
        images = images.astype(np.float32)[..., None] / 8.0 - 1.0
        return ImageArrays(images, labels, list(DIGITS_CLASS_NAMES))
    if name == "faces":
        return ImageArrays(_faces())
    patch = image_size
    if name.startswith("textures/"):
        patches = tile(_texture(name.split("/", 1)[1]), patch or TEXTURE_PATCH)
    else:
        patch = patch or PHOTO_PATCH
        patches = np.concatenate([tile(photo, patch) for photo in photo_pictures(split)])
    if len(patches) == 0:
        raise data_error(
            name, f"image_size={patch} is larger than its pictures; use a smaller image_size"
        )
    return ImageArrays(patches)


def describe(name, split="train"):
    """Metadata of a bundled dataset at its default size (see `ganzoo.data.describe`)."""
    _check_split(name, split)
    if name == "digits":
        num_examples = len(_digits_split(split)[1])
        return _info(num_examples, DIGITS_CLASS_NAMES, 1, (8, 8))
    if name == "faces":
        return _info(len(_faces()), None, 1, (25, 25))
    if name.startswith("textures/"):
        num_examples = len(tile(_texture(name.split("/", 1)[1]), TEXTURE_PATCH))
        return _info(num_examples, None, 1, TEXTURE_PATCH)
    num_examples = sum(len(tile(photo, PHOTO_PATCH)) for photo in photo_pictures(split))
    return _info(num_examples, None, 3, PHOTO_PATCH)


def digits_arrays(split="train"):
    """The raw bundled digits of one split, for classifiers and evaluation.

    Args:
        split: str. `"train"` (1,437), `"test"` (360) or `"all"` (1,797); see the module
            docstring for how the split is defined.

    Returns:
        `(images, labels)`: uint8 images of shape (N, 8, 8) in 0..255 (the original 0..16
        values times 255 / 16, rounded) and int64 labels of shape (N,) in 0..9.
    """
    _check_split("digits", split)
    images, labels = _digits_split(split)
    images = np.rint(images * (255.0 / 16.0)).astype(np.uint8)
    return images, labels.astype(np.int64)


def _check_split(name, split):
    if split not in splits_of(name):
        raise data_error(
            name, f"unknown split {split!r}; expected one of {list(splits_of(name))}"
        )


def _info(num_examples, class_names, channels, native_size):
    return {
        "num_examples": int(num_examples),
        "num_classes": len(class_names) if class_names else None,
        "class_names": list(class_names) if class_names else None,
        "channels": channels,
        "native_size": tuple(native_size),
    }


@functools.lru_cache(maxsize=None)
def _digits():
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = digits.images.astype(np.float32)  # (1797, 8, 8), values 0..16
    labels = digits.target.astype(np.int64)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


@functools.lru_cache(maxsize=None)
def _digits_indices():
    from sklearn.model_selection import train_test_split

    _, labels = _digits()
    train, test = train_test_split(
        np.arange(len(labels)), test_size=0.2, random_state=0, stratify=labels
    )
    return {"train": train, "test": test, "all": np.arange(len(labels))}


def _digits_split(split):
    images, labels = _digits()
    indices = _digits_indices()[split]
    return images[indices], labels[indices]


@functools.lru_cache(maxsize=None)
def _faces():
    from skimage import data

    # lfw_subset() holds 100 faces followed by 100 non-faces (background crops), as
    # floats in [0, 1]; only the faces are a dataset worth generating.
    faces = np.asarray(data.lfw_subset()[:100], dtype=np.float32)
    images = (faces * 2.0 - 1.0)[..., None]
    images.flags.writeable = False
    return images


def texture_picture(name):
    """The whole picture of a bundled texture: uint8 (512, 512, 1), read-only.

    `ganzoo.data.load_unpaired` cuts random crops from it (`textures/<name>` in `load`
    gives the fixed non-overlapping tiles instead).

    Args:
        name: str. `"grass"`, `"gravel"` or `"brick"` (or `"textures/<name>"`).
    """
    name = name.split("/", 1)[1] if name.startswith("textures/") else name
    if name not in TEXTURES:
        raise data_error(f"textures/{name}", f"unknown texture; expected one of {list(TEXTURES)}")
    return _texture(name)


@functools.lru_cache(maxsize=None)
def _texture(name):
    from skimage import data

    image = np.asarray(getattr(data, name)(), dtype=np.uint8)[..., None]
    image.flags.writeable = False
    return image


def photo_pictures(split="train"):
    """The whole photographs of one `photos` split: uint8 (H, W, 3) arrays, read-only.

    `ganzoo.data.load_super_resolution` cuts random crops from them (`photos` in `load`
    gives the fixed non-overlapping tiles instead).

    Args:
        split: str. `"train"` (five photographs), `"test"` (`chelsea`, `coffee`) or `"all"`.
    """
    _check_split("photos", split)
    if split == "all":
        wanted = PHOTO_NAMES
    elif split == "test":
        wanted = PHOTO_TEST_NAMES
    else:
        wanted = tuple(name for name in PHOTO_NAMES if name not in PHOTO_TEST_NAMES)
    return tuple(photo for name, photo in zip(PHOTO_NAMES, _photos()) if name in wanted)


@functools.lru_cache(maxsize=None)
def _photos():
    from skimage import data

    photos = []
    for name in PHOTO_NAMES:
        if name == "motorcycle_left":
            photo = data.stereo_motorcycle()[0]
        else:
            photo = getattr(data, name)()
        photo = np.asarray(photo, dtype=np.uint8)
        photo.flags.writeable = False
        photos.append(photo)
    return tuple(photos)
