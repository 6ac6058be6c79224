"""Feature extractors: images in, features (and class probabilities) out.

All extractors share one small interface (`FeatureExtractor`) and are built by name with
`get_extractor(name, weights=None)`. TensorFlow and Keras are imported only when an
extractor is built, so `import ganzoo.metrics` stays light, and a missing weights file is
reported before anything heavy is loaded or downloaded.
"""

import os

import numpy as np

from ganzoo._keras_cache import keras_models_dir
from ganzoo.metrics import _checks, digits
from ganzoo.metrics.extractor import RANDOM_WEIGHTS, FeatureExtractor, check_uint8_batch

INCEPTION_WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
INCEPTION_WEIGHTS_FILE_NO_TOP = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
_INCEPTION_WEIGHTS_URL = (
    "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
)


def _check_images(images):
    images = check_uint8_batch(images)
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    return images


def _cached_weights(file_name):
    path = os.path.join(keras_models_dir(), file_name)
    return path if os.path.isfile(path) else None


def _missing_inception_weights_message():
    expected = os.path.join(keras_models_dir(), INCEPTION_WEIGHTS_FILE)
    return (
        f"InceptionV3 ImageNet weights were not found in the Keras cache: {expected} "
        f"(or {INCEPTION_WEIGHTS_FILE_NO_TOP}, features only) is missing. Copy the file "
        "there (it is what keras.applications.InceptionV3(weights='imagenet') downloads "
        "online), or pass --inception-weights PATH (in Python: "
        "get_extractor('inception_v3', weights=PATH))."
    )


def _resolve_inception_weights(weights):
    """The weights file to load (None for random weights); raises before any TF import."""
    if isinstance(weights, str) and weights == RANDOM_WEIGHTS:
        return None
    if weights is None or (isinstance(weights, str) and weights == "imagenet"):
        path = _cached_weights(INCEPTION_WEIGHTS_FILE) or _cached_weights(
            INCEPTION_WEIGHTS_FILE_NO_TOP
        )
        if path is not None:
            return path
        if weights is None:
            raise FileNotFoundError(_missing_inception_weights_message())
        return _download_inception_weights()
    path = os.path.expanduser(os.fspath(weights))
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"InceptionV3 weights file not found (--inception-weights). Received: {path}"
        )
    return path


def _download_inception_weights():
    """weights='imagenet': let Keras download the full weights into its cache."""
    import keras

    try:
        return keras.utils.get_file(
            INCEPTION_WEIGHTS_FILE,
            _INCEPTION_WEIGHTS_URL + INCEPTION_WEIGHTS_FILE,
            cache_subdir="models",
            file_hash="9a0d58056eeedaa3f26cb7ebd46da564",
        )
    except Exception as error:  # offline: name the way out instead of urllib's error
        raise FileNotFoundError(
            f"{_missing_inception_weights_message()} Download failed: {error}"
        ) from error


class InceptionV3Extractor(FeatureExtractor):
    """Keras' ImageNet InceptionV3: 2048 pool3 features and 1000-class probabilities.

    Images are resized to 299x299 (bilinear), grayscale is repeated to RGB, and pixels are
    scaled by `keras.applications.inception_v3.preprocess_input` (to [-1, 1]). Features are
    the global average pool of the last block ("pool3"); probabilities are the softmax of
    the classifier logits. These are Keras' weights, not the 2015 TF graph that published FID
    tables use, so numbers are comparable with each other, not with papers (docs/metrics.md).

    Args:
        weights: None, "imagenet", "random" or a path. None: the Keras cache only, with a
            clear error when the file is missing (never a download). "imagenet": the Keras
            cache, else a download into it. A path: that .h5 file, with the classifier
            (`..._kernels.h5`) or without (`..._notop.h5`, features only). "random":
            untrained weights, for tests and benchmarks only.
        batch_size: int. Images per forward pass. Defaults to 64.
    """

    name = "inception_v3"
    input_size = (299, 299)
    feature_dim = 2048

    def __init__(self, weights=None, batch_size=64):
        self.batch_size = _checks.positive_int(batch_size, "batch_size")
        weights_path = _resolve_inception_weights(weights)
        self.weights = weights_path if weights_path is not None else RANDOM_WEIGHTS
        self._model, has_classifier = _build_inception_model(weights_path)
        self.num_classes = 1000 if has_classifier else None
        self._forward = _compile_forward(self._model, self.input_size)

    def __call__(self, images):
        return self._run(images)[0]

    def probabilities(self, images):
        return self.features_and_probabilities(images)[1]

    def features_and_probabilities(self, images):
        if self.num_classes is None:
            raise ValueError(
                "Class probabilities (Inception Score) need the InceptionV3 weights with the "
                f"classifier ({INCEPTION_WEIGHTS_FILE}). Received: weights={self.weights}"
            )
        features, logits = self._run(images)
        return features, _softmax(logits)

    def _run(self, images):
        images = _check_images(images)
        features, logits = [], []
        for start in range(0, len(images), self.batch_size):
            outputs = self._forward(images[start : start + self.batch_size])
            if self.num_classes is None:
                features.append(outputs.numpy())
            else:
                features.append(outputs[0].numpy())
                logits.append(outputs[1].numpy())
        features = np.concatenate(features).astype(np.float32, copy=False)
        return features, (np.concatenate(logits) if logits else None)


def _build_inception_model(weights_path):
    """(model, has_classifier). The model maps preprocessed images to features [, logits]."""
    import keras

    has_classifier = weights_path is None or _weights_have_classifier(weights_path)
    try:
        if has_classifier:
            base = keras.applications.InceptionV3(
                include_top=True, weights=weights_path, classifier_activation=None
            )
            pool3 = base.get_layer("avg_pool").output
            model = keras.Model(base.input, [pool3, base.output], name="inception_v3_features")
        else:
            model = keras.applications.InceptionV3(
                include_top=False, weights=weights_path, pooling="avg"
            )
    except Exception as error:
        raise ValueError(
            f"Could not load InceptionV3 weights from {weights_path}: expected Keras' "
            f"{INCEPTION_WEIGHTS_FILE} or {INCEPTION_WEIGHTS_FILE_NO_TOP}. {error}"
        ) from error
    return model, has_classifier


def _weights_have_classifier(path):
    """Whether a Keras InceptionV3 weights file includes the 1000-class classifier."""
    import h5py

    try:
        with h5py.File(path, "r") as weights_file:
            # Legacy Keras .h5, the format of the files in the Keras cache.
            for group in (weights_file, weights_file.get("model_weights")):
                if group is not None and "layer_names" in group.attrs:
                    names = [_as_str(name) for name in group.attrs["layer_names"]]
                    return "predictions" in names
            # Keras 3 .weights.h5 names layers by class: the classifier is the only Dense.
            return "layers/dense" in weights_file
    except OSError as error:
        raise ValueError(
            f"Could not read InceptionV3 weights from {path}: not an HDF5 (.h5) file. {error}"
        ) from error


def _as_str(name):
    return name.decode("utf8") if isinstance(name, bytes) else str(name)


def _compile_forward(model, input_size):
    import keras
    import tensorflow as tf

    @tf.function(
        input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8)], reduce_retracing=True
    )
    def forward(images):
        pixels = tf.cast(images, tf.float32)
        pixels = tf.image.resize(pixels, input_size, method="bilinear")
        pixels = keras.applications.inception_v3.preprocess_input(pixels)
        return model(pixels, training=False)

    return forward


def _softmax(logits):
    logits = logits.astype(np.float64)
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    return probs.astype(np.float32)


def _build_digits(weights=None, batch_size=64):
    """The digits classifier (`ganzoo.metrics.digits`) as a feature extractor."""
    return digits.build_extractor(weights=weights, batch_size=batch_size)


_EXTRACTORS = {
    "inception_v3": InceptionV3Extractor,
    "digits": _build_digits,
}


def list_extractors():
    """Names accepted by `get_extractor`."""
    return sorted(_EXTRACTORS)


def get_extractor(name, weights=None, *, batch_size=64):
    """Build a feature extractor by name.

    Args:
        name: str. One of `list_extractors()`: "inception_v3" or "digits".
        weights: None, a path, or an extractor-specific value ("imagenet", "random" for
            inception_v3; see `InceptionV3Extractor`). None uses the default weights and
            fails with a clear error, without downloading, when they are missing.
        batch_size: int. Images per forward pass. Defaults to 64.

    Returns:
        A `FeatureExtractor`: `extractor(images)` gives float32 (N, D) features of uint8
        NHWC images; `extractor.probabilities(images)` gives (N, C) class probabilities.

    Examples:
    >>> extractor = get_extractor("inception_v3", weights="random")  # doctest: +SKIP
    >>> extractor(np.zeros((2, 32, 32, 3), np.uint8)).shape  # doctest: +SKIP
    (2, 2048)
    """
    if name not in _EXTRACTORS:
        raise ValueError(
            f"Unknown feature extractor. Expected one of {list_extractors()}. Received: "
            f"name={name!r}"
        )
    return _EXTRACTORS[name](weights=weights, batch_size=batch_size)
