"""Perceptual path length (ganzoo.metrics.path_length): the paper's formula on hand-made
renderers, the percentile filter, and the measurement of a StyleGAN-lite model against a
direct computation with the same seeded draws (z0, z1, then t for "full", then the noise)."""

import numpy as np
import pytest

from ganzoo import metrics, models
from ganzoo.metrics import path_length
from ganzoo.metrics.evaluation import format_results

from cli_helpers import assert_one_line_error, ganzoo_cli_inprocess

TINY = dict(image_shape=(16, 16, 1), latent_dim=8, style_dim=8, mapping_layers=2,
            channel_base=64, channel_max=8, seed=0)


def test_distances_of_a_linear_renderer_are_the_squared_step_over_epsilon_squared():
    """render(x) = x A, features the pixels: |(x(t + e) - x(t)) A|^2 / e^2 = |(b - a) A|^2
    for linear interpolation, whatever t."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 5, 3))
    matrix = rng.standard_normal((3, 12))

    def render(points, index):
        assert list(index) == list(range(5))
        return (points @ matrix).reshape(5, 2, 2, 3)

    found = path_length.distances(render, lambda x: x.reshape(len(x), -1), a, b,
                                  t=rng.uniform(0, 1, 5), epsilon=1e-3)
    np.testing.assert_allclose(found, np.sum(((b - a) @ matrix) ** 2, axis=1), rtol=1e-6)


def test_the_filter_drops_the_lowest_and_highest_percent():
    values = np.concatenate([np.arange(1000.0), [1e9]])
    # Of 1,001 values the 1st percentile (lower) is 10 and the 99th (higher) is 990.
    assert path_length.filtered_mean(values) == pytest.approx(np.mean(np.arange(10, 991)))
    assert path_length.filtered_mean([3.0, 1.0, 2.0, 6.0]) == pytest.approx(3.0)


def test_slerp_runs_on_the_unit_sphere_from_a_to_b():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 4, 6))
    unit = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)  # noqa: E731
    np.testing.assert_allclose(path_length.slerp(a, b, np.zeros(4)), unit(a), atol=1e-12)
    np.testing.assert_allclose(path_length.slerp(a, b, np.ones(4)), unit(b), atol=1e-12)
    middle = path_length.slerp(a, b, np.full(4, 0.5))
    np.testing.assert_allclose(np.sum(middle * unit(a), 1), np.sum(middle * unit(b), 1),
                               atol=1e-12)


def _direct_ppl(gan, extractor, n, seed, space, sampling, epsilon=1e-4):
    """PPL written out with the model's networks, drawing what the metric draws."""
    mapping, _, synthesis = gan.parts(gan.inference_generator())
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((2, n, gan.latent_dim)).astype(np.float32)
    t = rng.uniform(0.0, 1.0, n) if sampling == "full" else np.zeros(n)
    noise = [rng.standard_normal((n, *tensor.shape[1:])).astype(np.float32)
             for tensor in synthesis.inputs[1:]]

    def image(w):
        styles = np.repeat(np.asarray(w, np.float32)[:, None], gan.num_styles, axis=1)
        return np.asarray(synthesis([styles, *noise]))

    if space == "w":
        w0, w1 = (np.asarray(mapping(side), np.float64) for side in z)
        pairs = [image(w0 + (w1 - w0) * s[:, None]) for s in (t, t + epsilon)]
    else:
        a, b = (side / np.linalg.norm(side, axis=1, keepdims=True) for side in
                z.astype(np.float64))
        pairs = []
        for s in (t, t + epsilon):
            angle = np.arccos(np.clip(np.sum(a * b, 1), -1, 1))[:, None] * s[:, None]
            c = b - np.sum(a * b, 1, keepdims=True) * a
            c /= np.linalg.norm(c, axis=1, keepdims=True)
            pairs.append(image(np.asarray(mapping((a * np.cos(angle) + c * np.sin(angle))
                                                  .astype(np.float32)))))
    first, second = (extractor.float_features(images).astype(np.float64) for images in pairs)
    # With 4 pairs the 1st and 99th percentiles are the smallest and largest: all kept.
    return float(np.mean(np.sum((first - second) ** 2, axis=1) / epsilon**2))


@pytest.mark.parametrize("space,sampling", [("w", "end"), ("z", "full")])
def test_ppl_of_a_model_is_the_mean_scaled_feature_distance(space, sampling):
    gan = models.StyleGANLite(**TINY)
    for weight in gan.generator_ema.weights:  # noise shows (strengths start at zero)
        if weight.path.endswith("noise/strength"):
            weight.assign(0.5)
    extractor = metrics.get_extractor("digits")
    found = path_length.perceptual_path_length(gan, extractor, n=4, seed=3, space=space,
                                               sampling=sampling, batch_size=4)
    want = _direct_ppl(gan, extractor, 4, 3, space, sampling)
    assert want > 0
    assert found["ppl"] == pytest.approx(want, rel=2e-3)
    assert (found["ppl_space"], found["ppl_sampling"], found["ppl_n"]) == (space, sampling, 4)
    # Batches do not change the draws' meaning, only their grouping: same seed, same value.
    again = path_length.perceptual_path_length(gan, extractor, n=4, seed=3, space=space,
                                               sampling=sampling, batch_size=4)
    assert again["ppl"] == found["ppl"]


def test_bad_ppl_requests_are_one_line():
    extractor = metrics.get_extractor("digits")
    gan = models.StyleGANLite(**TINY)
    dcgan = models.DCGAN(image_shape=(16, 16, 1), latent_dim=8, seed=0)
    for call, message in [
        (lambda: path_length.perceptual_path_length(dcgan, extractor, n=4),
         "needs a generator with a w space"),
        (lambda: path_length.perceptual_path_length(gan, extractor, n=4, space="x"),
         "space must be one of"),
        (lambda: path_length.perceptual_path_length(gan, extractor, n=4, sampling="mid"),
         "sampling must be one of"),
        (lambda: path_length.perceptual_path_length(gan, extractor, n=1), "n >= 2"),
        (lambda: path_length.perceptual_path_length(gan, extractor, n=4, epsilon=0),
         "epsilon must be a positive number"),
        (lambda: extractor.float_features(np.zeros((2, 8, 8), "float32")),
         r"float images \(N, H, W, 1 or 3\)"),
    ]:
        with pytest.raises(ValueError, match=message) as error:
            call()
        assert "\n" not in str(error.value)


def test_evaluate_measures_ppl_without_data_and_the_cli_prints_it(tmp_path):
    gan = models.StyleGANLite(**TINY)
    folder = gan.save_to_preset(tmp_path / "tiny")
    results = metrics.evaluate(str(folder), None, metrics="ppl", features="digits", n=6,
                               progress=False)
    assert results["ppl"] > 0 and results["data"] is None
    assert "PPL" in format_results(results)
    result = ganzoo_cli_inprocess(["evaluate", folder, "--metrics", "ppl", "--features",
                                   "digits", "-n", "6"])
    assert result.exit_code == 0, result.output
    assert f"{results['ppl']:.4f}" in result.output
    result = ganzoo_cli_inprocess(["evaluate", folder, "--metrics", "fid", "--features",
                                   "digits", "-n", "6"])
    assert_one_line_error(result, "evaluate needs --data")
