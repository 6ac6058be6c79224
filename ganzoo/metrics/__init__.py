"""Evaluation metrics for generators: FID, KID, IS, precision/recall, PSNR and SSIM.

The metric functions take NumPy arrays (features (N, D), probabilities (N, C) or uint8
images) and return Python floats; they need NumPy and SciPy only. Feature extractors
(`get_extractor`) import TensorFlow when one is built, so importing this package does not.
See docs/metrics.md for what each number means.
"""

from ganzoo.metrics.distances import frechet_distance
from ganzoo.metrics.distances import frechet_distance_from_stats
from ganzoo.metrics.distances import kernel_inception_distance
from ganzoo.metrics.distances import precision_recall
from ganzoo.metrics.evaluation import evaluate
from ganzoo.metrics.features import RANDOM_WEIGHTS
from ganzoo.metrics.features import FeatureExtractor
from ganzoo.metrics.features import get_extractor
from ganzoo.metrics.features import list_extractors
from ganzoo.metrics.image_quality import psnr
from ganzoo.metrics.image_quality import ssim
from ganzoo.metrics.scores import class_accuracy
from ganzoo.metrics.scores import inception_score
from ganzoo.metrics.streaming import DEFAULT_RESERVOIR_CAPACITY
from ganzoo.metrics.streaming import FeatureReservoir
from ganzoo.metrics.streaming import FeatureStats

__all__ = [
    "DEFAULT_RESERVOIR_CAPACITY",
    "FeatureExtractor",
    "FeatureReservoir",
    "FeatureStats",
    "RANDOM_WEIGHTS",
    "class_accuracy",
    "evaluate",
    "frechet_distance",
    "frechet_distance_from_stats",
    "get_extractor",
    "inception_score",
    "kernel_inception_distance",
    "list_extractors",
    "precision_recall",
    "psnr",
    "ssim",
]
