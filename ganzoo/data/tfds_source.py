"""TensorFlow Datasets as a data source (`mnist`, `cifar10`, `celeb_a`,
`cycle_gan/horse2zebra`, `div2k/bicubic_x4`, ...).

`tensorflow_datasets` is imported only when such a source is used: it is slow to import.
Data is downloaded and prepared on first use (this needs internet access) into
`~/tensorflow_datasets`, or the folder named by the `TFDS_DATA_DIR` environment variable.
Offline, with the data not prepared, loading fails with one `ValueError`.

The image is the `image` feature, or `hr` (the high-resolution image) for DIV2K; labels
are the `label` feature. Split names pass through unchanged (`"train"`, `"test"`,
`"train[:10%]"`; CycleGAN's `"trainA"`, `"trainB"`, `"testA"`, `"testB"`).
"""

import re

from ganzoo.data._common import source_error

# A TFDS name: `name`, `name/config`, optionally `:version`.
_TFDS_NAME = re.compile(r"^[A-Za-z0-9_]+(/[A-Za-z0-9_.\-]+)?(:[0-9.*]+)?$")
IMAGE_FEATURES = ("image", "hr")
LABEL_FEATURE = "label"


def looks_like_tfds_name(source):
    """Whether a string has the shape of a TFDS name (it may still not exist)."""
    return isinstance(source, str) and bool(_TFDS_NAME.match(source))


def load_elements(name, split, labels, shuffle, seed, unknown_message):
    """Load one split of a TFDS dataset as `(image,)` or `(image, label)` elements.

    Args:
        name: str. TFDS name.
        split: str. TFDS split, passed through.
        labels: bool. Whether to keep the `label` feature.
        shuffle: bool. Whether TFDS shuffles its files.
        seed: int or None. Seed for the file shuffling.
        unknown_message: str. What to say when TFDS does not know `name`.

    Returns:
        `(elements, num_examples)`: a `tf.data.Dataset` and the number of examples, or
        None when unknown.
    """
    import tensorflow_datasets as tfds

    builder = _builder(name, unknown_message)
    _check_split(name, split, builder)
    try:
        dataset = tfds.load(
            name,
            split=split,
            download=True,
            shuffle_files=shuffle,
            read_config=tfds.ReadConfig(shuffle_seed=seed),
        )
    except Exception as error:  # network, missing data, bad split: one clear line
        raise source_error(
            name,
            f"TensorFlow Datasets could not load split {split!r} ({_first_line(error)}); "
            f"the data is downloaded on first use, which needs internet access, or set "
            f"TFDS_DATA_DIR to a folder where it is already prepared",
        ) from None
    features = dataset.element_spec
    image_key = _image_feature(name, features)
    if labels and LABEL_FEATURE not in features:
        raise source_error(
            name,
            f"has no {LABEL_FEATURE!r} feature (features: {sorted(features)}); load it "
            f"with labels=False",
        )
    if labels:
        elements = dataset.map(lambda ex: (ex[image_key], ex[LABEL_FEATURE]))
    else:
        elements = dataset.map(lambda ex: (ex[image_key],))
    cardinality = int(dataset.cardinality())
    num_examples = cardinality if cardinality >= 0 else None
    return elements, num_examples


def describe(name, split, unknown_message):
    """Metadata from the builder's info, without loading data (see `ganzoo.data.describe`)."""
    builder = _builder(name, unknown_message)
    _check_split(name, split, builder)
    features = builder.info.features
    image_key = _image_feature(name, features)
    shape = features[image_key].shape
    label = features[LABEL_FEATURE] if LABEL_FEATURE in features else None
    class_names = list(label.names) if label is not None and hasattr(label, "names") else None
    return {
        "num_examples": _num_examples(builder, split),
        "num_classes": len(class_names) if class_names else None,
        "class_names": class_names,
        "channels": shape[-1],
        "native_size": None if None in shape[:2] else tuple(shape[:2]),
    }


def _builder(name, unknown_message):
    import tensorflow_datasets as tfds

    try:
        return tfds.builder(name)
    except Exception as error:
        if type(error).__name__ == "DatasetNotFoundError":
            raise source_error(name, unknown_message) from None
        raise source_error(
            name, f"TensorFlow Datasets cannot open it ({_first_line(error)})"
        ) from None


def _check_split(name, split, builder):
    """Reject unknown split names when the builder knows its splits (prepared data)."""
    known = list(builder.info.splits.keys())
    if not known or not isinstance(split, str):
        return
    used = {part.split("[")[0].strip() for part in split.split("+")}
    unknown = sorted(used - set(known))
    if unknown:
        raise source_error(
            name, f"unknown split {unknown[0]!r}; expected one of {sorted(known)}"
        )


def _image_feature(name, features):
    for key in IMAGE_FEATURES:
        if key in features:
            return key
    raise source_error(
        name, f"has no image feature ({' or '.join(IMAGE_FEATURES)}); features: {sorted(features)}"
    )


def _num_examples(builder, split):
    try:
        return int(builder.info.splits[split].num_examples)
    except Exception:  # unprepared data or mocked info: not known cheaply
        return None


def _first_line(error):
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
