"""Scores of one set of class probabilities: the Inception Score. NumPy/SciPy only."""

import numpy as np
from scipy import special

from ganzoo.metrics import _checks

# How far a row of `probs` may sum from 1 (float32 softmax outputs sum to 1 +- ~1e-6).
_ROW_SUM_TOLERANCE = 1e-3


def inception_score(probs, splits=10):
    """Inception Score of class probabilities p(y|x) of generated images.

    Salimans et al. 2016, "Improved Techniques for Training GANs",
    https://arxiv.org/abs/1606.03498. The rows are cut into `splits` consecutive parts of
    (nearly) equal size; for each part, with p(y) its mean row,

        IS = exp(mean_x KL(p(y|x) || p(y))),

    which is high when each image is classified confidently (low-entropy rows) and the
    classes are varied (high-entropy p(y)). It ranges from 1 to the number of classes C;
    confident predictions spread evenly over C classes score exactly C.

    Args:
        probs: array of shape (N, C); non-negative rows that sum to 1 (softmax outputs).
        splits: int. Number of parts, at most N. Defaults to 10.

    Returns:
        (mean, std): floats, the mean and standard deviation (ddof=0) over the splits.

    Examples:
    >>> probs = np.tile(np.eye(10), (10, 1))  # one-hot, every class equally often
    >>> mean, std = inception_score(probs, splits=10)
    >>> round(mean, 9), std
    (10.0, 0.0)
    """
    probs = _checks.features_2d(probs, "probs")
    splits = _checks.positive_int(splits, "splits")
    if splits > len(probs):
        raise ValueError(
            f"`splits` must be at most the number of rows of `probs`. "
            f"Received: splits={splits}, shape={probs.shape}"
        )
    if probs.min() < 0.0:
        raise ValueError(
            f"Expected `probs` to hold probabilities, but it has negative values. "
            f"Received: shape={probs.shape}"
        )
    row_sums = probs.sum(axis=1)
    worst = float(np.abs(row_sums - 1.0).max())
    if worst > _ROW_SUM_TOLERANCE:
        raise ValueError(
            "Expected each row of `probs` to sum to 1 (softmax outputs, not logits); "
            f"a row sums to {row_sums[np.argmax(np.abs(row_sums - 1.0))]:.6g}. "
            f"Received: shape={probs.shape}"
        )
    scores = np.array([_split_score(part) for part in np.array_split(probs, splits)])
    return float(scores.mean()), float(scores.std())


def _split_score(probs):
    marginal = probs.mean(axis=0, keepdims=True)
    # xlogy gives 0·log 0 = 0, so one-hot rows and unused classes need no epsilon.
    kl = special.xlogy(probs, probs) - special.xlogy(probs, marginal)
    return float(np.exp(kl.sum(axis=1).mean()))


def class_accuracy(probs, labels):
    """Fraction of generated images classified as the class they were asked for.

    For a class-conditional generator: sample images for intended `labels`, classify them
    (the `digits` extractor's `.probabilities`), and count how often the classifier's top
    class is the intended one. 1 means every sample is recognisably its class; chance level
    is 1/C. It says nothing about variety within a class (see FID, recall).

    Args:
        probs: array of shape (N, C). Class probabilities (or any scores: only the arg-max
            of each row is used).
        labels: array of shape (N,). Intended classes, integers in [0, C).

    Returns:
        float in [0, 1].

    Examples:
    >>> class_accuracy(np.eye(3), [0, 1, 0])
    0.6666666666666666
    """
    probs = _checks.features_2d(probs, "probs")
    labels = np.asarray(labels)
    if labels.shape != (len(probs),):
        raise ValueError(
            f"Expected one label per row of `probs`, shape ({len(probs)},). "
            f"Received: shape={labels.shape}"
        )
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"Expected integer labels. Received: dtype={labels.dtype}")
    num_classes = probs.shape[1]
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(
            f"Expected labels in [0, {num_classes - 1}] (probs has {num_classes} classes). "
            f"Received: labels in [{labels.min()}, {labels.max()}]"
        )
    return float(np.mean(probs.argmax(axis=1) == labels))
