"""Projection (`ganzoo.projection`, `ganzoo project`): the authors' schedules and noise
regulariser by hand, tiny generators' own samples found again, the class search, what is
written and read back, and bad input in one line."""

import json
import math
import warnings

import numpy as np
import pytest
import tensorflow as tf

from ganzoo import models, projection
from tests.cli_helpers import assert_one_line_error, ganzoo_cli_inprocess
from tests.sampling_helpers import varied_dcgan_and_bundle


def _varied_dcgan():
    """A tiny DCGAN whose pictures differ by latent (weights far from their start)."""
    gan = models.DCGAN(image_shape=(16, 16, 1), latent_dim=8, generator_filters=4,
                       discriminator_filters=4, seed=0)
    rng = np.random.default_rng(0)
    for weight in gan.generator.trainable_weights:
        weight.assign(rng.normal(0, 0.5, weight.shape).astype("float32"))
    return gan


def _varied_stylegan():
    """A tiny StyleGAN-lite whose noise shows (strengths 0.5; they start at zero)."""
    gan = models.StyleGANLite(image_shape=(16, 16, 1), latent_dim=8, style_dim=8,
                              mapping_layers=2, channel_base=64, channel_max=8, seed=0)
    for weight in gan.generator_ema.weights:
        if "noise" in weight.path:
            weight.assign(np.full(weight.shape, 0.5, "float32"))
    return gan


def test_the_learning_rate_and_latent_noise_follow_the_authors_ramps():
    # 0.1 x linear ramp-up over the first 5 % x cosine ramp-down over the last 25 %.
    assert projection.learning_rate(0.0) == 0.0
    assert projection.learning_rate(0.025) == pytest.approx(0.05)
    assert projection.learning_rate(0.5) == pytest.approx(0.1)
    assert projection.learning_rate(0.875) == pytest.approx(0.1 * (0.5 - 0.5 * math.cos(
        0.5 * math.pi)))
    assert projection.learning_rate(0.9375) == pytest.approx(0.1 * (0.5 - 0.5 * math.cos(
        0.25 * math.pi)))
    assert projection.learning_rate(1.0) == 0.0
    # spread x 0.05 x max(0, 1 - t / 0.75)^2.
    assert projection.latent_noise_scale(0.0, 8.0) == pytest.approx(0.4)
    assert projection.latent_noise_scale(0.375, 8.0) == pytest.approx(0.4 * 0.25)
    assert projection.latent_noise_scale(0.75, 8.0) == 0.0
    assert projection.latent_noise_scale(0.9, 8.0) == 0.0


def test_the_noise_regulariser_is_the_multiscale_autocorrelation_by_hand():
    rng = np.random.default_rng(1)
    maps = [rng.standard_normal((2, 4, 4, 1)).astype("float32"),
            rng.standard_normal((2, 16, 16, 1)).astype("float32")]

    def by_hand(x):
        total = 0.0
        while True:
            total += np.mean(x * np.roll(x, 1, axis=1)) ** 2  # along the width
            total += np.mean(x * np.roll(x, 1, axis=0)) ** 2  # along the height
            if x.shape[0] <= 8:
                return total
            x = x.reshape(x.shape[0] // 2, 2, x.shape[1] // 2, 2).mean(axis=(1, 3))

    expected = [sum(by_hand(m[i, ..., 0]) for m in maps) for i in range(2)]
    found = projection.noise_regularization([tf.constant(m) for m in maps]).numpy()
    np.testing.assert_allclose(found, expected, rtol=1e-5)

    normalized = projection.normalize_noise(tf.constant(maps[1] * 3 + 2)).numpy()
    np.testing.assert_allclose(normalized.mean(axis=(1, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose((normalized ** 2).mean(axis=(1, 2, 3)), 1, rtol=1e-5)


def test_a_dcgan_sample_is_found_again_from_the_mean_latent(tmp_path):
    gan = _varied_dcgan()
    targets = gan.sample(2, seed=5)
    start = gan.sample(latents=np.zeros((1, 8), np.float32))
    result = projection.project(gan, targets, steps=80, distance="pixels")
    assert result.space == "z" and result.distance == "pixels" and result.images.shape == (
        2, 16, 16, 1)
    assert result.latents.shape == (2, 8) and result.styles is None and result.noise is None
    # The search moved far from where it began, to pictures close to the targets.
    np.testing.assert_array_equal(gan.sample(latents=result.latents), result.images)
    from ganzoo.metrics import psnr

    assert all(psnr(target, start[0]) < 20 for target in targets)
    assert result.psnr.min() > 30, result.psnr
    # Written once; an existing folder is replaced only with overwrite=True.
    folder = projection.write(result, tmp_path / "found")
    with pytest.raises(FileExistsError, match="already exists"):
        projection.write(result, folder)
    projection.write(result, folder, overwrite=True)
    np.testing.assert_array_equal(projection.render(gan, f"{folder}/latent.npz"), result.images)


@pytest.mark.parametrize("space, steps", [("w", 40), ("w+", 10)])
def test_a_stylegan_projection_in_w_and_w_plus_renders_again_from_its_folder(tmp_path, space,
                                                                            steps):
    # The shipped preset: a tiny untrained StyleGAN-lite draws far outside [-1, 1].
    gan = models.load("stylegan_lite-digits")
    targets = gan.sample(2, seed=3)
    result = projection.project(gan, targets, steps=steps, distance="pixels", space=space)
    shape = (2, 64) if space == "w" else (2, gan.num_styles, 64)
    assert result.styles.shape == shape and result.latents is None
    assert [m.shape for m in result.noise] == [(2, r, r, 1) for r in (4, 8, 8, 16, 16, 32, 32)]
    for noise in result.noise:  # renormalised after every step
        np.testing.assert_allclose(noise.mean(axis=(1, 2, 3)), 0, atol=1e-4)
        np.testing.assert_allclose((noise ** 2).mean(axis=(1, 2, 3)), 1, rtol=1e-4)
    if space == "w":
        assert result.psnr.min() > 22, result.psnr
    folder = projection.write(result, tmp_path / "found")
    with np.load(f"{folder}/latent.npz") as stored:
        assert sorted(stored.files) == sorted(
            ["w_plus" if space == "w+" else "w"] + [f"noise_{k}" for k in range(7)])
    np.testing.assert_array_equal(projection.render(gan, f"{folder}/latent.npz"),
                                  result.images)


def test_a_stylegan_projection_in_z_draws_with_the_noise_of_its_seed():
    gan = _varied_stylegan()
    targets = gan.sample(2, seed=3)
    result = projection.project(gan, targets, steps=40, distance="pixels", space="z", seed=7)
    assert sorted(result.arrays()) == ["latent"] + [f"noise_{k}" for k in range(5)]
    # What `ganzoo sample --latents latent.npz --seed 7` draws.
    np.testing.assert_array_equal(gan.sample(latents=result.latents, seed=7), result.images)
    np.testing.assert_array_equal(projection.render(gan, result), result.images)


def test_a_conditional_projection_searches_every_class_and_keeps_the_best():
    cgan = models.load("cgan-digits")
    targets = cgan.sample(2, seed=4, labels=[3, 7])
    searched = projection.project(cgan, targets, steps=40, distance="pixels")
    assert searched.labels.tolist() == [3, 7]
    assert searched.latents.shape == (2, 64)
    np.testing.assert_array_equal(cgan.sample(latents=searched.latents, labels=searched.labels),
                                  searched.images)
    given = projection.project(cgan, targets, steps=5, labels=1, distance="pixels")
    assert given.labels.tolist() == [1, 1]


def test_targets_of_another_size_or_channels_are_converted_with_a_notice(tmp_path):
    from PIL import Image

    rgb = np.zeros((40, 24, 3), np.uint8)
    rgb[10:30, 8:16] = (200, 100, 50)
    path = tmp_path / "target.png"
    Image.fromarray(rgb).save(path)
    targets, notices = projection.prepare_target(path, (16, 16, 1))
    assert targets.shape == (1, 16, 16, 1) and targets.dtype == np.uint8
    assert len(notices) == 2 and "turned grey" in notices[0] and "resized" in notices[1]
    assert "24x40" in notices[1] and "16x16" in notices[1]
    same, none = projection.prepare_target(np.zeros((16, 16), np.uint8), (16, 16, 1))
    assert same.shape == (1, 16, 16, 1) and none == []
    rgba, notices = projection.prepare_target(np.zeros((2, 16, 16, 4), np.uint8), (16, 16, 3))
    assert rgba.shape == (2, 16, 16, 3) and notices == ["the target has an alpha channel; it "
                                                         "was dropped"]
    gan = _varied_dcgan()
    with pytest.warns(projection.ProjectionNotice, match="resized"):
        projection.project(gan, np.zeros((2, 8, 8, 1), np.uint8), steps=1, distance="pixels")


@pytest.mark.parametrize("target, text", [
    (np.zeros((16, 16, 1), np.float32), "expects uint8 images"),
    (np.zeros((16, 16, 2), np.uint8), "with 1 or 3 channels"),
    ("missing.png", "does not exist"),
])
def test_bad_targets_are_one_line(target, text, tmp_path):
    with pytest.raises(ValueError if text != "does not exist" else OSError, match=text):
        projection.prepare_target(target if not isinstance(target, str)
                                  else tmp_path / target, (16, 16, 1))


def test_bad_arguments_are_one_line():
    gan = _varied_dcgan()
    target = np.zeros((16, 16, 1), np.uint8)
    for options, text in (({"steps": 0}, "steps must be a positive integer"),
                          ({"steps": 2.5}, "steps must be a positive integer"),
                          ({"space": "w"}, "space='w' is for style-based generators"),
                          ({"distance": "lpips"}, "distance must be one of"),
                          ({"labels": 1}, "dcgan is unconditional")):
        with pytest.raises(ValueError, match=text):
            projection.project(gan, target, **{"steps": 2, **options})
    srgan = models.SRGAN(image_shape=(16, 16, 3), scale=2, filters=4, blocks=1,
                         disc_filters=4)
    with pytest.raises(ValueError, match="project.. is for generators that draw images from "
                                         "latents; a srgan model upscales"):
        projection.project(srgan, target, steps=2)


def test_the_vgg_distance_needs_its_weights_in_the_keras_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(ValueError, match="needs VGG16's ImageNet weights in the Keras cache"):
        projection.choose_distance("vgg", 3)
    assert projection.choose_distance("auto", 3) == "pixels"
    assert projection.choose_distance("auto", 1) == "digits"
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / projection.VGG16_WEIGHTS).write_bytes(b"")
    assert projection.choose_distance("auto", 3) == "vgg"


# -- the command --------------------------------------------------------------------------


def _target_png(tmp_path, model, name="target.png", seed=11):
    from ganzoo import images

    path = tmp_path / name
    images.save_png(model.sample(1, seed=seed)[0], path)
    return path


def test_the_cli_writes_a_projection_that_ganzoo_sample_redraws(tmp_path):
    dcgan = models.load("dcgan-digits")
    target = _target_png(tmp_path, dcgan)
    out = tmp_path / "found"
    result = ganzoo_cli_inprocess(["project", "dcgan-digits", target, "--steps", "30",
                                   "--distance", "pixels", "--out", out])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(projection.OUTPUT_FILES)
    summary = json.loads((out / "projection.json").read_text())
    assert summary["distance"] == "pixels" and summary["steps"] == 30
    assert summary["space"] == "z" and summary["mean_psnr"] > 20
    assert "PSNR" in result.output and "step 30/30" in result.output
    redrawn = ganzoo_cli_inprocess(["sample", "dcgan-digits", "--latents", out / "latent.npz",
                                    "-n", "1", "--out", tmp_path / "again.png"])
    assert redrawn.exit_code == 0, redrawn.output
    from ganzoo._imaging import load_image

    # `ganzoo sample` writes a grid: the picture inside its 2-pixel border.
    np.testing.assert_array_equal(load_image(tmp_path / "again.png")[2:34, 2:34],
                                  load_image(out / "reconstruction.png"))
    side = load_image(out / "side_by_side.png")
    assert side.shape == (2 + 32 + 2, 2 + 32 + 2 + 32 + 2, 1)
    np.testing.assert_array_equal(side[2:34, 2:34], load_image(target))
    # An existing folder is kept unless --overwrite; then replaced.
    again = ganzoo_cli_inprocess(["project", "dcgan-digits", target, "--steps", "2",
                                  "--out", out])
    assert_one_line_error(again, "already exists; pass --overwrite")
    replaced = ganzoo_cli_inprocess(["project", "dcgan-digits", target, "--steps", "2",
                                     "--distance", "pixels", "--out", out, "--overwrite"])
    assert replaced.exit_code == 0, replaced.output
    assert json.loads((out / "projection.json").read_text())["steps"] == 2


def test_the_cli_resizes_a_target_of_another_size_with_a_notice(tmp_path):
    from PIL import Image

    target = tmp_path / "big.png"
    Image.fromarray(np.full((64, 48, 3), 90, np.uint8)).save(target)
    result = ganzoo_cli_inprocess(["project", "dcgan-digits", target, "--steps", "2",
                                   "--distance", "pixels", "--out", tmp_path / "out"])
    assert result.exit_code == 0, result.output
    assert "it was resized to the model's 32x32" in result.output
    assert "it was turned grey" in result.output


@pytest.mark.parametrize("args, text", [
    (["--steps", "0"], "--steps must be a positive integer. Received: '0'"),
    (["--steps", "abc"], "--steps must be a positive integer. Received: 'abc'"),
    (["--starts", "-1"], "--starts must be a positive integer"),
    (["--space", "w"], "space='w' is for style-based generators"),
    (["--space", "q"], "space must be one of z, w, w+"),
    (["--distance", "lpips"], "distance must be one of"),
])
def test_cli_bad_options_are_one_line(tmp_path, args, text):
    target = tmp_path / "t.png"
    from ganzoo import images

    images.save_png(np.zeros((32, 32, 1), np.uint8), target)
    result = ganzoo_cli_inprocess(["project", "dcgan-digits", target, "--out",
                                   tmp_path / "out", *args])
    assert_one_line_error(result, text)
    assert not (tmp_path / "out").exists()


def test_cli_sources_without_a_keras_noise_to_image_generator_are_one_line(tmp_path):
    from ganzoo import images

    target = tmp_path / "t.png"
    images.save_png(np.zeros((32, 32, 1), np.uint8), target)
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "ganzoo.json").write_text("{}")
    cases = [
        (bundle, "is an export bundle: give the preset or run folder it was exported from"),
        ("srgan-x4-photos", "project() is for generators that draw images from latents; a "
                            "srgan model upscales"),
    ]
    for source, text in cases:
        result = ganzoo_cli_inprocess(["project", source, target, "--out", tmp_path / "o"])
        assert_one_line_error(result, text)
    missing = ganzoo_cli_inprocess(["project", "dcgan-digits", tmp_path / "none.png",
                                    "--out", tmp_path / "o"])
    assert_one_line_error(missing, "does not exist")
    assert not (tmp_path / "o").exists()


def test_a_bundle_in_python_is_refused_in_one_line(tmp_path):
    _, bundle = varied_dcgan_and_bundle(tmp_path / "bundle")
    with warnings.catch_warnings(), pytest.raises(ValueError, match="has none: project with "
                                                                    "the preset"):
        projection.project(bundle, np.zeros((16, 16, 1), np.uint8), steps=2)
