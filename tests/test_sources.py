"""`ganzoo.sources.resolve`: what a SOURCE is, decided once for every command and loader."""

import json
import shutil

import numpy as np
import pytest

import ganzoo
from ganzoo import presets, sources

from cli_helpers import assert_one_line_error, ganzoo_cli_inprocess

ONE_ERROR = "not a preset name, preset folder, run folder or export bundle (known presets: "


@pytest.fixture(scope="module")
def model():
    return ganzoo.models.DCGAN(image_shape=(16, 16, 1), latent_dim=8, generator_filters=8,
                               discriminator_filters=8, seed=0)


@pytest.fixture(scope="module")
def folders(model, tmp_path_factory):
    """A preset on its own search-path folder, a finished run and an ONNX bundle."""
    root = tmp_path_factory.mktemp("sources")
    preset = model.save_to_preset(root / "shelf" / "tiny-source")
    run = root / "run"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"family": "dcgan", "data": "digits"}))
    shutil.copytree(preset, run / "preset")
    bundle = root / "onnx"
    ganzoo.export.to_onnx(model, bundle, parity_samples=1, optimize=False)
    return {"root": root, "shelf": root / "shelf", "preset": preset, "run": run,
            "bundle": bundle}


def bad_source(kind, root):
    """A SOURCE that is none of the kinds; built fresh under `root`."""
    if kind == "unknown name":
        return "no-such-source"
    path = root / kind.replace(" ", "-")
    if kind == "file":
        path.write_text("not a model\n")
        return path
    path.mkdir()
    if kind == "random folder":
        (path / "notes.txt").write_text("hello\n")
        (path / "config.json").write_text("{}")  # half a preset is no preset
        (path / "sub").mkdir()
    if kind == "run without preset":
        (path / "run.json").write_text(json.dumps({"family": "dcgan", "data": "digits"}))
        (path / "samples").mkdir()
    return path


BAD_KINDS = ["unknown name", "empty folder", "random folder", "file", "run without preset"]


def expected_error(kind, source):
    if kind == "run without preset":
        return (f"{source} is a run that has not finished (it has no preset/ yet): continue "
                f"it with `ganzoo train --out {source} --resume`")
    return f"Unknown preset {str(source)!r}: {ONE_ERROR}"


# -- each kind ------------------------------------------------------------------------------


def test_every_kind_resolves_to_its_folder(folders, monkeypatch):
    monkeypatch.setenv("GANZOO_PRESETS", str(folders["shelf"]))
    by_name = sources.resolve("tiny-source")
    assert (by_name.kind, by_name.path, by_name.preset_path) == (
        "preset", folders["preset"], folders["preset"])
    by_folder = sources.resolve(str(folders["preset"]))
    assert (by_folder.kind, by_folder.preset_path) == ("preset", folders["preset"])
    run = sources.resolve(folders["run"])  # a Path works as well as a str
    assert (run.kind, run.path, run.preset_path) == (
        "run", folders["run"], folders["run"] / "preset")
    bundle = sources.resolve(folders["bundle"])
    assert (bundle.kind, bundle.path, bundle.preset_path) == ("bundle", folders["bundle"], None)
    assert bundle.metadata["format"] == "onnx" and bundle.metadata["family"] == "dcgan"


def test_a_run_folder_written_before_run_json_still_resolves(folders, tmp_path):
    old_run = tmp_path / "old-run"
    shutil.copytree(folders["preset"], old_run / "preset")
    assert sources.resolve(old_run).preset_path == old_run / "preset"


def test_loaders_give_the_model_and_the_runtime(folders, model):
    loaded = ganzoo.models.load(sources.resolve(folders["run"]))
    for mine, theirs in zip(loaded.generator.weights, model.generator.weights):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    sampler = sources.resolve(folders["bundle"]).load_runtime(providers="cpu")
    assert sampler.provider == "CPUExecutionProvider"
    images = sampler.sample(2, seed=0)
    assert images.shape == (2, 16, 16, 1) and images.dtype == np.uint8


def test_a_loader_of_the_other_kind_says_what_to_give(folders):
    with pytest.raises(ValueError, match="is an export bundle; expected a preset name, preset "
                                         "folder or run folder"):
        ganzoo.models.load(sources.resolve(folders["bundle"]))
    with pytest.raises(ValueError, match="is a preset; expected an export bundle \\(export it "
                                         "first: ganzoo export"):
        sources.resolve(folders["preset"]).load_runtime()


def test_presets_resolve_is_the_same_decision(folders):
    assert presets.resolve(folders["run"]) == folders["run"] / "preset"
    assert presets.resolve(folders["preset"]) == folders["preset"]
    with pytest.raises(ValueError, match="is an export bundle; expected a preset name"):
        ganzoo.load_generator(folders["bundle"])


# -- one error for anything else -------------------------------------------------------------


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_anything_else_is_one_line(kind, tmp_path):
    source = bad_source(kind, tmp_path)
    with pytest.raises(ValueError) as caught:
        sources.resolve(source)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(expected_error(kind, source))
    with pytest.raises(ValueError) as through_presets:
        presets.resolve(source)
    assert str(through_presets.value) == message


@pytest.mark.parametrize("command", ["sample", "export", "bench"])
def test_a_folder_named_like_a_preset_says_it_hides_the_preset(folders, tmp_path,
                                                               monkeypatch, command):
    monkeypatch.setenv("GANZOO_PRESETS", str(folders["shelf"]))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny-source").mkdir()
    (tmp_path / "tiny-source" / "notes.txt").write_text("not a model")
    expected = (f"'tiny-source' is a path here ({tmp_path / 'tiny-source'}) that is not a "
                "preset, run folder or export bundle, and it hides the preset named "
                "'tiny-source': run from another folder or rename that one to use the preset")
    with pytest.raises(ValueError) as caught:
        sources.resolve("tiny-source")
    assert str(caught.value) == expected
    assert cli_error(command, "tiny-source", tmp_path) == f"ganzoo: error: {expected}"
    # Given as a path, the folder is what was meant: the usual one line for it.
    with pytest.raises(ValueError, match="Unknown preset './tiny-source'"):
        sources.resolve("./tiny-source")


def test_datasets_are_sources_only_where_allowed(tmp_path):
    data = sources.resolve("digits:test", allow_data=True)
    assert (data.kind, data.data, data.split) == ("data", "digits", "test")
    assert sources.resolve("digits", allow_data=True, split="test").split == "test"
    with pytest.raises(ValueError, match="Unknown preset 'digits'"):
        sources.resolve("digits")
    with pytest.raises(ValueError) as caught:
        sources.resolve("nowhere", allow_data=True)
    assert str(caught.value).startswith(f"Unknown preset 'nowhere': {ONE_ERROR}")
    assert ", nor a dataset: " in str(caught.value)
    unchecked = sources.resolve("nowhere", allow_data=True, check_data=False)
    assert (unchecked.kind, unchecked.data) == ("data", "nowhere")


# -- the same answer from every command ------------------------------------------------------


def cli_error(command, source, tmp_path):
    args = {
        "sample": ["sample", source, "--out", tmp_path / "grid.png"],
        "export": ["export", source, "--out", tmp_path / "bundle"],
        "bench": ["bench", source, "--repeats", "1"],
        "evaluate": ["evaluate", source, "--data", "digits", "--features", "digits", "-n", "8"],
    }[command]
    result = ganzoo_cli_inprocess(args)
    assert_one_line_error(result, "")
    return result.output.strip()


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_every_command_gives_the_same_line_for_the_same_bad_source(kind, tmp_path):
    source = bad_source(kind, tmp_path)
    expected = f"ganzoo: error: {expected_error(kind, source)}"
    lines = {command: cli_error(command, source, tmp_path)
             for command in ("sample", "export", "bench", "evaluate")}
    assert lines["sample"].startswith(expected), lines["sample"]
    assert lines["export"] == lines["bench"] == lines["sample"]
    if kind == "run without preset":
        assert lines["evaluate"] == lines["sample"]
    else:  # evaluate also tried it as a dataset, and says why that failed too
        assert lines["evaluate"].startswith(lines["sample"] + ", nor a dataset: ")


def test_export_of_a_bundle_says_to_give_a_preset(folders, tmp_path):
    result = ganzoo_cli_inprocess(["export", folders["bundle"], "--out", tmp_path / "again"])
    assert_one_line_error(result, "is an export bundle; expected a preset name, preset folder "
                                  "or run folder")
    assert not (tmp_path / "again").exists()
