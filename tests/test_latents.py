"""Latents in and out: every noise-to-image SOURCE renders given latents (and labels) and
gives back the latents a seed draws; the same latents make the same pictures in Keras and
in the exported bundle; bad latents are one line."""

import numpy as np
import pytest

from cli_helpers import assert_one_line_error, ganzoo_cli_inprocess
from sampling_helpers import varied_dcgan_and_bundle
from ganzoo import _sampling, models

@pytest.fixture(scope="module")
def dcgan_and_bundle(tmp_path_factory):
    return varied_dcgan_and_bundle(tmp_path_factory.mktemp("latents") / "bundle")


def test_given_latents_draw_what_their_seed_draws_in_keras_and_in_the_bundle(
        dcgan_and_bundle):
    gan, bundle = dcgan_and_bundle
    latents = gan.draw_latents(5, seed=7)
    np.testing.assert_array_equal(latents, bundle.draw_latents(5, seed=7))
    keras_images = gan.sample(latents=latents)
    np.testing.assert_array_equal(keras_images, gan.sample(5, seed=7))
    assert np.abs(keras_images[0].astype(int) - keras_images[1].astype(int)).mean() > 20
    onnx_images = bundle.sample(latents=latents)
    assert onnx_images.shape == keras_images.shape
    assert np.abs(onnx_images.astype(int) - keras_images.astype(int)).max() <= 1
    # Edited latents make other pictures, the same way in both.
    edited = latents * -1.0
    assert not np.array_equal(gan.sample(latents=edited), keras_images)
    assert np.abs(bundle.sample(latents=edited).astype(int)
                  - gan.sample(latents=edited).astype(int)).max() <= 1


@pytest.mark.parametrize("latents, message", [
    (np.zeros((3, 7), np.float32), r"latents must have shape \(n, 8\). Received: shape \(3, 7\)"),
    (np.zeros(8, np.float32), r"latents must have shape \(n, 8\)"),
    (np.zeros((3, 8), np.int32), "latents must be floats"),
    (np.full((3, 8), np.nan, np.float32), "latents holds NaN or Inf values"),
    ("zeros", "latents must be a float array of shape"),
])
def test_bad_latents_are_one_line_in_keras_and_in_the_bundle(dcgan_and_bundle, latents,
                                                             message):
    gan, bundle = dcgan_and_bundle
    for generator in (gan, bundle):
        with pytest.raises(ValueError, match=message) as info:
            generator.sample(latents=latents)
        assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match="latents has 2 rows but n=3 images"):
        gan.sample(3, latents=np.zeros((2, 8), np.float32))
    with pytest.raises(ValueError, match="needs n .* or latents="):
        gan.generate()


def test_conditional_and_style_families_take_latents_with_their_other_inputs():
    cgan = models.ConditionalGAN(num_classes=3, image_shape=(16, 16, 1), latent_dim=8,
                                 generator_filters=4, discriminator_filters=4, seed=0)
    latents = cgan.draw_latents(6, seed=2)
    np.testing.assert_array_equal(cgan.sample(latents=latents, seed=2, labels=[0, 1, 2] * 2),
                                  cgan.sample(6, seed=2, labels=[0, 1, 2] * 2))
    np.testing.assert_array_equal(cgan.sample(latents=latents, seed=2), cgan.sample(6, seed=2))
    style = models.StyleGANLite(image_shape=(16, 16, 1), latent_dim=8, style_dim=8,
                                mapping_layers=2, channel_base=64, channel_max=8, seed=0)
    latents = style.draw_latents(3, seed=4)
    np.testing.assert_array_equal(style.sample(latents=latents, seed=4, truncation=0.7),
                                  style.sample(3, seed=4, truncation=0.7))
    np.testing.assert_array_equal(
        style.sample(latents=latents, seed=4, style_mix=(9, 2)),
        style.sample(3, seed=4, style_mix=(9, 2)))


def test_the_cli_saves_the_latents_it_drew_and_renders_them_again(tmp_path):
    first = ganzoo_cli_inprocess(["sample", "cgan-digits", "-n", "6", "--seed", "3",
                                  "--save-latents", tmp_path / "z.npz",
                                  "--out", tmp_path / "a.png"])
    assert first.exit_code == 0, first.output
    with np.load(tmp_path / "z.npz") as stored:
        assert stored["latent"].shape == (6, 64) and stored["latent"].dtype == np.float32
        assert stored["label"].shape == (6,)
        labels = stored["label"]
    again = ganzoo_cli_inprocess(["sample", "cgan-digits", "--latents", tmp_path / "z.npz",
                                  "--seed", "99", "--out", tmp_path / "b.png"])
    assert again.exit_code == 0, again.output
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    # The labels saved are the ones the seed drew (its label stream).
    np.testing.assert_array_equal(labels, _sampling.labels_for(6, 10, None, 3))
    # A hand-made file: only 'latent'; --label picks the class.
    np.savez(tmp_path / "mine.npz", latent=np.zeros((2, 64), np.float32))
    mine = ganzoo_cli_inprocess(["sample", "cgan-digits", "--latents", tmp_path / "mine.npz",
                                 "--label", "7", "--out", tmp_path / "c.png"])
    assert mine.exit_code == 0, mine.output


def test_the_cli_refuses_bad_latent_files_in_one_line(tmp_path):
    np.savez(tmp_path / "nolatent.npz", z=np.zeros((2, 64), np.float32))
    result = ganzoo_cli_inprocess(["sample", "dcgan-digits", "--latents",
                                   tmp_path / "nolatent.npz", "--out", tmp_path / "x.png"])
    assert_one_line_error(result, "holds no 'latent' array (it has z)")
    np.savez(tmp_path / "wrong.npz", latent=np.zeros((2, 5), np.float32))
    result = ganzoo_cli_inprocess(["sample", "dcgan-digits", "--latents",
                                   tmp_path / "wrong.npz", "--out", tmp_path / "x.png"])
    assert_one_line_error(result, "latents must have shape (n, 64)")
    (tmp_path / "taken.npz").write_bytes(b"mine")
    result = ganzoo_cli_inprocess(["sample", "dcgan-digits", "--save-latents",
                                   tmp_path / "taken.npz", "--out", tmp_path / "x.png"])
    assert_one_line_error(result, "already exists; pass --overwrite")
    assert (tmp_path / "taken.npz").read_bytes() == b"mine"
    assert not (tmp_path / "x.png").exists()
