"""`ganzoo evaluate` for image-to-image sources: super-resolution measured with PSNR/SSIM
beside bicubic upscaling, translation measured with features on translated inputs."""

import numpy as np
import pytest

from ganzoo.metrics import evaluation, image_quality


class _Upscaler:
    """Upscales by bicubic interpolation, or by repeating pixels (nearest neighbour)."""

    def __init__(self, scale, nearest=False):
        self.scale = scale
        self.nearest = nearest
        self.calls = 0

    def upscale(self, images):
        self.calls += 1
        if self.nearest:
            return images.repeat(self.scale, axis=1).repeat(self.scale, axis=2)
        return evaluation.bicubic_upscale(images, self.scale)


class _Translator:
    family = "fake"

    def __init__(self, function):
        self.function = function

    def translate(self, images):
        return self.function(images)


def test_super_resolution_is_measured_against_the_originals_and_bicubic():
    results = evaluation.evaluate(_Upscaler(2), "photos", metrics="psnr,ssim", n=6,
                                  batch_size=4, progress=False, image_size=32)
    # A source that upscales by bicubic interpolation scores exactly the baseline.
    assert results["psnr"] == pytest.approx(results["psnr_bicubic"], abs=1e-9)
    assert results["ssim"] == pytest.approx(results["ssim_bicubic"], abs=1e-9)
    assert results["scale"] == 2 and results["n"] == 6
    worse = evaluation.evaluate(_Upscaler(2, nearest=True), "photos", metrics="psnr",
                                n=6, batch_size=4, progress=False, image_size=32)
    assert worse["psnr"] < worse["psnr_bicubic"] - 0.5
    assert "PSNR" in evaluation.format_results(worse)


def test_super_resolution_numbers_equal_a_hand_computation():
    upscaler = _Upscaler(2, nearest=True)
    results = evaluation.evaluate(upscaler, "photos", metrics="psnr", n=3, batch_size=3,
                                  progress=False, image_size=16)
    stream = evaluation.open_source("photos", stream=evaluation.DATA_STREAM)
    stream.count(3, (16, 16))
    targets, _ = next(stream.batches(3, 3, 0, (16, 16)))
    small = evaluation.downscale(targets, 2)
    made = small.repeat(2, axis=1).repeat(2, axis=2)
    expected = np.mean([image_quality.psnr(a, b) for a, b in zip(made, targets)])
    assert results["psnr"] == pytest.approx(expected, rel=1e-12)


def test_super_resolution_on_a_folder_measures_full_resolution_tiles(tmp_path):
    """Pictures of different sizes are cut into tiles, as `photos` is, never resized:
    resizing a photograph to the tile size would measure another picture."""
    from PIL import Image

    from ganzoo.data.super_resolution import picture_tiles

    rng = np.random.default_rng(0)
    for index, size in enumerate([(70, 100), (40, 33)]):
        smooth = np.cumsum(rng.integers(0, 8, (*size, 3)), axis=1) % 256
        Image.fromarray(smooth.astype(np.uint8)).save(tmp_path / f"{index}.png")
    upscaler = _Upscaler(2, nearest=True)
    results = evaluation.evaluate(upscaler, str(tmp_path), metrics="psnr,ssim",
                                  batch_size=3, progress=False, image_size=32)
    targets = picture_tiles(tmp_path, 32)
    small = evaluation.downscale(targets, 2)
    made = small.repeat(2, axis=1).repeat(2, axis=2)
    assert results["n"] == len(targets) == 7
    assert results["psnr"] == pytest.approx(
        np.mean([image_quality.psnr(a, b) for a, b in zip(made, targets)]), rel=1e-12)
    assert results["ssim_bicubic"] == pytest.approx(np.mean(
        [image_quality.ssim(a, b)
         for a, b in zip(evaluation.bicubic_upscale(small, 2), targets)]), rel=1e-12)
    # Without image_size, the tiles of `photos` (96x96); fewer than all: a seeded subset.
    with pytest.raises(ValueError, match="no picture of at least 96x96 pixels"):
        evaluation.evaluate(upscaler, str(tmp_path), metrics="psnr", progress=False)
    subset = evaluation.evaluate(upscaler, str(tmp_path), metrics="psnr", n=3,
                                 progress=False, image_size=32)
    assert subset["n"] == 3
    assert subset == evaluation.evaluate(upscaler, str(tmp_path), metrics="psnr", n=3,
                                         progress=False, image_size=32)


def test_super_resolution_refuses_feature_metrics_and_odd_sizes():
    with pytest.raises(ValueError, match="upscales images: it is measured with psnr and ssim"):
        evaluation.evaluate(_Upscaler(4), "photos", metrics="fid", features="digits", n=4,
                            progress=False)
    with pytest.raises(ValueError, match="do not divide by the scale 4"):
        evaluation.evaluate(_Upscaler(4), "photos", metrics="psnr", n=4, progress=False,
                            image_size=18)


def test_an_identity_translation_scores_what_its_inputs_score():
    options = dict(metrics="fid,kid", features="digits", n=24, batch_size=8, seed=0,
                   progress=False, kid_subsets=5, kid_subset_size=8, image_size=32)
    translated = evaluation.evaluate(_Translator(lambda x: x), "textures/gravel",
                                     inputs="textures/grass", **options)
    direct = evaluation.evaluate("textures/grass", "textures/gravel", **options)
    assert translated["fid"] == pytest.approx(direct["fid"], rel=1e-9)
    assert translated["kid"] == pytest.approx(direct["kid"], rel=1e-9)
    # Translating into a flat grey image is much farther from gravel.
    flat = evaluation.evaluate(_Translator(lambda x: np.full_like(x, 128)), "textures/gravel",
                               inputs="textures/grass", **options)
    assert flat["fid"] > direct["fid"]


@pytest.mark.parametrize("source, kwargs, message", [
    (_Translator(lambda x: x), {}, "translates images: give the images to translate"),
    ("textures/grass", {"inputs": "textures/grass"}, "inputs= (--inputs) is for sources"),
    (_Translator(lambda x: x), {"inputs": "textures/grass", "metrics": "psnr"},
     "translates between unpaired domains"),
])
def test_image_to_image_mistakes_are_one_line(source, kwargs, message):
    options = dict(metrics="fid", features="digits", n=4, progress=False)
    options.update(kwargs)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        evaluation.evaluate(source, "textures/gravel", **options)


def test_flat_targets_are_left_out_of_super_resolution_and_counted(tmp_path):
    """A flat tile comes back exactly from bicubic (an infinite PSNR); were it measured,
    the means would be infinite whatever the upscaler does elsewhere."""
    from PIL import Image

    rng = np.random.default_rng(0)
    picture = rng.integers(0, 256, (32, 96, 3)).astype(np.uint8)
    picture[:, 32:64] = (10, 200, 30)  # the middle 32x32 tile is one colour
    Image.fromarray(picture).save(tmp_path / "sky.png")
    results = evaluation.evaluate(_Upscaler(2, nearest=True), str(tmp_path),
                                  metrics="psnr,ssim", progress=False, image_size=32)
    assert results["n"] == 2 and results["flat_left_out"] == 1
    assert np.isfinite(results["psnr"]) and np.isfinite(results["psnr_bicubic"])
    assert "1 flat targets" in evaluation.format_results(results)
    Image.fromarray(np.full((32, 32, 3), 7, np.uint8)).save(tmp_path / "sky.png")
    with pytest.raises(ValueError, match="every one of the 1 targets .* is flat"):
        evaluation.evaluate(_Upscaler(2), str(tmp_path), metrics="psnr", progress=False,
                            image_size=32)
