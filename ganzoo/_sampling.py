"""Seeded latent vectors shared by Keras models, presets, bundles and the runtime.

NumPy only: `ganzoo.runtime` imports this module and must never pull in TensorFlow.
A seed means the same latents everywhere, so a picture sampled from a preset and one
sampled from its exported bundle with the same seed are the same picture.
"""

import numpy as np


def latents(n, latent_dim, seed=None):
    """Standard-normal latents of shape `(n, latent_dim)`, float32.

    Args:
        n: int. Number of latent vectors.
        latent_dim: int. Size of each vector.
        seed: int or None. The same seed always gives the same latents.
    """
    n = int(n)
    latent_dim = int(latent_dim)
    if n < 1:
        raise ValueError(f"Number of samples must be at least 1. Received: n={n}")
    if latent_dim < 1:
        raise ValueError(
            f"latent_dim must be at least 1. Received: latent_dim={latent_dim}"
        )
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, latent_dim), dtype=np.float32)


def labels_for(n, num_classes, labels=None, seed=None):
    """Integer class labels of shape `(n,)`: the given ones, or seeded uniform ones."""
    if labels is None:
        rng = np.random.default_rng(None if seed is None else seed + 1)
        return rng.integers(0, num_classes, size=n).astype(np.int32)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    if labels.size == 1:
        labels = np.full((n,), int(labels[0]), dtype=np.int64)
    if labels.shape != (n,):
        raise ValueError(
            f"Expected one label or {n} labels. Received: {labels.size} labels"
        )
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(
            f"Labels must lie in [0, {num_classes - 1}]. "
            f"Received: labels in [{labels.min()}, {labels.max()}]"
        )
    return labels.astype(np.int32)
