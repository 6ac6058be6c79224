"""Tests of ganzoo.metrics: the array metrics, streaming statistics and feature extractors."""

import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.linalg
import scipy.ndimage
import scipy.spatial.distance

from ganzoo import _imaging, metrics
from ganzoo.metrics import distances

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def correlated_gaussian(rng, n, d, shift=0.0):
    mixing = rng.standard_normal((d, d)) / np.sqrt(d)
    return rng.standard_normal((n, d)) @ mixing + shift


def reference_fid(feats_a, feats_b):
    """The classic FID recipe (pytorch-fid / TTUR): scipy.linalg.sqrtm of the product."""
    mu_a, mu_b = feats_a.mean(axis=0), feats_b.mean(axis=0)
    sigma_a = np.cov(feats_a, rowvar=False)
    sigma_b = np.cov(feats_b, rowvar=False)
    covmean = scipy.linalg.sqrtm(sigma_a @ sigma_b)
    assert np.all(np.isfinite(covmean))
    diff = mu_a - mu_b
    return diff @ diff + np.trace(sigma_a) + np.trace(sigma_b) - 2 * np.trace(covmean.real)


def run_python(code, env=None):
    full_env = dict(os.environ, PYTHONPATH=REPO_ROOT)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", code], env=full_env, capture_output=True, text=True, timeout=120
    )


# --- Fréchet distance -------------------------------------------------------------------


@pytest.mark.parametrize("n, d", [(500, 64), (20, 64)])
def test_fid_of_a_sample_against_itself_is_zero(n, d):
    feats = correlated_gaussian(np.random.default_rng(0), n, d, shift=3.0)
    assert metrics.frechet_distance(feats, feats) == pytest.approx(0.0, abs=1e-6)


def test_fid_matches_scipy_sqrtm_reference():
    rng = np.random.default_rng(1)
    feats_a = correlated_gaussian(rng, 500, 64)
    feats_b = 1.3 * correlated_gaussian(rng, 500, 64, shift=0.5)
    expected = reference_fid(feats_a, feats_b)
    assert expected > 1.0
    assert metrics.frechet_distance(feats_a, feats_b) == pytest.approx(expected, rel=1e-6)
    # Symmetric in its arguments.
    assert metrics.frechet_distance(feats_b, feats_a) == pytest.approx(expected, rel=1e-6)


def test_fid_of_a_pure_mean_shift_is_the_squared_shift():
    feats = correlated_gaussian(np.random.default_rng(2), 300, 16)
    shift = np.linspace(-1.0, 1.0, 16)
    assert metrics.frechet_distance(feats, feats + shift) == pytest.approx(shift @ shift, rel=1e-9)


def test_fid_is_finite_for_rank_deficient_covariances():
    rng = np.random.default_rng(3)
    feats_a = correlated_gaussian(rng, 20, 64)  # 20 samples < 64 dimensions: rank 19
    feats_b = correlated_gaussian(rng, 20, 64, shift=0.3)
    value = metrics.frechet_distance(feats_a, feats_b)
    assert np.isfinite(value) and value > 0.0
    # A feature that never varies (e.g. a dead ReLU) makes both covariances singular.
    feats_a[:, 5] = 1.0
    feats_b[:, 5] = 1.0
    assert np.isfinite(metrics.frechet_distance(feats_a, feats_b))


def test_fid_from_stats_equals_fid_on_features():
    rng = np.random.default_rng(4)
    feats_a = correlated_gaussian(rng, 200, 8)
    feats_b = correlated_gaussian(rng, 150, 8, shift=0.2)
    from_stats = metrics.frechet_distance_from_stats(
        feats_a.mean(0),
        np.cov(feats_a, rowvar=False),
        feats_b.mean(0),
        np.cov(feats_b, rowvar=False),
    )
    assert from_stats == pytest.approx(metrics.frechet_distance(feats_a, feats_b), rel=1e-12)


@pytest.mark.parametrize(
    "sigma, eigenvalue",
    [
        ([[1.0, 2.0], [2.0, 1.0]], "-1"),  # eigenvalues 3 and -1: FID came out as 0.0
        ([[1.0, 0.0], [0.0, -1e-3]], "-0.001"),
        (np.diag([4.0, 1.0, -2e-6 * 4.0]), "-8e-06"),  # just past the rounding tolerance
    ],
)
def test_fid_from_stats_refuses_a_covariance_that_is_not_positive_semi_definite(sigma, eigenvalue):
    sigma = np.asarray(sigma)
    dim = len(sigma)
    for args, name in (
        ((np.zeros(dim), sigma, np.zeros(dim), np.eye(dim)), "sigma1"),
        ((np.zeros(dim), np.eye(dim), np.ones(dim), sigma), "sigma2"),
    ):
        with pytest.raises(ValueError) as info:
            metrics.frechet_distance_from_stats(*args)
        message = str(info.value)
        assert "\n" not in message
        assert f"Expected `{name}` to be a positive semi-definite covariance" in message
        assert f"eigenvalue {eigenvalue} " in message and f"shape=({dim}, {dim})" in message


def test_fid_from_stats_accepts_rounding_level_negative_eigenvalues():
    # A covariance computed in float32 or accumulated over batches can have eigenvalues a
    # little below 0; they count as 0.
    rng = np.random.default_rng(24)
    feats = correlated_gaussian(rng, 10, 32)  # rank 9: 23 eigenvalues are rounding noise
    sigma = np.cov(feats, rowvar=False).astype(np.float32).astype(np.float64)
    assert np.linalg.eigvalsh(sigma).min() < 0
    value = metrics.frechet_distance_from_stats(feats.mean(0), sigma, feats.mean(0), sigma)
    assert value == pytest.approx(0.0, abs=1e-5)
    nudged = np.diag([4.0, 1.0, -1e-7])  # -2.5e-8 of the largest eigenvalue
    distance = metrics.frechet_distance_from_stats(np.zeros(3), nudged, np.zeros(3), np.eye(3))
    # Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^½) = (5 - 1e-7) + 3 - 2 (2 + 1) = 2 - 1e-7.
    assert distance == pytest.approx(2.0 - 1e-7, abs=1e-12)


# --- Streaming statistics ---------------------------------------------------------------


@pytest.mark.parametrize("offset", [0.0, 1e3])
def test_feature_stats_match_numpy_over_uneven_batches(offset):
    rng = np.random.default_rng(5)
    feats = correlated_gaussian(rng, 503, 32, shift=offset).astype(np.float32)
    stats = metrics.FeatureStats()
    for batch in np.array_split(feats, [1, 64, 65, 300]):
        stats.update(batch)
    reference = feats.astype(np.float64)
    assert stats.count == 503 and stats.feature_dim == 32
    np.testing.assert_allclose(stats.mean, reference.mean(axis=0), rtol=0, atol=1e-10)
    expected_covariance = np.cov(reference, rowvar=False)
    np.testing.assert_allclose(stats.covariance, expected_covariance, rtol=0, atol=1e-10)


def test_feature_stats_merge_and_streaming_fid():
    rng = np.random.default_rng(6)
    real = correlated_gaussian(rng, 400, 16)
    fake = correlated_gaussian(rng, 300, 16, shift=0.25)
    left = metrics.FeatureStats().update(real[:100]).update(real[100:250])
    right = metrics.FeatureStats(feature_dim=16).update(real[250:])
    merged = left.merge(right)
    np.testing.assert_allclose(merged.mean, real.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(merged.covariance, np.cov(real, rowvar=False), atol=1e-12)
    fake_stats = metrics.FeatureStats()
    for batch in np.array_split(fake, 7):
        fake_stats.update(batch)
    streamed = metrics.frechet_distance_from_stats(
        merged.mean, merged.covariance, fake_stats.mean, fake_stats.covariance
    )
    assert streamed == pytest.approx(metrics.frechet_distance(real, fake), rel=1e-9)


def test_feature_stats_errors():
    stats = metrics.FeatureStats()
    with pytest.raises(ValueError, match="count=0"):
        stats.mean
    stats.update(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="at least 2 samples"):
        stats.covariance
    with pytest.raises(ValueError, match="dimension 4"):
        stats.update(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="finite"):
        stats.update(np.full((3, 4), np.nan))


def test_feature_reservoir_keeps_everything_below_capacity():
    feats = np.arange(60, dtype=np.float32).reshape(30, 2)
    reservoir = metrics.FeatureReservoir(capacity=50)
    for batch in np.array_split(feats, 4):
        reservoir.update(batch)
    assert len(reservoir) == 30 and reservoir.count == 30
    np.testing.assert_array_equal(reservoir.features, feats)


def test_feature_reservoir_is_a_uniform_sample():
    n, capacity, trials = 100, 10, 2000
    stream = np.arange(n, dtype=np.float32)[:, None]
    kept_counts = np.zeros(n)
    for seed in range(trials):
        reservoir = metrics.FeatureReservoir(capacity=capacity, seed=seed)
        for batch in np.array_split(stream, 9):
            reservoir.update(batch)
        kept = reservoir.features[:, 0].astype(int)
        assert len(kept) == capacity and len(set(kept)) == capacity
        kept_counts[kept] += 1
    # Each row is kept with probability capacity / n = 0.1: 200 +- 13.4 times in 2000 trials.
    expected = trials * capacity / n
    sigma = np.sqrt(trials * 0.1 * 0.9)
    assert np.all(np.abs(kept_counts - expected) < 5 * sigma)
    # Early and late rows alike (no bias towards the first batches).
    assert abs(kept_counts[: n // 2].mean() - kept_counts[n // 2 :].mean()) < 10


# --- Kernel Inception Distance ----------------------------------------------------------


def brute_force_mmd2(x, y):
    d = x.shape[1]
    m = len(x)

    def k(u, v):
        return (u @ v / d + 1.0) ** 3

    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


def test_kid_equals_brute_force_unbiased_mmd_when_the_subset_is_everything():
    rng = np.random.default_rng(7)
    feats_a = rng.standard_normal((25, 6))
    feats_b = rng.standard_normal((25, 6)) + 0.3
    mean, std = metrics.kernel_inception_distance(feats_a, feats_b, subsets=3, subset_size=100)
    assert mean == pytest.approx(brute_force_mmd2(feats_a, feats_b), rel=1e-10)
    assert std == pytest.approx(0.0, abs=1e-12)  # every subset is the whole set


def test_kid_of_one_distribution_is_within_two_std_of_zero_and_positive_when_shifted():
    rng = np.random.default_rng(8)
    feats_a = rng.standard_normal((600, 32))
    feats_b = rng.standard_normal((600, 32))
    mean, std = metrics.kernel_inception_distance(feats_a, feats_b, subsets=50, subset_size=200)
    assert std > 0.0
    assert abs(mean) <= 2 * std
    shifted_mean, shifted_std = metrics.kernel_inception_distance(
        feats_a, feats_b + 0.5, subsets=50, subset_size=200
    )
    assert shifted_mean > 10 * max(abs(mean), std)
    assert shifted_mean > 5 * shifted_std


def test_kid_is_seeded():
    rng = np.random.default_rng(9)
    feats_a, feats_b = rng.standard_normal((100, 4)), rng.standard_normal((80, 4))
    first = metrics.kernel_inception_distance(feats_a, feats_b, subsets=5, subset_size=30, seed=3)
    again = metrics.kernel_inception_distance(feats_a, feats_b, subsets=5, subset_size=30, seed=3)
    other = metrics.kernel_inception_distance(feats_a, feats_b, subsets=5, subset_size=30, seed=4)
    assert first == again and first != other


# --- Inception Score --------------------------------------------------------------------


@pytest.mark.parametrize("num_classes", [2, 10, 1000])
def test_inception_score_of_uniform_one_hot_is_the_number_of_classes(num_classes):
    probs = np.tile(np.eye(num_classes, dtype=np.float32), (5, 1))  # 5 rows per class
    mean, std = metrics.inception_score(probs, splits=5)
    assert mean == pytest.approx(num_classes, rel=1e-12)
    assert std == pytest.approx(0.0, abs=1e-9)


def test_inception_score_of_identical_rows_is_one():
    logits = np.random.default_rng(10).standard_normal(7)
    row = np.exp(logits) / np.exp(logits).sum()
    mean, std = metrics.inception_score(np.tile(row, (40, 1)), splits=4)
    assert mean == pytest.approx(1.0, abs=1e-12) and std == pytest.approx(0.0, abs=1e-12)


def test_inception_score_matches_its_definition():
    probs = np.random.default_rng(11).dirichlet(np.full(5, 0.3), size=90)
    marginal = probs.mean(axis=0)
    expected = np.exp(np.mean(np.sum(probs * (np.log(probs) - np.log(marginal)), axis=1)))
    mean, std = metrics.inception_score(probs, splits=1)
    assert mean == pytest.approx(expected, rel=1e-10) and std == 0.0
    mean3, _ = metrics.inception_score(probs, splits=3)
    assert 1.0 <= mean3 <= 5.0


def test_inception_score_rejects_logits_and_bad_splits():
    logits = np.random.default_rng(12).standard_normal((20, 4))
    with pytest.raises(ValueError, match="sum to 1"):
        metrics.inception_score(np.abs(logits))
    with pytest.raises(ValueError, match="negative"):
        metrics.inception_score(logits)
    with pytest.raises(ValueError, match="splits"):
        metrics.inception_score(np.full((5, 4), 0.25), splits=10)


# --- Precision and recall ---------------------------------------------------------------


def test_precision_recall_of_identical_sets_is_one():
    feats = np.random.default_rng(13).standard_normal((200, 16))
    assert metrics.precision_recall(feats, feats.copy(), k=3) == (1.0, 1.0)


def test_precision_recall_of_far_apart_sets_is_zero():
    rng = np.random.default_rng(14)
    real = rng.standard_normal((100, 8))
    fake = rng.standard_normal((120, 8)) + 1000.0
    assert metrics.precision_recall(real, fake) == (0.0, 0.0)


def test_precision_recall_half_realistic_fakes():
    rng = np.random.default_rng(15)
    real = rng.standard_normal((200, 8))
    fake = np.concatenate([real[:100], real[:100] + 1000.0])
    precision, recall = metrics.precision_recall(real, fake, k=3)
    assert precision == 0.5
    assert 0.5 <= recall < 1.0


def brute_force_precision_recall(real, fake, k):
    def radii(feats):
        return np.sort(scipy.spatial.distance.cdist(feats, feats), axis=1)[:, k]

    real_radii, fake_radii = radii(real), radii(fake)
    precision = np.mean((scipy.spatial.distance.cdist(fake, real) <= real_radii).any(axis=1))
    recall = np.mean((scipy.spatial.distance.cdist(real, fake) <= fake_radii).any(axis=1))
    return precision, recall


def test_precision_recall_in_small_row_blocks_matches_brute_force(monkeypatch):
    rng = np.random.default_rng(16)
    real = rng.standard_normal((300, 10))
    fake = 1.2 * rng.standard_normal((250, 10)) + 0.4
    expected = brute_force_precision_recall(real, fake, k=5)
    # 8 KiB blocks: 3 or 4 rows at a time instead of all rows at once.
    monkeypatch.setattr(distances, "_DISTANCE_BLOCK_BYTES", 8 * 1024)
    precision, recall = metrics.precision_recall(real, fake, k=5)
    assert 0.0 < precision < 1.0 and 0.0 < recall < 1.0
    assert (precision, recall) == pytest.approx(expected, abs=1e-12)


# --- PSNR and SSIM ----------------------------------------------------------------------


def noisy_pair(rng, shape):
    clean = rng.integers(0, 256, shape, dtype=np.uint8)
    smooth = scipy.ndimage.uniform_filter(clean.astype(float), size=3)
    noisy = np.clip(smooth + rng.normal(0, 12, shape), 0, 255).astype(np.uint8)
    return clean, noisy


def test_psnr_matches_skimage_and_identical_images_give_inf():
    skimage_metrics = pytest.importorskip("skimage.metrics")
    a, b = noisy_pair(np.random.default_rng(17), (4, 24, 20, 3))
    expected = np.mean(
        [skimage_metrics.peak_signal_noise_ratio(x, y, data_range=255) for x, y in zip(a, b)]
    )
    assert metrics.psnr(a, b) == pytest.approx(expected, rel=1e-12)
    assert metrics.psnr(a[0], b[0]) == pytest.approx(
        skimage_metrics.peak_signal_noise_ratio(a[0], b[0], data_range=255), rel=1e-12
    )
    assert metrics.psnr(a, a) == float("inf")


@pytest.mark.parametrize("shape", [(32, 28), (32, 28, 3), (3, 24, 30, 3), (2, 16, 16, 1)])
def test_ssim_matches_skimage(shape):
    skimage_metrics = pytest.importorskip("skimage.metrics")
    a, b = noisy_pair(np.random.default_rng(18), shape)

    def reference(x, y):
        return skimage_metrics.structural_similarity(
            x,
            y,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            data_range=255,
            channel_axis=None if x.ndim == 2 else -1,
        )

    if len(shape) == 4:
        expected = np.mean([reference(x, y) for x, y in zip(a, b)])
    else:
        expected = reference(a, b)
    assert metrics.ssim(a, b) == pytest.approx(expected, abs=1e-6)
    assert metrics.ssim(a, a) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("metric", [metrics.psnr, metrics.ssim])
def test_image_metrics_refuse_images_whose_range_they_cannot_know(metric):
    name = metric.__name__
    rng = np.random.default_rng(25)
    generated = rng.uniform(-1, 1, (2, 16, 16, 3)).astype(np.float32)  # a generator's output
    target = np.clip(generated + rng.normal(0, 0.05, generated.shape), -1, 1).astype(np.float32)
    with pytest.raises(ValueError) as info:
        metric(generated, target)  # PSNR gave 88 dB here, as if the range were 255
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{name}() takes uint8 images, or other images in [0, max_value]")
    assert "dtype=float32, values in [-1, 1]" in message
    outside = r"in \[0, max_value\] = \[0, 1\];.*dtype=float32, values in \[-1, 1\]"
    with pytest.raises(ValueError, match=outside):
        metric(generated, target, max_value=1.0)
    with pytest.raises(ValueError, match=r"\[0, 100\].*dtype=uint8, values in \[0, 2\d\d\]"):
        metric(_imaging.to_uint8(generated), _imaging.to_uint8(target), max_value=100)
    for bad in (0, -1.0, True, "255", float("nan")):
        with pytest.raises(ValueError, match="`max_value` must be a positive number"):
            metric((generated + 1) / 2, (target + 1) / 2, max_value=bad)


@pytest.mark.parametrize("metric", [metrics.psnr, metrics.ssim])
def test_image_metrics_on_floats_with_their_range_equal_the_uint8_values(metric):
    a, b = noisy_pair(np.random.default_rng(26), (2, 16, 16, 3))
    expected = metric(a, b)
    assert metric(a / 255.0, b / 255.0, max_value=1.0) == pytest.approx(expected, rel=1e-9)
    assert metric(a.astype(np.uint16) * 257, b.astype(np.uint16) * 257, max_value=65535) == (
        pytest.approx(expected, rel=1e-9)
    )
    assert metric(a, b, max_value=255) == expected


def test_image_metrics_reject_bad_shapes():
    a = np.zeros((16, 16, 3), np.uint8)
    with pytest.raises(ValueError, match="same shape"):
        metrics.psnr(a, a[:8])
    with pytest.raises(ValueError, match=r"Received: shape=\(1, 2, 3, 4, 5\)"):
        metrics.ssim(np.zeros((1, 2, 3, 4, 5)), np.zeros((1, 2, 3, 4, 5)))
    with pytest.raises(ValueError, match="at least 11x11"):
        metrics.ssim(a[:8, :8], a[:8, :8])


# --- Input validation -------------------------------------------------------------------


GOOD = np.random.default_rng(19).standard_normal((10, 4))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: metrics.frechet_distance(GOOD[0], GOOD), r"2-D array .*Received: shape=\(4,\)"),
        (lambda: metrics.frechet_distance(GOOD, GOOD[:, :3]), r"same feature dimension"),
        (lambda: metrics.frechet_distance(GOOD[:1], GOOD), r"at least 2 samples"),
        (lambda: metrics.frechet_distance(np.where(GOOD > 1, np.nan, GOOD), GOOD), r"NaN"),
        (
            lambda: metrics.frechet_distance_from_stats(
                np.zeros(3), np.eye(3), np.zeros(4), np.eye(4)
            ),
            r"one feature dimension",
        ),
        (
            lambda: metrics.frechet_distance_from_stats(
                np.zeros(2), np.array([[1.0, 0.5], [0.0, 1.0]]), np.zeros(2), np.eye(2)
            ),
            r"symmetric",
        ),
        (lambda: metrics.kernel_inception_distance(GOOD[:1], GOOD), r"at least 2 samples"),
        (lambda: metrics.kernel_inception_distance(GOOD, GOOD, subset_size=1), r"subset_size"),
        (lambda: metrics.kernel_inception_distance(GOOD, GOOD, subsets=0), r"subsets"),
        (lambda: metrics.precision_recall(GOOD, GOOD, k=10), r"k=10, shape=\(10, 4\)"),
        (lambda: metrics.precision_recall(GOOD, GOOD[:3], k=3), r"fake_feats"),
        (lambda: metrics.inception_score(GOOD[None]), r"Received: shape=\(1, 10, 4\)"),
    ],
)
def test_bad_inputs_raise_one_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- Feature extractors -----------------------------------------------------------------


def test_importing_metrics_does_not_import_tensorflow():
    result = run_python(
        "import ganzoo.metrics, sys; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    assert result.returncode == 0, result.stderr


def test_unknown_extractor_lists_the_names():
    assert {"inception_v3", "digits"} <= set(metrics.list_extractors())
    with pytest.raises(ValueError, match=r"digits.*inception_v3.*Received: name='vgg'"):
        metrics.get_extractor("vgg")


def test_inception_without_cached_weights_fails_fast_naming_cache_and_option(tmp_path):
    # A fresh KERAS_HOME has an empty cache; the error must come before TF is imported
    # (so before any download attempt).
    code = (
        "import sys\n"
        "from ganzoo.metrics import get_extractor\n"
        "try:\n"
        "    get_extractor('inception_v3')\n"
        "except FileNotFoundError as error:\n"
        "    print(error)\n"
        "    assert 'tensorflow' not in sys.modules\n"
        "else:\n"
        "    raise SystemExit('no error')\n"
    )
    result = run_python(code, env={"KERAS_HOME": str(tmp_path), "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    message = result.stdout.strip()
    assert "\n" not in message
    expected_path = os.path.join(
        str(tmp_path), "models", "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
    )
    assert expected_path in message
    assert "--inception-weights PATH" in message


def test_inception_weights_path_that_does_not_exist_or_is_not_hdf5(tmp_path):
    missing = tmp_path / "nowhere.h5"
    with pytest.raises(FileNotFoundError, match="nowhere.h5"):
        metrics.get_extractor("inception_v3", weights=str(missing))
    not_weights = tmp_path / "notes.h5"
    not_weights.write_text("not weights")
    with pytest.raises(ValueError, match="notes.h5"):
        metrics.get_extractor("inception_v3", weights=str(not_weights))


@pytest.fixture(scope="module")
def random_inception():
    return metrics.get_extractor("inception_v3", weights=metrics.RANDOM_WEIGHTS, batch_size=4)


def test_random_inception_gives_pool3_features_and_probabilities(random_inception):
    extractor = random_inception
    assert extractor.name == "inception_v3"
    assert extractor.input_size == (299, 299)
    assert extractor.feature_dim == 2048 and extractor.num_classes == 1000
    images = np.random.default_rng(20).integers(0, 256, (5, 32, 32, 3), dtype=np.uint8)
    features = extractor(images)  # 5 images in batches of 4: the last batch is partial
    assert features.shape == (5, 2048) and features.dtype == np.float32
    assert np.all(np.isfinite(features))
    assert features.std(axis=0).max() > 0.0  # different images, different features
    both_features, probs = extractor.features_and_probabilities(images)
    np.testing.assert_allclose(both_features, features, rtol=1e-5, atol=1e-6)
    assert probs.shape == (5, 1000) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(
        extractor.probabilities(images[:2]), probs[:2], rtol=1e-4, atol=1e-7
    )


def test_inception_repeats_grayscale_and_checks_images(random_inception):
    gray = np.random.default_rng(21).integers(0, 256, (2, 40, 40, 1), dtype=np.uint8)
    np.testing.assert_allclose(
        random_inception(gray), random_inception(np.repeat(gray, 3, axis=-1)), rtol=1e-5, atol=1e-6
    )
    with pytest.raises(ValueError, match="uint8"):
        random_inception(gray.astype(np.float32))
    with pytest.raises(ValueError, match=r"Received: shape=\(40, 40, 3\)"):
        random_inception(np.zeros((40, 40, 3), np.uint8))


def test_inception_loads_weights_from_a_path(tmp_path):
    import keras

    reference = keras.applications.InceptionV3(
        include_top=True, weights=None, classifier_activation=None
    )
    path = str(tmp_path / "inception.weights.h5")
    reference.save_weights(path)
    extractor = metrics.get_extractor("inception_v3", weights=path)
    assert extractor.num_classes == 1000 and extractor.weights == path

    images = np.random.default_rng(22).integers(0, 256, (2, 48, 40, 3), dtype=np.uint8)
    features, probs = extractor.features_and_probabilities(images)
    # Independent preprocessing: bilinear resize to 299x299, then [0, 255] -> [-1, 1].
    pixels = keras.ops.image.resize(images.astype("float32"), (299, 299), interpolation="bilinear")
    pixels = keras.ops.convert_to_numpy(pixels) / 127.5 - 1.0
    pool3 = keras.Model(reference.input, reference.get_layer("avg_pool").output)
    expected_features = keras.ops.convert_to_numpy(pool3(pixels, training=False))
    expected_logits = keras.ops.convert_to_numpy(reference(pixels, training=False))
    np.testing.assert_allclose(features, expected_features, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        probs, keras.ops.convert_to_numpy(keras.ops.softmax(expected_logits)), atol=1e-6
    )


def test_inception_finds_notop_weights_in_the_keras_cache(tmp_path, monkeypatch):
    import h5py
    import keras

    legacy_h5_format = pytest.importorskip("keras.src.legacy.saving.legacy_h5_format")
    # Keras' cached `..._notop.h5`, in its legacy .h5 layout, in a fresh KERAS_HOME.
    notop = keras.applications.InceptionV3(include_top=False, weights=None, pooling="avg")
    cache = tmp_path / "models"
    cache.mkdir()
    path = str(cache / "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5")
    with h5py.File(path, "w") as weights_file:
        legacy_h5_format.save_weights_to_hdf5_group(weights_file, notop)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    extractor = metrics.get_extractor("inception_v3")
    assert extractor.weights == path and extractor.num_classes is None
    images = np.random.default_rng(23).integers(0, 256, (1, 299, 299, 3), dtype=np.uint8)
    expected = notop(images.astype("float32") / 127.5 - 1.0, training=False)
    np.testing.assert_allclose(
        extractor(images), keras.ops.convert_to_numpy(expected), rtol=1e-4, atol=1e-5
    )
    with pytest.raises(ValueError, match="classifier"):
        extractor.probabilities(images)
