"""StyleGAN in w: the mapping and synthesis graphs of a stylegan_lite bundle, truncation,
walks in w and style-mixing figures from a Keras model and from its bundle (the same
pixels within a level), `ganzoo mix` and `ganzoo interpolate --space w`, bundles without
the graphs, and the one-line refusals."""

import json
import shutil

import numpy as np
import onnx
import pytest
from PIL import Image

from cli_helpers import assert_one_line_error, ganzoo_cli_inprocess
from sampling_helpers import varied_stylegan_and_bundle
from ganzoo import _bundle, _sampling, _walks, export, images, runtime


@pytest.fixture(scope="module")
def stylegan(tmp_path_factory):
    """(model, bundle, bundle folder, preset folder) of one tiny StyleGAN-lite."""
    root = tmp_path_factory.mktemp("mixing")
    gan, bundle = varied_stylegan_and_bundle(root / "bundle")
    gan.save_to_preset(root / "preset")
    return gan, bundle, root / "bundle", root / "preset"


def _levels(a, b):
    return int(np.abs(np.asarray(a, int) - np.asarray(b, int)).max())


# -- the path and the figure, on NumPy stand-ins -------------------------------------------


INPUTS = [{"name": "latent", "shape": (None, 3), "dtype": "float32", "role": "latent"},
          {"name": "truncation", "shape": (None, 1), "dtype": "float32", "role": "truncation"},
          {"name": "noise_0", "shape": (None, 2, 2, 1), "dtype": "float32", "role": "noise"}]


def _stand_in_w(latents, psi):
    """A 'mapping network' that makes w easy to read: w = 10 z, truncated towards 1."""
    return 1.0 + psi * (10.0 * latents - 1.0)


def test_a_walk_in_w_lerps_the_truncated_w_of_the_seeds_and_their_noise():
    seen = []
    frames = _walks.walk_in_w(INPUTS, [4, 9], 3, to_w=_stand_in_w, num_styles=5,
                              truncation=0.5,
                              render=lambda inputs: seen.append(inputs) or inputs[0][:, :1])
    list(frames)
    (styles, noise), = seen
    w = _stand_in_w(np.concatenate([_sampling.latents(1, 3, s) for s in (4, 9)]), 0.5)
    assert styles.shape == (3, 5, 3) and styles.dtype == np.float32
    np.testing.assert_allclose(styles[1], np.repeat((w[:1] + w[1:]) / 2, 5, axis=0), rtol=1e-6)
    np.testing.assert_array_equal(styles[0], np.repeat(w[:1], 5, axis=0).astype(np.float32))
    ends = [_sampling.noise(1, (2, 2, 1), s) for s in (4, 9)]
    np.testing.assert_allclose(noise[1], (ends[0][0] + ends[1][0]) / 2, rtol=1e-6)


def test_a_mixing_figure_takes_early_styles_from_its_row_and_noise_from_its_row():
    seen = []
    mix = _walks.style_mix(INPUTS, [1, 2], [3, 4, 5], 2, to_w=_stand_in_w, num_styles=4,
                           render=lambda inputs: seen.append(inputs) or np.zeros(
                               (len(inputs[0]), 1, 1, 1), np.float32), batch_size=4)
    assert [part.shape for part in mix] == [(2, 1, 1, 1), (3, 1, 1, 1), (2, 3, 1, 1, 1)]
    styles = np.concatenate([inputs[0] for inputs in seen])
    noise = np.concatenate([inputs[1] for inputs in seen])
    w = {s: _stand_in_w(_sampling.latents(1, 3, s), 1.0)[0] for s in range(1, 6)}
    # Pictures: columns 3, 4, 5; rows 1, 2; then cells (1, 3) (1, 4) (1, 5) (2, 3) ...
    np.testing.assert_allclose(styles[0], np.stack([w[3]] * 4), rtol=1e-6)
    np.testing.assert_allclose(styles[3], np.stack([w[1]] * 4), rtol=1e-6)
    np.testing.assert_allclose(styles[5 + 4], np.stack([w[2]] * 2 + [w[4]] * 2), rtol=1e-6)
    np.testing.assert_array_equal(noise[5 + 4], _sampling.noise(1, (2, 2, 1), 2)[0])
    np.testing.assert_array_equal(noise[0], _sampling.noise(1, (2, 2, 1), 3)[0])


def test_the_mixing_grid_puts_columns_on_top_rows_on_the_left():
    rows = np.full((2, 1, 1, 1), 10, np.uint8)
    columns = np.full((3, 1, 1, 1), 20, np.uint8)
    mixed = np.arange(6, dtype=np.uint8).reshape(2, 3, 1, 1, 1) + 100
    picture = images.mixing_grid(_walks.StyleMix(rows, columns, mixed), padding=0)
    np.testing.assert_array_equal(picture[..., 0], [[0, 20, 20, 20],
                                                    [10, 100, 101, 102],
                                                    [10, 103, 104, 105]])
    with pytest.raises(ValueError, match="mixing_grid takes rows"):
        images.mixing_grid((rows, columns, mixed[:1]))


# -- Keras and the bundle ---------------------------------------------------------------


def test_the_bundle_holds_the_mapping_and_synthesis_graphs_checked_and_checksummed(stylegan):
    gan, bundle, folder, _ = stylegan
    metadata = bundle.metadata
    assert sorted(metadata["parts"]) == ["mapping", "synthesis"]
    mapping, synthesis = metadata["parts"]["mapping"], metadata["parts"]["synthesis"]
    assert [(e["name"], e["role"]) for e in mapping["inputs"]] == [
        ("latent", "latent"), ("truncation", "truncation")]
    assert mapping["outputs"] == [{"name": "w", "shape": [None, 8], "dtype": "float32"}]
    assert synthesis["inputs"][0] == {"name": "styles", "shape": [None, 6, 8],
                                      "dtype": "float32", "role": "styles"}
    assert [e["name"] for e in synthesis["inputs"][1:]] == [f"noise_{k}" for k in range(5)]
    assert synthesis["outputs"] == metadata["outputs"]
    assert {"mapping.onnx", "synthesis.onnx", "model.onnx"} == set(metadata["files"])
    models = metadata["parity"]["models"]
    assert set(models) == {"model.onnx", "mapping.onnx", "synthesis.onnx"}
    assert max(models.values()) == metadata["parity"]["max_abs_diff"] <= 1e-4
    props = {p.key: p.value for p in onnx.load(folder / "synthesis.onnx").metadata_props}
    assert json.loads(props["ganzoo.parts"]) == {"synthesis": synthesis}
    assert bundle.num_styles == gan.num_styles == 6 and bundle.style_dim == 8


def test_truncation_in_w_is_the_same_in_keras_and_in_the_bundle(stylegan):
    gan, bundle, _, _ = stylegan
    latents = gan.draw_latents(4, seed=3)
    for psi in (None, 0.6):
        np.testing.assert_allclose(bundle.map_to_w(latents, psi), gan.map_to_w(latents, psi),
                                   atol=1e-5)
    np.testing.assert_allclose(bundle.map_to_w(latents, 0.0), np.full((4, 8), 0.3), atol=1e-6)
    keras_images = gan.synthesize(gan.map_to_w(latents, 0.6), seed=3)
    np.testing.assert_array_equal(keras_images, gan.sample(latents=latents, seed=3,
                                                           truncation=0.6))
    assert _levels(bundle.synthesize(bundle.map_to_w(latents, 0.6), seed=3), keras_images) <= 1
    with pytest.raises(ValueError, match=r"styles must have shape \(n, 6, 8\)"):
        bundle.synthesize(np.zeros((2, 5, 8), np.float32))


def test_a_walk_in_w_starts_and_ends_at_the_seeds_samples_in_keras_and_in_the_bundle(
        stylegan):
    gan, bundle, _, _ = stylegan
    frames = np.concatenate(list(gan.walk([3, 8, 1], 7, space="w", truncation=0.7,
                                          batch_size=3)))
    assert frames.shape == (7, 16, 16, 1) and frames.dtype == np.uint8
    for index, seed in ((0, 3), (3, 8), (6, 1)):
        np.testing.assert_array_equal(frames[index], gan.sample(1, seed=seed,
                                                                truncation=0.7)[0])
    onnx_frames = np.concatenate(list(bundle.walk([3, 8, 1], 7, space="w", truncation=0.7,
                                                  batch_size=4)))
    assert _levels(onnx_frames, frames) <= 1
    # Between seeds a walk in w is not the walk in z.
    in_z = np.concatenate(list(gan.walk([3, 8, 1], 7, method="lerp", truncation=0.7)))
    assert np.abs(in_z[1].astype(int) - frames[1].astype(int)).mean() > 1


def test_a_mixing_figure_is_sample_with_style_mix_in_keras_and_the_same_from_the_bundle(
        stylegan):
    gan, bundle, _, _ = stylegan
    mix = gan.mix([1, 2], [4, 5, 6], cutoff=2, truncation=0.8, batch_size=4)
    for i, row in enumerate([1, 2]):
        np.testing.assert_array_equal(mix.rows[i], gan.sample(1, seed=row, truncation=0.8)[0])
        for j, column in enumerate([4, 5, 6]):
            np.testing.assert_array_equal(mix.mixed[i, j], gan.sample(
                1, seed=row, truncation=0.8, style_mix=(column, 2))[0])
    for j, column in enumerate([4, 5, 6]):
        np.testing.assert_array_equal(mix.columns[j], gan.sample(1, seed=column,
                                                                 truncation=0.8)[0])
    # A cell is neither of its sources.
    assert np.abs(mix.mixed[0, 0].astype(int) - mix.rows[0]).mean() > 1
    assert np.abs(mix.mixed[0, 0].astype(int) - mix.columns[0]).mean() > 1
    from_bundle = bundle.mix([1, 2], [4, 5, 6], cutoff=2, truncation=0.8)
    for keras_part, bundle_part in zip(mix, from_bundle):
        assert bundle_part.shape == keras_part.shape and _levels(bundle_part, keras_part) <= 1


def test_ganzoo_mix_draws_the_same_figure_from_the_preset_and_from_the_bundle(stylegan,
                                                                             tmp_path):
    gan, _, folder, preset = stylegan
    pictures = []
    for source, name in ((preset, "preset.png"), (folder, "bundle.png")):
        result = ganzoo_cli_inprocess(["mix", source, "--rows", "1,2,3", "--cols", "4,5",
                                       "--cutoff", "3", "--out", tmp_path / name])
        assert result.exit_code == 0, result.output
        assert "the rows give the first 3 of 6 styles" in result.output
        with Image.open(tmp_path / name) as picture:
            pictures.append(np.asarray(picture))
    assert pictures[0].shape == (4 * 16 + 5 * 2, 3 * 16 + 4 * 2)
    assert _levels(*pictures) <= 1
    expected = images.mixing_grid(gan.mix([1, 2, 3], [4, 5], cutoff=3))[..., 0]
    np.testing.assert_array_equal(pictures[0], expected)
    again = ganzoo_cli_inprocess(["mix", folder, "--rows", "1,2", "--cols", "4,5",
                                  "--out", tmp_path / "bundle.png"])
    assert_one_line_error(again, "already exists; pass --overwrite")


def test_ganzoo_interpolate_in_w_from_the_bundle(stylegan, tmp_path):
    gan, _, folder, _ = stylegan
    result = ganzoo_cli_inprocess(["interpolate", folder, "--seeds", "3,8", "--frames", "4",
                                   "--space", "w", "--truncation", "0.7",
                                   "--out", tmp_path / "strip.png"])
    assert result.exit_code == 0, result.output
    assert "4-frame lerp walk in w" in result.output
    with Image.open(tmp_path / "strip.png") as picture:
        strip = np.asarray(picture)
    keras_frames = np.concatenate(list(gan.walk([3, 8], 4, space="w", truncation=0.7)))
    assert _levels(strip, np.concatenate(list(keras_frames[..., 0]), axis=1)) <= 1


@pytest.mark.parametrize("args, message", [
    (["--rows", "1,2", "--cols", "4,5", "--cutoff", "7"], "cutoff must lie in [0, 6]"),
    (["--rows", "1,2", "--cols", "4,5", "--cutoff", "-1"], "cutoff must lie in [0, 6]"),
    (["--rows", "1", "--cols", "4,5"], "needs two row seeds or more"),
    (["--rows", "1,2", "--cols", "4"], "needs two column seeds or more"),
    (["--rows", "1,x", "--cols", "4,5"], "--rows must be integers"),
    (["--rows", "1,2", "--cols", "4,5", "--out", "grid.jpg"], "--out must be a .png file"),
])
def test_ganzoo_mix_refuses_bad_input_in_one_line(stylegan, tmp_path, monkeypatch, args,
                                                  message):
    _, _, folder, _ = stylegan
    monkeypatch.chdir(tmp_path)
    out = [] if "--out" in args else ["--out", "grid.png"]
    result = ganzoo_cli_inprocess(["mix", folder, *args, *out])
    assert_one_line_error(result, message)
    assert list(tmp_path.iterdir()) == []


def test_a_bundle_without_the_graphs_still_samples_and_says_to_re_export_for_w(stylegan,
                                                                              tmp_path):
    gan, bundle, folder, _ = stylegan
    old = tmp_path / "old"
    shutil.copytree(folder, old)
    metadata = json.loads((old / "ganzoo.json").read_text())
    for part in metadata.pop("parts").values():
        (old / part["model"]).unlink()
        del metadata["files"][part["model"]]
        del metadata["parity"]["models"][part["model"]]
    (old / "ganzoo.json").write_text(json.dumps(metadata))
    loaded = runtime.load(old)
    assert isinstance(loaded, runtime.StyleSampler)
    np.testing.assert_array_equal(loaded.sample(3, seed=2, truncation=0.7),
                                  bundle.sample(3, seed=2, truncation=0.7))
    assert len(np.concatenate(list(loaded.walk([1, 2], 3)))) == 3
    for call in (lambda: loaded.mix([1, 2], [3, 4]), lambda: loaded.walk([1, 2], 3, space="w"),
                 lambda: loaded.map_to_w(gan.draw_latents(1, 0))):
        with pytest.raises(ValueError, match="re-export it with `ganzoo export") as info:
            call()
        assert "\n" not in str(info.value)
    for args in (["mix", old, "--rows", "1,2", "--cols", "3,4"],
                 ["interpolate", old, "--seeds", "1,2", "--space", "w"]):
        result = ganzoo_cli_inprocess([*args, "--out", tmp_path / "x.png"])
        assert_one_line_error(result, "holds the whole generator only")
    assert not (tmp_path / "x.png").exists()


def test_the_graphs_are_verified_like_the_model(stylegan, tmp_path):
    _, _, folder, _ = stylegan
    damaged = tmp_path / "damaged"
    shutil.copytree(folder, damaged)
    data = bytearray((damaged / "synthesis.onnx").read_bytes())
    data[-3] ^= 0xFF
    (damaged / "synthesis.onnx").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="synthesis.onnx does not match its sha256"):
        runtime.load(damaged)
    unlisted = tmp_path / "unlisted"
    shutil.copytree(folder, unlisted)
    metadata = json.loads((unlisted / "ganzoo.json").read_text())
    del metadata["files"]["mapping.onnx"]
    (unlisted / "ganzoo.json").write_text(json.dumps(metadata))
    with pytest.raises(ValueError, match=r"lists no checksum for mapping.onnx \(field "
                                         r"parts.mapping.model\)"):
        runtime.load(unlisted)
    edited = tmp_path / "edited"
    shutil.copytree(folder, edited)
    metadata = json.loads((edited / "ganzoo.json").read_text())
    metadata["parts"]["synthesis"]["outputs"][0]["range"] = [0.0, 1.0]
    (edited / "ganzoo.json").write_text(json.dumps(metadata))
    with pytest.raises(ValueError, match=r"parts.synthesis.outputs\[0\].range=\[0.0, 1.0\] "
                                         "but synthesis.onnx records"):
        runtime.load(edited).mix([1, 2], [3, 4])
    assert _bundle.read_bundle(folder)["parts"]  # the original is untouched


def test_a_triton_copy_holds_the_whole_generator_only(stylegan, tmp_path):
    _, bundle, folder, _ = stylegan
    index = export.to_triton(folder, tmp_path / "models")
    assert "parts" not in index
    served = runtime.load(tmp_path / "models")
    np.testing.assert_array_equal(served.sample(2, seed=1), bundle.sample(2, seed=1))
    with pytest.raises(ValueError, match="holds the whole generator only"):
        served.mix([1, 2], [3, 4])
