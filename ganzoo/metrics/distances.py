"""Distances between two sets of features: FID, KID, precision and recall.

NumPy only, float64 throughout. Features are (N, D) arrays from a feature extractor
(`ganzoo.metrics.get_extractor`), real images in one, generated images in the other.
"""

import numpy as np

from ganzoo.metrics import _checks

# Pairwise distances are computed in row blocks of about this many bytes (float64), so
# precision/recall over 50k x 2048 features never builds an N x N matrix at once.
_DISTANCE_BLOCK_BYTES = 64 * 1024 * 1024

# A covariance may have eigenvalues down to -_PSD_TOLERANCE · max|eigenvalue| from rounding
# (accumulated statistics, float32 files); anything more negative is not a covariance.
_PSD_TOLERANCE = 1e-6


def frechet_distance(feats_a, feats_b):
    """Fréchet distance between Gaussian fits of two feature sets (FID on Inception features).

    Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule Converge to a Local
    Nash Equilibrium", https://arxiv.org/abs/1706.08500. Each set is summarised by its mean
    and covariance (ddof=1) and

        d² = |mu_a - mu_b|² + Tr(S_a) + Tr(S_b) - 2 Tr((S_a S_b)^½).

    Lower is better; 0 means the two Gaussian fits are equal.

    Args:
        feats_a: array of shape (N_a, D), N_a >= 2.
        feats_b: array of shape (N_b, D), N_b >= 2.

    Returns:
        float, >= 0.

    Examples:
    >>> rng = np.random.default_rng(0)
    >>> real = rng.standard_normal((500, 8))
    >>> round(frechet_distance(real, real), 6)
    0.0
    >>> frechet_distance(real, real + 1.0) > 7.9
    True
    """
    feats_a = _checks.features_2d(feats_a, "feats_a", min_samples=2)
    feats_b = _checks.features_2d(feats_b, "feats_b", min_samples=2)
    _checks.same_feature_dim(feats_a, feats_b, "feats_a", "feats_b")
    return frechet_distance_from_stats(
        feats_a.mean(axis=0),
        np.cov(feats_a, rowvar=False, ddof=1),
        feats_b.mean(axis=0),
        np.cov(feats_b, rowvar=False, ddof=1),
    )


def frechet_distance_from_stats(mu1, sigma1, mu2, sigma2):
    """Fréchet distance between the Gaussians N(mu1, sigma1) and N(mu2, sigma2).

    Use it with statistics accumulated batch by batch
    (`FeatureStats.mean`, `FeatureStats.covariance`) or loaded from a file.

    Args:
        mu1: array of shape (D,).
        sigma1: array of shape (D, D), a symmetric positive semi-definite covariance.
        mu2: array of shape (D,).
        sigma2: array of shape (D, D), likewise.

    Returns:
        float, >= 0.

    Raises:
        ValueError: a covariance that is not square, finite, symmetric (to 1e-6 of its
            largest entry) or positive semi-definite: an eigenvalue below
            -1e-6 · max|eigenvalue| is refused, as no set of features has that
            covariance (smaller negative eigenvalues are rounding and count as 0).
    """
    mu1 = _mean_vector(mu1, "mu1")
    mu2 = _mean_vector(mu2, "mu2")
    sigma1 = _covariance_matrix(sigma1, "sigma1")
    sigma2 = _covariance_matrix(sigma2, "sigma2")
    dims = {mu1.shape[0], mu2.shape[0], sigma1.shape[0], sigma2.shape[0]}
    if len(dims) != 1:
        raise ValueError(
            "mu1, sigma1, mu2 and sigma2 must share one feature dimension. Received: "
            f"shape={mu1.shape}, {sigma1.shape}, {mu2.shape}, {sigma2.shape}"
        )
    diff = mu1 - mu2
    distance = (
        diff @ diff
        + np.trace(sigma1)
        + np.trace(sigma2)
        - 2.0 * _trace_sqrt_product(sigma1, sigma2)
    )
    # Rounding leaves tiny negative values when the two fits are (nearly) identical.
    return max(float(distance), 0.0)


def _trace_sqrt_product(sigma1, sigma2):
    """Tr((sigma1 sigma2)^½) for symmetric positive semi-definite matrices.

    The usual FID code calls `scipy.linalg.sqrtm(sigma1 @ sigma2)` on a non-symmetric
    product: it can return complex or non-finite values when a covariance is singular
    (fewer samples than dimensions), needs an eps*I retry, and takes ~30 s at D=2048.
    Instead, factor each covariance with a symmetric eigen-decomposition, sigma = F Fᵀ with
    F = V_+ diag(λ_+)^½ (eigenvalues within rounding of 0 dropped). The non-zero eigenvalues
    of sigma1 sigma2 = F1 F1ᵀ F2 F2ᵀ are those of M Mᵀ with M = F1ᵀ F2, so
    Tr((sigma1 sigma2)^½) = Σ sqrt(eig(M Mᵀ)), and M Mᵀ is symmetric PSD: `eigvalsh` is real
    and finite. Dropping the rounding-level eigenvalues (rather than clipping them at 0)
    keeps their square roots (~1e-8 |sigma|^½ each) from leaking into the sum, so the FID of
    a sample against itself stays 0 even for rank-deficient covariances.
    """
    factor1 = _psd_factor(sigma1, "sigma1")
    factor2 = _psd_factor(sigma2, "sigma2")
    cross = factor1.T @ factor2
    gram = cross @ cross.T if cross.shape[0] <= cross.shape[1] else cross.T @ cross
    eigenvalues = np.clip(np.linalg.eigvalsh(gram), 0.0, None)
    return float(np.sqrt(eigenvalues).sum())


def _psd_factor(matrix, name):
    """F of shape (D, rank) with F Fᵀ = matrix; refuses a matrix that is not PSD."""
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    largest = float(np.abs(eigenvalues).max())
    smallest = float(eigenvalues.min())
    if smallest < -_PSD_TOLERANCE * largest:
        raise ValueError(
            f"Expected `{name}` to be a positive semi-definite covariance, but it has the "
            f"eigenvalue {smallest:.6g} (largest magnitude {largest:.6g}). "
            f"Received: shape={matrix.shape}"
        )
    # numpy.linalg.matrix_rank's tolerance: smaller eigenvalues are rounding noise.
    tolerance = max(eigenvalues.max(), 0.0) * len(matrix) * np.finfo(np.float64).eps
    keep = eigenvalues > tolerance
    return eigenvectors[:, keep] * np.sqrt(eigenvalues[keep])


def _mean_vector(mu, name):
    mu = np.asarray(mu, dtype=np.float64)
    if mu.ndim != 1:
        raise ValueError(f"Expected `{name}` to be a 1-D mean vector. Received: shape={mu.shape}")
    if not np.all(np.isfinite(mu)):
        raise ValueError(f"Expected `{name}` to be finite. Received: shape={mu.shape}")
    return mu


def _covariance_matrix(sigma, name):
    sigma = np.asarray(sigma, dtype=np.float64)
    if sigma.ndim != 2 or sigma.shape[0] != sigma.shape[1]:
        raise ValueError(
            f"Expected `{name}` to be a square (D, D) covariance. Received: shape={sigma.shape}"
        )
    if not np.all(np.isfinite(sigma)):
        raise ValueError(f"Expected `{name}` to be finite. Received: shape={sigma.shape}")
    scale = max(float(np.abs(sigma).max()), 1e-300)
    if np.abs(sigma - sigma.T).max() > 1e-6 * scale:
        raise ValueError(
            f"Expected `{name}` to be a symmetric covariance. Received: shape={sigma.shape}"
        )
    return 0.5 * (sigma + sigma.T)


def kernel_inception_distance(feats_a, feats_b, subsets=100, subset_size=1000, seed=0):
    """Kernel Inception Distance: unbiased MMD² with a cubic polynomial kernel.

    Bińkowski et al. 2018, "Demystifying MMD GANs", https://arxiv.org/abs/1801.01401.
    With k(x, y) = (x·y / D + 1)³, each of `subsets` random subsets of `subset_size` rows
    per set (drawn without replacement, seeded) gives

        MMD² = mean_{i≠j} k(a_i, a_j) + mean_{i≠j} k(b_i, b_j) - 2 mean_{i,j} k(a_i, b_j),

    an unbiased estimate whose expectation is 0 when both sets come from one distribution
    (single subsets can be slightly negative). Reported values are often multiplied by 1000.

    Args:
        feats_a: array of shape (N_a, D).
        feats_b: array of shape (N_b, D).
        subsets: int. Number of random subsets. Defaults to 100.
        subset_size: int. Rows per subset and set, capped at min(N_a, N_b); must be >= 2.
            Defaults to 1000.
        seed: int. Seed of the subset draws. Defaults to 0.

    Returns:
        (mean, std): floats, the mean and the standard deviation (ddof=0) of MMD² over the
        subsets.

    Examples:
    >>> rng = np.random.default_rng(0)
    >>> mean, std = kernel_inception_distance(
    ...     rng.standard_normal((200, 16)), rng.standard_normal((200, 16)) + 1, subsets=10)
    >>> mean > 0
    True
    """
    feats_a = _checks.features_2d(feats_a, "feats_a", min_samples=2)
    feats_b = _checks.features_2d(feats_b, "feats_b", min_samples=2)
    _checks.same_feature_dim(feats_a, feats_b, "feats_a", "feats_b")
    subsets = _checks.positive_int(subsets, "subsets")
    subset_size = _checks.positive_int(subset_size, "subset_size", minimum=2)
    size = min(subset_size, len(feats_a), len(feats_b))
    rng = np.random.default_rng(seed)
    values = np.empty(subsets, dtype=np.float64)
    for index in range(subsets):
        rows_a = feats_a[rng.choice(len(feats_a), size, replace=False)]
        rows_b = feats_b[rng.choice(len(feats_b), size, replace=False)]
        values[index] = _unbiased_mmd2(rows_a, rows_b)
    return float(values.mean()), float(values.std())


def _polynomial_kernel(x, y):
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def _unbiased_mmd2(x, y):
    m = len(x)
    kernel_xx = _polynomial_kernel(x, x)
    kernel_yy = _polynomial_kernel(y, y)
    kernel_xy = _polynomial_kernel(x, y)
    # Leaving out the diagonal k(x_i, x_i) is what makes the estimate unbiased.
    within = (
        kernel_xx.sum() - np.trace(kernel_xx) + kernel_yy.sum() - np.trace(kernel_yy)
    ) / (m * (m - 1))
    return within - 2.0 * kernel_xy.mean()


def precision_recall(real_feats, fake_feats, k=3):
    """Improved precision and recall with k-NN manifolds.

    Kynkäänniemi et al. 2019, "Improved Precision and Recall Metric for Assessing Generative
    Models", https://arxiv.org/abs/1904.06991. Each set's manifold is the union of balls
    around its samples, a ball's radius being the distance to the sample's k-th nearest
    neighbour in the same set (itself excluded). Precision is the fraction of fake samples
    inside the real manifold (are the samples realistic?); recall is the fraction of real
    samples inside the fake manifold (does the generator cover the data?). Both in [0, 1],
    higher is better.

    Pairwise distances are computed in row blocks of about 64 MiB, so beyond the float64
    copies of the features (8·N·D bytes) memory stays bounded for large N; time grows as
    N²·D (keep N to a few ten thousand on CPU, e.g. with a `FeatureReservoir`).

    Args:
        real_feats: array of shape (N_real, D).
        fake_feats: array of shape (N_fake, D).
        k: int. Neighbour that sets the radius; must be < N_real and < N_fake. Defaults to 3.

    Returns:
        (precision, recall): floats in [0, 1].

    Examples:
    >>> rng = np.random.default_rng(0)
    >>> feats = rng.standard_normal((100, 8))
    >>> precision_recall(feats, feats)
    (1.0, 1.0)
    """
    real_feats = _checks.features_2d(real_feats, "real_feats", min_samples=2)
    fake_feats = _checks.features_2d(fake_feats, "fake_feats", min_samples=2)
    _checks.same_feature_dim(real_feats, fake_feats, "real_feats", "fake_feats")
    k = _checks.positive_int(k, "k")
    for name, feats in (("real_feats", real_feats), ("fake_feats", fake_feats)):
        if k >= len(feats):
            raise ValueError(
                f"`k` must be smaller than the number of samples in `{name}`. "
                f"Received: k={k}, shape={feats.shape}"
            )
    real_radii_sq = _kth_neighbour_distances_sq(real_feats, k)
    fake_radii_sq = _kth_neighbour_distances_sq(fake_feats, k)
    precision = _fraction_inside(fake_feats, real_feats, real_radii_sq)
    recall = _fraction_inside(real_feats, fake_feats, fake_radii_sq)
    return precision, recall


def _squared_distance_blocks(queries, points):
    """Yield (start, block) with block[i, j] = |queries[start + i] - points[j]|²."""
    rows_per_block = max(1, _DISTANCE_BLOCK_BYTES // (8 * len(points)))
    query_norms = np.einsum("ij,ij->i", queries, queries)
    point_norms = np.einsum("ij,ij->i", points, points)
    for start in range(0, len(queries), rows_per_block):
        stop = start + rows_per_block
        # In place, so a block costs one (rows, N) float64 array plus a boolean mask.
        block = queries[start:stop] @ points.T
        block *= -2.0
        block += query_norms[start:stop, None]
        block += point_norms[None, :]
        # |q|² + |p|² - 2 q·p cancels: values within rounding of 0 are duplicates, and must
        # be exactly 0 so that a point always lies inside its own twin's ball.
        rounding = 1e-10 * (query_norms[start:stop].max() + point_norms.max())
        block[block <= rounding] = 0.0
        yield start, block


def _kth_neighbour_distances_sq(feats, k):
    radii_sq = np.empty(len(feats), dtype=np.float64)
    for start, block in _squared_distance_blocks(feats, feats):
        # Column k of the sorted row: index 0 is the sample itself (distance 0).
        radii_sq[start : start + len(block)] = np.partition(block, k, axis=1)[:, k]
    return radii_sq


def _fraction_inside(queries, points, radii_sq):
    inside = 0
    for _, block in _squared_distance_blocks(queries, points):
        inside += int(np.count_nonzero((block <= radii_sq[None, :]).any(axis=1)))
    return inside / len(queries)
