"""The `digits` feature extractor: a small CNN trained on the bundled handwritten digits.

A judge for generators of `ganzoo.data.load("digits")`-like images, where ImageNet's
InceptionV3 knows nothing useful. The classifier sees 32x32 grey images in [-1, 1]; its
penultimate layer (`features`, 128 ReLU units) feeds FID, KID and precision/recall, and its
softmax over the ten digits feeds the Inception Score and the class accuracy of conditional
generators.

The trained weights ship in `pretrained/digits-classifier/` (`config.json`,
`classifier.weights.h5`, `card.md`, `sha256.txt`), made by
`pretrained/recipes/digits_classifier.py`. The weights file is named differently from a
preset's `model.weights.h5` on purpose, so `ganzoo.list_presets()` does not take the
classifier for a GAN preset. Files are checked against `sha256.txt` before loading, and the
network is rebuilt from the JSON config by `build_classifier`: nothing is unpickled.
"""

import json
import os
from pathlib import Path

import numpy as np

from ganzoo.metrics import _checks
from ganzoo.metrics.extractor import RANDOM_WEIGHTS, FeatureExtractor, check_uint8_batch
from ganzoo.presets import SHIPPED_DIR, verify_manifest, write_manifest

# Shipped beside the presets (`pretrained/` in a checkout, `ganzoo/_pretrained` in a wheel).
CLASSIFIER_DIR = SHIPPED_DIR / "digits-classifier"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "classifier.weights.h5"
CARD_FILE = "card.md"
MANIFEST_FILE = "sha256.txt"
CLASSIFIER_FORMAT = "ganzoo-digits-classifier"
CLASSIFIER_FORMAT_VERSION = 1

# Constructor arguments of `build_classifier`; config.json records the ones used.
DEFAULT_ARCHITECTURE = {
    "input_size": [32, 32],
    "filters": [32, 64],
    "feature_dim": 128,
    "num_classes": 10,
    "dropout": 0.3,
}
# Weights of tf.image.rgb_to_grayscale, which `ganzoo.data` uses for channels=1.
_LUMA = np.array([0.2989, 0.5870, 0.1140], dtype=np.float32)


def build_classifier(input_size=(32, 32), filters=(32, 64), feature_dim=128, num_classes=10,
                     dropout=0.3):
    """The digits classifier network: grey images in [-1, 1] to class probabilities.

    Two blocks of two 3x3 convolutions (ReLU) and a 2x2 max pool, a dense `features` layer
    (ReLU, the penultimate layer the extractor reads), dropout, and a dense `logits` layer
    followed by a softmax named `probabilities`.

    Args:
        input_size: (height, width). Defaults to (32, 32).
        filters: sequence of int. Convolution widths, one per block. Defaults to (32, 64).
        feature_dim: int. Width of the `features` layer. Defaults to 128.
        num_classes: int. Defaults to 10.
        dropout: float. Dropout rate before the logits (training only). Defaults to 0.3.

    Returns:
        An uncompiled `keras.Model` with input (H, W, 1) and output (num_classes,).
    """
    import keras
    from keras import layers

    height, width = (int(v) for v in input_size)
    if not filters:
        raise ValueError(f"filters must name at least one block. Received: filters={filters!r}")
    inputs = keras.Input((height, width, 1), name="images")
    x = inputs
    for block, width_ in enumerate(filters, start=1):
        for conv in (1, 2):
            x = layers.Conv2D(int(width_), 3, padding="same", activation="relu",
                              name=f"block{block}_conv{conv}")(x)
        x = layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    features = layers.Dense(int(feature_dim), activation="relu", name="features")(x)
    x = layers.Dropout(float(dropout), name="dropout")(features)
    logits = layers.Dense(int(num_classes), name="logits")(x)
    probabilities = layers.Softmax(name="probabilities")(logits)
    return keras.Model(inputs, probabilities, name="digits_classifier")


def _grey_pixels(images):
    images = check_uint8_batch(images)
    if images.shape[-1] == 3:
        return (images.astype(np.float32) @ _LUMA)[..., None]
    return images.astype(np.float32)


def _resize_and_scale(pixels, input_size):
    import tensorflow as tf

    if tuple(pixels.shape[1:3]) != input_size:
        pixels = tf.image.resize(pixels, input_size, method="bilinear", antialias=True)
    return tf.clip_by_value(pixels / 127.5 - 1.0, -1.0, 1.0)


def verify(folder):
    """Check the classifier folder against its manifest; returns its Path.

    Raises a one-line ValueError when a file is missing, unlisted or differs.
    """
    return verify_manifest(folder, required=(CONFIG_FILE, WEIGHTS_FILE))


def read_config(folder):
    path = Path(folder) / CONFIG_FILE
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"Digits classifier config not found: {path}") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from None
    if config.get("format") != CLASSIFIER_FORMAT:
        raise ValueError(
            f"{path} is not a digits classifier config (expected format "
            f"{CLASSIFIER_FORMAT!r}). Received: format={config.get('format')!r}"
        )
    if config.get("format_version", 1) > CLASSIFIER_FORMAT_VERSION:
        raise ValueError(f"{path} was written by a newer ganzoo; upgrade ganzoo")
    return config


def measure_feature_scale(extractor, images):
    """The factor that makes the mean squared feature norm equal D on `images`.

    The penultimate ReLU outputs of a small network are large (mean ||f||²/D about 10 on
    the digits), which puts KID's cubic kernel (x·y/D + 1)³ far from the range it was
    designed for (Inception pool3 features give x·y/D below 1) and makes KID's variance
    huge. Features are multiplied by this fixed factor, measured once on the train split
    and recorded in config.json ("feature_scale"). Precision/recall and IS do not change;
    FID is multiplied by the factor squared.
    """
    features = np.asarray(extractor(images), dtype=np.float64) / extractor.feature_scale
    return float(1.0 / np.sqrt(np.mean(np.sum(features**2, axis=1)) / features.shape[1]))


def write_folder(model, folder, architecture, card, feature_scale=1.0, **facts):
    """Write a classifier folder: weights, config.json, card.md and the manifest.

    Used by `pretrained/recipes/digits_classifier.py`. `facts` (JSON values) are recorded in
    config.json under "training".
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_weights(str(folder / WEIGHTS_FILE))
    config = {
        "format": CLASSIFIER_FORMAT,
        "format_version": CLASSIFIER_FORMAT_VERSION,
        "architecture": dict(architecture),
        "feature_scale": float(feature_scale),
        "class_names": [str(digit) for digit in range(int(architecture["num_classes"]))],
        "input_range": [-1.0, 1.0],
        "training": facts,
    }
    (folder / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    (folder / CARD_FILE).write_text(card, encoding="utf-8")
    write_manifest(folder, [CONFIG_FILE, WEIGHTS_FILE, CARD_FILE])
    return folder


def _resolve_folder(weights):
    if weights is None:
        folder = CLASSIFIER_DIR
        if not (folder / WEIGHTS_FILE).is_file():
            raise FileNotFoundError(
                f"The digits classifier is not installed: {folder / WEIGHTS_FILE} is missing. "
                "Recreate it with `python pretrained/recipes/digits_classifier.py`."
            )
        return folder
    path = Path(os.fspath(weights)).expanduser()
    if path.is_file() and path.name == WEIGHTS_FILE:
        path = path.parent
    if not (path / WEIGHTS_FILE).is_file():
        raise FileNotFoundError(
            f"Expected a digits classifier folder with {CONFIG_FILE}, {WEIGHTS_FILE} and "
            f"{MANIFEST_FILE}. Received: weights={os.fspath(weights)}"
        )
    return path


def load_classifier(weights=None):
    """(model, folder or None, config): the classifier with verified weights.

    Args:
        weights: None (the shipped `pretrained/digits-classifier`), a classifier folder (or
            its weights file), or "random" for an untrained network (tests only).
    """
    if isinstance(weights, str) and weights == RANDOM_WEIGHTS:
        config = {"architecture": dict(DEFAULT_ARCHITECTURE), "feature_scale": 1.0}
        return build_classifier(**DEFAULT_ARCHITECTURE), None, config
    folder = verify(_resolve_folder(weights))
    config = read_config(folder)
    model = build_classifier(**config["architecture"])
    model.load_weights(str(folder / WEIGHTS_FILE))
    return model, folder, config


class DigitsExtractor(FeatureExtractor):
    """The digits classifier as a feature extractor: 128 features, 10 probabilities.

    Images (uint8 NHWC, 1 or 3 channels, any size) are turned grey, resized to 32x32
    (bilinear, antialiased) and scaled to [-1, 1]. Features are the ReLU outputs of the
    penultimate `features` layer times the folder's fixed `feature_scale` (see
    `measure_feature_scale`); probabilities are the softmax over the digits 0-9.

    Args:
        weights: None, a folder or "random". See `load_classifier`.
        batch_size: int. Images per forward pass. Defaults to 64.
    """

    name = "digits"

    def __init__(self, weights=None, batch_size=64):
        import keras
        import tensorflow as tf

        self.batch_size = _checks.positive_int(batch_size, "batch_size")
        classifier, folder, config = load_classifier(weights)
        self.weights = str(folder) if folder is not None else RANDOM_WEIGHTS
        self.feature_scale = float(config.get("feature_scale", 1.0))
        self.input_size = tuple(int(v) for v in classifier.input_shape[1:3])
        self.feature_dim = int(classifier.get_layer("features").units)
        self.num_classes = int(classifier.output_shape[-1])
        self.classifier = classifier
        both = keras.Model(
            classifier.input, [classifier.get_layer("features").output, classifier.output]
        )
        input_size, feature_scale = self.input_size, self.feature_scale

        @tf.function(
            input_signature=[tf.TensorSpec([None, None, None, 1], tf.float32)],
            reduce_retracing=True,
        )
        def forward(pixels):
            features, probabilities = both(_resize_and_scale(pixels, input_size), training=False)
            return features * feature_scale, probabilities

        self._forward = forward

    def __call__(self, images):
        return self.features_and_probabilities(images)[0]

    def probabilities(self, images):
        return self.features_and_probabilities(images)[1]

    def float_features(self, images):
        """Features of float images in [-1, 1] (N, H, W, 1 or 3), not rounded to 8 bits
        first: what perceptual path length compares (`ganzoo.metrics.path_length`)."""
        images = np.asarray(images, np.float32)
        if images.ndim != 4 or images.shape[-1] not in (1, 3):
            raise ValueError("float_features takes float images (N, H, W, 1 or 3). "
                             f"Received: shape {images.shape}")
        pixels = (np.clip(images, -1.0, 1.0) + 1.0) * 127.5
        if pixels.shape[-1] == 3:
            pixels = (pixels @ _LUMA)[..., None]
        return np.concatenate([self._forward(pixels[start:start + self.batch_size])[0].numpy()
                               for start in range(0, len(pixels), self.batch_size)])

    def features_and_probabilities(self, images):
        pixels = _grey_pixels(images)
        features, probabilities = [], []
        for start in range(0, len(pixels), self.batch_size):
            batch_features, batch_probs = self._forward(pixels[start : start + self.batch_size])
            features.append(batch_features.numpy())
            probabilities.append(batch_probs.numpy())
        return (
            np.concatenate(features).astype(np.float32, copy=False),
            np.concatenate(probabilities).astype(np.float32, copy=False),
        )


def build_extractor(weights=None, batch_size=64):
    """The `digits` extractor (`get_extractor("digits", weights, batch_size=...)`)."""
    return DigitsExtractor(weights=weights, batch_size=batch_size)
