"""What every feature extractor is: the `FeatureExtractor` interface and its input check.

Below the extractors themselves (`features` for InceptionV3 and the registry, `digits` for
the digits classifier), which both build on it.
"""

import numpy as np

# `weights=RANDOM_WEIGHTS` builds an extractor with freshly initialised weights. For tests
# and throughput benchmarks only: its features mean nothing.
RANDOM_WEIGHTS = "random"


class FeatureExtractor:
    """What every feature extractor offers.

    Attributes:
        name: str. Registered name (`get_extractor(name)`).
        weights: str. What was loaded: a file path, or "random".
        input_size: (height, width) the network sees; inputs of any size are resized to it.
        feature_dim: int. D, the length of each feature vector.
        num_classes: int or None. C, the length of each probability row, None when the
            extractor has no classifier.
    """

    name = None
    weights = None
    input_size = None
    feature_dim = None
    num_classes = None

    def __call__(self, images):
        """Features of uint8 NHWC images, as a float32 (N, D) array."""
        raise NotImplementedError

    def probabilities(self, images):
        """Class probabilities of uint8 NHWC images, as a float32 (N, C) array (rows sum to 1)."""
        raise ValueError(f"The {self.name!r} feature extractor gives no class probabilities.")

    def features_and_probabilities(self, images):
        """Both at once; extractors that get them from one forward pass override this."""
        return self(images), self.probabilities(images)


def check_uint8_batch(images):
    """The images as an array, after checking they are a uint8 (N, H, W, 1 or 3) batch."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] not in (1, 3) or 0 in images.shape:
        raise ValueError(
            "Expected a batch of images of shape (N, H, W, 1) or (N, H, W, 3). "
            f"Received: shape={images.shape}"
        )
    if images.dtype != np.uint8:
        raise ValueError(
            f"Expected uint8 images (0..255). Received: dtype={images.dtype}"
        )
    return images
