"""The digits classifier, class accuracy, streaming `evaluate` and `ganzoo evaluate`."""

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

import ganzoo
from ganzoo import cli, metrics, presets
from ganzoo.metrics import digits, evaluation

FAST = dict(features="digits", batch_size=32, progress=False)


@pytest.fixture(scope="module")
def extractor():
    return digits.build_extractor()


@pytest.fixture(scope="module")
def tiny_dcgan():
    import keras

    keras.utils.set_random_seed(0)
    return ganzoo.models.DCGAN(image_shape=(16, 16, 1), latent_dim=8, generator_filters=8,
                               discriminator_filters=8, seed=0)


class NoiseGenerator:
    """Uniform noise pictures: what any trained generator should beat."""

    image_shape = (32, 32, 1)

    def sample(self, n, seed=None, labels=None):
        return np.random.default_rng(seed).integers(0, 256, (n, 32, 32, 1), dtype=np.uint8)


class RealDigitsByClass:
    """A 'conditional generator' that returns real test digits of the asked class."""

    num_classes = 10

    def __init__(self):
        self.images, self.labels = ganzoo.data.digits_arrays("test")

    def sample(self, n, seed=None, labels=None):
        rng = np.random.default_rng(seed)
        picks = [rng.choice(np.flatnonzero(self.labels == label)) for label in labels]
        return self.images[picks][..., None]


# -- the digits classifier ---------------------------------------------------------------


def test_digits_classifier_reaches_97_percent_on_the_test_split(extractor):
    images, labels = ganzoo.data.digits_arrays("test")
    probabilities = extractor.probabilities(images[..., None])
    assert probabilities.shape == (360, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    accuracy = metrics.class_accuracy(probabilities, labels)
    assert accuracy >= 0.97
    # The card states the same number, measured the same way by the recipe.
    config = digits.read_config(digits.CLASSIFIER_DIR)
    assert config["training"]["test_accuracy"] == pytest.approx(accuracy, abs=1 / 360)


def test_digits_extractor_takes_any_size_and_rgb(extractor):
    images, _ = ganzoo.data.digits_arrays("test")
    grey = images[:8, ..., None]
    features = extractor(grey)
    assert features.shape == (8, extractor.feature_dim) and features.dtype == np.float32
    rgb = np.repeat(grey, 3, axis=-1)
    np.testing.assert_allclose(extractor(rgb), features, rtol=1e-3, atol=1e-3)
    assert extractor(np.zeros((3, 64, 48, 1), np.uint8)).shape == (3, 128)
    with pytest.raises(ValueError, match="uint8"):
        extractor(grey.astype(np.float32))


def test_classifier_is_not_listed_as_a_gan_preset():
    assert digits.CLASSIFIER_DIR.name not in presets.list_presets()


def test_classifier_weights_are_verified_before_loading(tmp_path):
    folder = tmp_path / "classifier"
    shutil.copytree(digits.CLASSIFIER_DIR, folder)
    weights = folder / digits.WEIGHTS_FILE
    content = bytearray(weights.read_bytes())
    content[-100] ^= 0xFF
    weights.write_bytes(bytes(content))
    with pytest.raises(ValueError, match="Checksum mismatch"):
        digits.build_extractor(weights=folder)
    with pytest.raises(FileNotFoundError, match="digits classifier folder"):
        digits.build_extractor(weights=tmp_path / "nothing")


# -- class accuracy on arrays -------------------------------------------------------------


def test_class_accuracy_on_arrays():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    assert metrics.class_accuracy(probs, [0, 1, 1, 1]) == 0.75
    assert metrics.class_accuracy(np.eye(10), np.arange(10)) == 1.0
    with pytest.raises(ValueError, match="one label per row"):
        metrics.class_accuracy(probs, [0, 1])
    with pytest.raises(ValueError, match=r"labels in \[0, 1\]"):
        metrics.class_accuracy(probs, [0, 1, 2, 1])
    with pytest.raises(ValueError, match="integer labels"):
        metrics.class_accuracy(probs, [0.0, 1.0, 1.0, 1.0])


def test_streaming_class_accuracy_of_a_conditional_source(extractor):
    results = metrics.evaluate(RealDigitsByClass(), "digits", metrics="acc,is", n=200,
                               **dict(FAST, features=extractor))
    assert results["class_accuracy"] >= 0.95
    assert results["is"] > 8.0  # confident and balanced over ten classes
    with pytest.raises(ValueError, match="needs a conditional generator"):
        metrics.evaluate(NoiseGenerator(), "digits", metrics="acc", n=10,
                         **dict(FAST, features=extractor))


# -- streaming evaluate ---------------------------------------------------------------------


def test_evaluate_a_tiny_dcgan_is_finite_and_deterministic(tiny_dcgan, extractor):
    options = dict(FAST, features=extractor, n=96, seed=3)
    first = metrics.evaluate(tiny_dcgan, "digits", **options)
    for key in ("fid", "kid", "kid_std", "is", "is_std", "precision", "recall"):
        assert np.isfinite(first[key]), key
    assert first["n"] == 96 and first["n_data"] == 96 and first["features"] == "digits"
    assert metrics.evaluate(tiny_dcgan, "digits", **options) == first
    other_seed = metrics.evaluate(tiny_dcgan, "digits", **dict(options, seed=4))
    assert other_seed["fid"] != first["fid"]


def test_evaluate_a_bundle_equals_evaluate_the_model(tiny_dcgan, extractor, tmp_path):
    ganzoo.export.to_onnx(tiny_dcgan, tmp_path / "onnx")
    options = dict(FAST, features=extractor, n=80, metrics="fid,kid,is,pr")
    from_model = metrics.evaluate(tiny_dcgan, "digits", **options)
    from_bundle = metrics.evaluate(str(tmp_path / "onnx"), "digits", **options)
    assert "bundle" in from_bundle["source"]
    for key in ("fid", "kid", "is", "precision", "recall"):
        assert from_bundle[key] == pytest.approx(from_model[key], rel=1e-3, abs=1e-6), key
    # A plain Keras generator with the same latents gives the same numbers too.
    from_keras = metrics.evaluate(tiny_dcgan.generator, "digits", **options)
    assert from_keras["fid"] == pytest.approx(from_model["fid"], rel=1e-6)


def test_real_vs_real_fid_is_far_below_noise(extractor):
    options = dict(FAST, features=extractor, metrics="fid", n=400)
    real = metrics.evaluate("digits", "digits:test", **options)
    noise = metrics.evaluate(NoiseGenerator(), "digits", split="test", **options)
    assert (real["n"], real["n_data"]) == (400, 360)
    assert real["data"] == "digits:test" and noise["data"] == "digits:test"
    assert real["fid"] * 20 < noise["fid"]


def test_streaming_equals_one_shot(extractor):
    streamed = metrics.evaluate("digits:train", "digits", split="test", batch_size=50,
                                features=extractor, progress=False, n=5000, kid_subset_size=200)
    train_images, _ = ganzoo.data.digits_arrays("train")
    test_images, _ = ganzoo.data.digits_arrays("test")
    fake_feats, fake_probs = extractor.features_and_probabilities(train_images[..., None])
    real_feats = extractor(test_images[..., None])
    assert (streamed["n"], streamed["n_data"]) == (1437, 360)
    assert streamed["fid"] == pytest.approx(
        metrics.frechet_distance(real_feats, fake_feats), rel=1e-4)
    kid = metrics.kernel_inception_distance(real_feats, fake_feats, subset_size=200, seed=0)
    assert (streamed["kid"], streamed["kid_std"]) == pytest.approx(kid, rel=1e-5)
    assert (streamed["is"], streamed["is_std"]) == pytest.approx(
        metrics.inception_score(fake_probs, splits=10), rel=1e-6)
    assert (streamed["precision"], streamed["recall"]) == pytest.approx(
        metrics.precision_recall(real_feats, fake_feats, k=3))


def test_inception_splits_match_the_array_function():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.full(7, 0.3), size=103)
    accumulator = evaluation._InceptionSplits(len(probs), 10)
    for part in np.array_split(probs, [5, 6, 40, 41, 99]):
        accumulator.update(part)
    assert accumulator.score() == pytest.approx(metrics.inception_score(probs, splits=10))


def test_data_specs():
    assert evaluation.parse_data_spec("digits:test") == ("digits", "test")
    assert evaluation.parse_data_spec("digits", "test") == ("digits", "test")
    assert evaluation.parse_data_spec("mnist:3.0.1") == ("mnist:3.0.1", "train")
    assert evaluation.parse_data_spec("mnist:train[:10%]") == ("mnist", "train[:10%]")
    assert evaluation.parse_data_spec("mnist:3.0.1:test") == ("mnist:3.0.1", "test")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(metrics="fid,nope"), "Unknown metric 'nope'"),
        (dict(features="vgg"), "Unknown feature extractor"),
        (dict(n=1), "`n` must be an integer >= 2"),
        (dict(metrics="psnr"), "psnr compares a generated image with its target"),
        (dict(features="digits", inception_weights="x.h5"), "applies to --features inception_v3"),
    ],
)
def test_evaluate_rejects_bad_arguments(kwargs, message):
    options = dict(features="digits", n=8, progress=False)
    options.update(kwargs)
    with pytest.raises(ValueError, match=message):
        metrics.evaluate(NoiseGenerator(), "digits", **options)


# -- ganzoo evaluate ---------------------------------------------------------------------------


def run_cli(*args):
    return CliRunner().invoke(cli.main, ["evaluate", *map(str, args)])


def test_cli_evaluate_prints_a_table_and_writes_json(tmp_path):
    out = tmp_path / "results.json"
    result = run_cli("digits", "--data", "digits", "--split", "test", "--features", "digits",
                     "-n", "300", "--json", out)
    assert result.exit_code == 0, result.output
    for label in ("FID", "KID", "IS", "precision", "recall", "digits:train (300 images)",
                  "digits:test (300 images)"):
        assert label in result.stdout
    saved = json.loads(out.read_text())
    assert saved["n"] == 300 and saved["features"] == "digits" and saved["fid"] >= 0
    refused = run_cli("digits", "--data", "digits", "--features", "digits", "-n", "300",
                      "--json", out)
    assert refused.exit_code == 2
    assert refused.stderr.strip().splitlines() == [
        f"ganzoo: error: {out} already exists; pass --overwrite to replace it"]
    assert json.loads(out.read_text()) == saved


def test_precision_recall_with_too_few_images_is_refused_before_any_work():
    result = run_cli("digits", "--data", "digits", "--features", "digits", "-n", "2",
                     "--metrics", "pr")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "ganzoo: error: precision and recall compare each image with its 3 nearest "
        "neighbours: -n must be above 3. Received: -n 2"]


def test_the_unknown_metric_message_lists_every_metric():
    with pytest.raises(ValueError) as error:
        metrics.evaluation.parse_metrics("fid,nope")
    for name in ("fid", "kid", "is", "pr", "acc", "psnr", "ssim"):
        assert f" {name}" in str(error.value).split("Expected some of")[1].split(".")[0]


def test_cli_evaluate_json_dash_writes_json_alone_on_stdout(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_cli("digits", "--data", "digits", "--split", "test", "--features", "digits",
                     "-n", "100", "--metrics", "fid", "--json", "-")
    assert result.exit_code == 0, result.output
    # stdout is the JSON and nothing else (the table went to stderr); no file named "-".
    assert json.loads(result.stdout)["fid"] >= 0
    assert "FID" in result.stderr
    assert not (tmp_path / "-").exists()


@pytest.fixture(scope="module")
def tiny_preset(tiny_dcgan, tmp_path_factory):
    return tiny_dcgan.save_to_preset(tmp_path_factory.mktemp("evaluate") / "tiny")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--metrics", "fid,bogus"], "Unknown metric 'bogus'"),
        (["--features", "vgg"], "Unknown feature extractor"),
        (["-n", "1"], "`n` must be an integer >= 2"),
        (["--metrics", "psnr"], "psnr compares a generated image with its target"),
        (["--features", "inception_v3", "--inception-weights", "missing.h5"],
         "InceptionV3 weights file not found"),
    ],
)
def test_cli_evaluate_errors_are_one_line(tiny_preset, args, message):
    full = [tiny_preset, "--data", "digits", "--features", "digits", "-n", "8", *args]
    result = run_cli(*full)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ganzoo: error: ") and message in lines[0]


def test_cli_evaluate_unknown_source():
    result = run_cli("nowhere", "--data", "digits", "--features", "digits", "-n", "8")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Unknown preset 'nowhere': not a preset name" in lines[0]
    assert "nor a dataset: " in lines[0]


def test_cli_evaluate_needs_data():
    result = run_cli("digits", "--features", "digits")
    assert result.exit_code == 2 and "needs --data" in result.stderr
