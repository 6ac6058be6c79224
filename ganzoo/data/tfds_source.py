"""TensorFlow Datasets as training data (`mnist`, `cifar10`, `celeb_a`,
`cycle_gan/horse2zebra`, `div2k/bicubic_x4`, ...).

`tensorflow_datasets` is imported only when such data is used: it is slow to import.
Data is downloaded and prepared on first use (this needs internet access) into
`~/tensorflow_datasets`, or the folder named by the `TFDS_DATA_DIR` environment variable
(read at each call). Before downloading, ganzoo checks within a few seconds that the
internet can be reached: offline, a dataset that is not prepared fails at once with one
`ValueError` saying how to prepare it (`not_available_offline_error`), instead of TFDS
retrying its downloads for minutes.

The image is the `image` feature, or `hr` (the high-resolution image) for DIV2K; labels
are the `label` feature. Split names pass through unchanged (`"train"`, `"test"`,
`"train[:10%]"`; CycleGAN's `"trainA"`, `"trainB"`, `"testA"`, `"testB"`).
"""

import os
import re
import threading
import urllib.error
import urllib.request

from ganzoo.data._common import data_error

# A TFDS name: `name`, `name/config`, optionally `:version`.
_TFDS_NAME = re.compile(r"^[A-Za-z0-9_]+(/[A-Za-z0-9_.\-]+)?(:[0-9.*]+)?$")
IMAGE_FEATURES = ("image", "hr")
LABEL_FEATURE = "label"
# Where TFDS looks first for prepared data (its GCS bucket): answering at all means online.
NETWORK_PROBE_URL = "https://storage.googleapis.com/"
# Seconds the network check may take, name resolution included.
NETWORK_PROBE_TIMEOUT = 5.0


def looks_like_tfds_name(data):
    """Whether a string has the shape of a TFDS name (it may still not exist)."""
    return isinstance(data, str) and bool(_TFDS_NAME.match(data))


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

    builder = prepared_builder(name, unknown_message)
    _check_split(name, split, builder)
    try:
        dataset = builder.as_dataset(
            split=split,
            shuffle_files=shuffle,
            read_config=tfds.ReadConfig(shuffle_seed=seed),
        )
    except Exception as error:  # damaged files, bad split: one clear line
        raise data_error(
            name,
            f"TensorFlow Datasets could not read split {split!r} from "
            f"{_data_dir_of(builder)} ({_first_line(error)})",
        ) from None
    features = dataset.element_spec
    image_key = _image_feature(name, features)
    if labels and LABEL_FEATURE not in features:
        raise data_error(
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
    """Metadata from the builder's info (see `ganzoo.data.describe`).

    The data is downloaded and prepared first when it is not yet (offline: a `ValueError`),
    so that the number of examples is known.
    """
    builder = prepared_builder(name, unknown_message)
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


def not_available_offline_error(name, data_dir=None):
    """The one-line `ValueError` for a TFDS dataset that is not prepared, offline.

    Args:
        name: str. TFDS name.
        data_dir: str or None. Where TFDS looked for the prepared data; None for the
            current default (`TFDS_DATA_DIR`, else `~/tensorflow_datasets`).

    Returns:
        A `ValueError` naming the dataset, the folder and how to prepare it.
    """
    data_dir = data_dir or default_data_dir()
    return data_error(
        name,
        f"not available offline: TensorFlow Datasets has not prepared it in {data_dir} and "
        f"the internet cannot be reached to download it; prepare it on a machine with "
        f"internet access (`tfds build {name} --data_dir DIR`) and copy DIR here, or set "
        f"TFDS_DATA_DIR to a folder where it is prepared",
    )


def default_data_dir():
    """The folder TFDS prepares data in: `TFDS_DATA_DIR`, else `~/tensorflow_datasets`."""
    return os.environ.get("TFDS_DATA_DIR") or os.path.join(
        os.path.expanduser("~"), "tensorflow_datasets"
    )


def prepared_builder(name, unknown_message):
    """The TFDS builder of `name` with its data prepared, downloading it when online.

    Raises:
        ValueError: for an unknown name, or `not_available_offline_error` when the data
            is not prepared and the internet cannot be reached (checked within
            `NETWORK_PROBE_TIMEOUT` seconds, so offline never hangs in TFDS' retries).
    """
    builder = _builder(name, unknown_message)
    if builder.is_prepared() or _download_is_mocked(builder):
        return builder
    if not network_reachable():
        raise not_available_offline_error(name, _data_dir_of(builder))
    try:
        builder.download_and_prepare()
    except Exception as error:
        raise data_error(
            name,
            f"TensorFlow Datasets could not download and prepare it in "
            f"{_data_dir_of(builder)} ({_first_line(error)}); set TFDS_DATA_DIR to a "
            f"folder where it is prepared",
        ) from None
    return builder


def network_reachable(url=NETWORK_PROBE_URL, timeout=NETWORK_PROBE_TIMEOUT):
    """Whether `url` answers (any HTTP status) within `timeout` seconds.

    Runs in a daemon thread so that a slow name resolution cannot hold the caller longer
    than `timeout`. Proxies from the environment (`HTTPS_PROXY`) are honoured.
    """
    answered = []

    def probe():
        try:
            urllib.request.urlopen(url, timeout=timeout).close()
            answered.append(True)
        except urllib.error.HTTPError:
            answered.append(True)  # a server replied: the network works
        except Exception:
            answered.append(False)

    thread = threading.Thread(target=probe, name="ganzoo-network-probe", daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(answered and answered[0])


def _download_is_mocked(builder):
    # Under `tfds.testing.mock_data` downloading is replaced by fake examples: there is
    # nothing to fetch, so no network check either.
    prepare = type(builder).download_and_prepare
    return getattr(prepare, "__module__", "").startswith("tensorflow_datasets.testing")


def _data_dir_of(builder):
    root = getattr(builder, "data_dir_root", None)
    return os.fspath(root) if root is not None else default_data_dir()


def _builder(name, unknown_message):
    import tensorflow_datasets as tfds

    # TFDS reads TFDS_DATA_DIR once, at import: pass it on so a later change is seen.
    data_dir = os.environ.get("TFDS_DATA_DIR") or None
    try:
        return tfds.builder(name, data_dir=data_dir)
    except Exception as error:
        if type(error).__name__ == "DatasetNotFoundError":
            raise data_error(name, unknown_message) from None
        raise data_error(
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
        raise data_error(
            name, f"unknown split {unknown[0]!r}; expected one of {sorted(known)}"
        )


def _image_feature(name, features):
    for key in IMAGE_FEATURES:
        if key in features:
            return key
    raise data_error(
        name, f"has no image feature ({' or '.join(IMAGE_FEATURES)}); features: {sorted(features)}"
    )


def _num_examples(builder, split):
    try:
        return int(builder.info.splits[split].num_examples)
    except Exception:  # mocked info has no splits: count what the split yields
        count = int(builder.as_dataset(split=split).cardinality())
        return count if count >= 0 else None


def _first_line(error):
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
