"""Input checks shared by the metric functions: one clear `ValueError` per mistake."""

import numpy as np


def features_2d(array, name, min_samples=1):
    """`array` as a finite float64 (N, D) array with N >= `min_samples`."""
    array = np.asarray(array)
    if array.ndim != 2:
        raise ValueError(
            f"Expected `{name}` to be a 2-D array of shape (N, D). "
            f"Received: shape={array.shape}"
        )
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise ValueError(
            f"Expected `{name}` to hold numbers. Received: dtype={array.dtype}"
        )
    if array.shape[1] < 1:
        raise ValueError(
            f"Expected `{name}` to have at least one feature. Received: shape={array.shape}"
        )
    if array.shape[0] < min_samples:
        raise ValueError(
            f"Expected `{name}` to hold at least {min_samples} samples. "
            f"Received: shape={array.shape}"
        )
    array = array.astype(np.float64, copy=False)
    if not np.all(np.isfinite(array)):
        raise ValueError(
            f"Expected `{name}` to be finite, but it holds NaN or infinite values. "
            f"Received: shape={array.shape}"
        )
    return array


def same_feature_dim(a, b, name_a, name_b):
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(
            f"`{name_a}` and `{name_b}` must have the same feature dimension. "
            f"Received: shape={a.shape} and shape={b.shape}"
        )


def positive_int(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}. Received: {name}={value!r}")
    return int(value)
