"""Latent walks: the path (slerp / lerp through the seeds' latents), the same frames from a
Keras model and from its bundle, and `ganzoo interpolate` writing GIF, MP4 and PNG strips."""

import re

import numpy as np
import pytest
from PIL import Image

from cli_helpers import assert_one_line_error, ganzoo_cli_inprocess
from sampling_helpers import varied_dcgan_and_bundle
from ganzoo import _walks, models


def test_slerp_follows_the_great_circle_and_lerp_the_chord():
    a, b = np.array([[1.0, 0.0]]), np.array([[0.0, 2.0]])
    middle = _walks.slerp(a, b, np.array([0.5]))
    # Between orthogonal vectors of norms 1 and 2: sin(pi/4) / sin(pi/2) of each.
    np.testing.assert_allclose(middle, [[np.sqrt(0.5), 2 * np.sqrt(0.5)]], atol=1e-12)
    np.testing.assert_allclose(_walks.lerp(a, b, np.array([0.5])), [[0.5, 1.0]])
    np.testing.assert_allclose(_walks.slerp(a, b, np.array([0.0, 1.0])[:1]), a)
    # Parallel rows: the straight line, no division by zero.
    np.testing.assert_allclose(_walks.slerp(a, 3 * a, np.array([0.5])), [[2.0, 0.0]])
    segment, t = _walks.positions([4, 5, 6], 5)
    assert segment.tolist() == [0, 0, 1, 1, 1] and t.tolist() == [0, 0.5, 0, 0.5, 1]


@pytest.mark.parametrize("seeds, frames, method, message", [
    ([3], 5, "slerp", "A walk needs two seeds or more"),
    ([1, 2, 3], 2, "slerp", r"frames must be at least the number of seeds \(3\)"),
    ([1, 2], 5, "circle", "method must be 'slerp' or 'lerp'"),
    ([1, -2], 5, "slerp", "seed must be a non-negative integer"),
])
def test_a_walk_that_cannot_be_made_is_one_line(seeds, frames, method, message):
    with pytest.raises(ValueError, match=message):
        _walks.check_walk(seeds, frames, method)


@pytest.fixture(scope="module")
def dcgan_and_bundle(tmp_path_factory):
    return varied_dcgan_and_bundle(tmp_path_factory.mktemp("walks") / "bundle")


def test_a_walk_starts_and_ends_at_its_seeds_samples_in_keras_and_in_the_bundle(
        dcgan_and_bundle):
    gan, bundle = dcgan_and_bundle
    frames = np.concatenate(list(gan.walk([3, 8, 1], 9, batch_size=4)))
    assert frames.shape == (9, 16, 16, 1) and frames.dtype == np.uint8
    np.testing.assert_array_equal(frames[0], gan.sample(1, seed=3)[0])
    np.testing.assert_array_equal(frames[4], gan.sample(1, seed=8)[0])
    np.testing.assert_array_equal(frames[-1], gan.sample(1, seed=1)[0])
    # Streamed in any batch size, the same frames; from the bundle, the same within a level.
    np.testing.assert_array_equal(np.concatenate(list(gan.walk([3, 8, 1], 9, batch_size=2))),
                                  frames)
    onnx = np.concatenate(list(bundle.walk([3, 8, 1], 9, batch_size=5)))
    assert np.abs(onnx.astype(int) - frames.astype(int)).max() <= 1
    # Frames between seeds are pictures of their own.
    assert np.abs(frames[2].astype(int) - frames[0].astype(int)).mean() > 5


def test_noise_and_truncation_follow_the_walk_for_stylegan():
    gan = models.StyleGANLite(image_shape=(16, 16, 1), latent_dim=8, style_dim=8,
                              mapping_layers=2, channel_base=64, channel_max=8, seed=0)
    # Noise strengths start at zero: make the noise show, so that its path is seen.
    strengths = [w for w in gan.generator_ema.weights if "noise" in w.path]
    assert strengths
    for weight in strengths:
        weight.assign(np.full(weight.shape, 0.5, "float32"))
    frames = np.concatenate(list(gan.walk([2, 7], 4, truncation=0.7)))
    np.testing.assert_array_equal(frames[0], gan.sample(1, seed=2, truncation=0.7)[0])
    np.testing.assert_array_equal(frames[-1], gan.sample(1, seed=7, truncation=0.7)[0])
    with pytest.raises(ValueError, match="takes no sampling option style_mix"):
        next(gan.walk([2, 7], 4, style_mix=(1, 2)))


def test_a_conditional_walk_keeps_one_class():
    cgan = models.load("cgan-digits")
    frames = np.concatenate(list(cgan.walk([0, 1], 3, labels=7)))
    np.testing.assert_array_equal(frames[0], cgan.sample(1, seed=0, labels=7)[0])
    np.testing.assert_array_equal(frames[-1], cgan.sample(1, seed=1, labels=7)[0])


def test_the_cli_writes_a_looping_gif_a_strip_and_an_mp4(tmp_path):
    gif = ganzoo_cli_inprocess(["interpolate", "dcgan-digits", "--seeds", "0,5,9",
                                "--frames", "7", "--out", tmp_path / "walk.gif"])
    assert gif.exit_code == 0, gif.output
    with Image.open(tmp_path / "walk.gif") as picture:
        assert picture.n_frames == 7 and picture.info.get("loop") == 0
        picture.seek(0)
        first = np.asarray(picture.convert("L"))
    gan = models.load("dcgan-digits")
    np.testing.assert_array_equal(first, gan.sample(1, seed=0)[0, ..., 0])
    strip = ganzoo_cli_inprocess(["interpolate", "dcgan-digits", "--seeds", "0,5",
                                  "--frames", "4", "--method", "lerp",
                                  "--out", tmp_path / "strip.png"])
    assert strip.exit_code == 0, strip.output
    with Image.open(tmp_path / "strip.png") as picture:
        assert picture.size == (4 * 32, 32)
    video = ganzoo_cli_inprocess(["interpolate", "dcgan-digits", "--seeds", "0,5",
                                  "--frames", "6", "--fps", "12", "--out", tmp_path / "w.mp4"])
    assert video.exit_code == 0, video.output
    import imageio.v2 as imageio

    with imageio.get_reader(tmp_path / "w.mp4") as reader:
        assert reader.count_frames() == 6 and reader.get_meta_data()["fps"] == 12


@pytest.mark.parametrize("args, message", [
    (["dcgan-digits", "--seeds", "4", "--out", "x.gif"], "A walk needs two seeds or more"),
    (["dcgan-digits", "--seeds", "1,2,3", "--frames", "2", "--out", "x.gif"],
     "frames must be at least the number of seeds (3)"),
    (["dcgan-digits", "--seeds", "1,b", "--out", "x.gif"], "--seeds must be integers"),
    (["dcgan-digits", "--seeds", "1,2", "--out", "x.jpg"], "--out must be a .gif, .mp4 or .png"),
    (["srgan-x4-photos", "--seeds", "1,2", "--out", "x.gif"],
     "walk() is for generators that draw images from latents; a srgan model upscales"),
    (["dcgan-digits", "--seeds", "1,2", "--space", "w", "--out", "x.gif"],
     "--space w is for style-based generators (stylegan_lite), whose mapping network gives "
     "a w space; preset dcgan-digits is a dcgan generator without one"),
    (["dcgan-digits", "--seeds", "4", "--space", "w", "--out", "x.gif"],
     "A walk needs two seeds or more"),
])
def test_the_cli_refuses_a_walk_it_cannot_make_in_one_line(tmp_path, monkeypatch, args,
                                                           message):
    monkeypatch.chdir(tmp_path)
    result = ganzoo_cli_inprocess(["interpolate", *args])
    assert_one_line_error(result, message)
    assert list(tmp_path.iterdir()) == []


def test_a_generator_without_w_refuses_walks_in_w_and_mixing_in_one_line(dcgan_and_bundle,
                                                                           tmp_path):
    gan, bundle = dcgan_and_bundle
    # Other families' bundles are as they were: the generator's graph alone.
    assert "parts" not in bundle.metadata and set(bundle.metadata["files"]) == {"model.onnx"}
    assert not hasattr(gan, "map_to_w") and not hasattr(bundle, "map_to_w")
    for call, message in (
            (lambda: bundle.walk([1, 2], 3, space="w"),
             "walk(space='w') is for style-based generators (stylegan_lite), whose mapping "
             "network gives a w space; this bundle (dcgan) has none: walk in z (space='z')"),
            (lambda: bundle.mix([1, 2], [3, 4]),
             "mix() is for style-based generators (stylegan_lite), whose mapping network "
             "gives a w space; this bundle (dcgan) has none"),
            (lambda: bundle.walk([1, 2], 3, space="x"), "space must be 'z' or 'w'")):
        with pytest.raises(ValueError, match=re.escape(message)) as info:
            call()
        assert "\n" not in str(info.value)
    result = ganzoo_cli_inprocess(["mix", bundle.path, "--rows", "1,2", "--cols", "3,4",
                                   "--out", tmp_path / "mix.png"])
    assert_one_line_error(result, "ganzoo mix is for style-based generators (stylegan_lite)")
    assert not (tmp_path / "mix.png").exists()


@pytest.mark.parametrize("method", ["slerp", "lerp"])
def test_the_frames_latents_are_on_the_chosen_path(method):
    from ganzoo import _sampling

    inputs = [{"name": "latent", "shape": (None, 6), "dtype": "float32", "role": "latent"}]
    (latents,) = next(_walks.input_batches(inputs, [5, 6], 5, method))
    a, b = _sampling.latents(1, 6, 5), _sampling.latents(1, 6, 6)
    path = _walks.slerp if method == "slerp" else _walks.lerp
    np.testing.assert_allclose(latents[2:3], path(a, b, np.array([0.5])), rtol=1e-6)
    assert not np.allclose(latents[2:3], (_walks.lerp if method == "slerp" else _walks.slerp)(
        a, b, np.array([0.5])), rtol=1e-3)


def test_w_methods_on_a_keras_model_without_w_are_one_line():
    gan = models.DCGAN(image_shape=(16, 16, 1), latent_dim=8, seed=0)
    for call, what in [(lambda: gan.mix([1, 2], [3, 4]), "mix()"),
                       (lambda: gan.map_to_w(gan.draw_latents(2, seed=0)), "map_to_w()"),
                       (lambda: list(gan.walk([1, 2], 3, space="w")), "walk(space='w')")]:
        with pytest.raises(ValueError, match="is for style-based generators") as error:
            call()
        assert str(error.value).startswith(what) and "a dcgan model has none" in str(error.value)
    assert len(list(gan.walk([1, 2], 3, space="z"))) == 1
