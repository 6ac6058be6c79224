"""Facts stored twice agree: `ganzoo.json` against the metadata inside the ONNX file.

The checksums cover every file but `ganzoo.json` itself, so an edit there (a declared
output range changed from [-1, 1] to [0, 1], with the checksums regenerated or not) used
to load and sample up to 127 levels off. Each test edits one fact in a copy of a real
bundle and checks that `ganzoo.runtime.load` (and `export --format triton` from a bundle)
refuses it in one line naming the field, both values and the edit.
"""

import json
import shutil

import keras
import numpy as np
import onnx
import pytest
from keras import layers

from ganzoo import _bundle, export, runtime
from cli_helpers import assert_one_line_error, ganzoo_cli_inprocess
from export_helpers import StandIn, tiny_generator


def _tanh_translator():
    image = keras.Input((8, 8, 1), name="image")
    x = layers.Conv2D(4, 3, padding="same", activation="relu")(image)
    images = layers.Conv2D(1, 3, padding="same", activation="tanh")(x)
    return keras.Model(image, images, name="translator")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A sampler bundle (with model.cpu.onnx), a translator bundle and a Triton repository."""
    root = tmp_path_factory.mktemp("stored_twice")
    export.to_onnx(StandIn(tiny_generator()), root / "sampler", parity_samples=1)
    export.to_onnx(_tanh_translator(), root / "translator", parity_samples=1, optimize=False)
    export.to_triton(root / "sampler", root / "repo")
    return root


def _copy(exported, tmp_path, name):
    copy = tmp_path / name
    shutil.copytree(exported / name, copy)
    return copy


def _edit(metadata_path, change):
    metadata = json.loads(metadata_path.read_text())
    change(metadata)
    metadata_path.write_text(json.dumps(metadata))


def _refused(bundle, **options):
    with pytest.raises(ValueError) as info:
        runtime.load(bundle, providers="cpu", **options)
    message = str(info.value)
    assert "\n" not in message
    return message


def _edited_message(bundle, model_file, field, in_json, in_model):
    return (
        f"{bundle}: ganzoo.json says {field}={in_json} but {model_file} records "
        f"{field}={in_model}: the bundle was edited after export. Re-export it, or copy it "
        "again from where it was exported"
    )


def test_an_edited_output_range_is_refused_with_checksums_regenerated(exported, tmp_path):
    bundle = _copy(exported, tmp_path, "sampler")
    before = runtime.load(bundle, providers="cpu").sample(4, seed=0)

    def to_zero_one(metadata):
        metadata["outputs"][0]["range"] = [0.0, 1.0]
        metadata["files"] = _bundle.list_files(bundle)  # every checksum still matches

    _edit(bundle / "ganzoo.json", to_zero_one)
    _bundle.verify_files(bundle, _bundle.read_bundle(bundle))
    assert _refused(bundle) == _edited_message(
        bundle, "model.cpu.onnx", "outputs[0].range", "[0.0, 1.0]", "[-1.0, 1.0]")
    assert _refused(bundle, optimized=False) == _edited_message(
        bundle, "model.onnx", "outputs[0].range", "[0.0, 1.0]", "[-1.0, 1.0]")
    # Put back, the bundle loads and samples the same pictures as before the edit.
    _edit(bundle / "ganzoo.json", lambda metadata: metadata["outputs"][0].update(
        range=[-1, 1]))
    np.testing.assert_array_equal(runtime.load(bundle, providers="cpu").sample(4, seed=0),
                                  before)


@pytest.mark.parametrize(
    "field, edit, in_json, in_model",
    [
        ("family", lambda m: m.update(family="srgan"), '"srgan"', '"dcgan"'),
        ("preset", lambda m: m.update(preset="faces"), '"faces"', '"tiny"'),
        ("generator", lambda m: m.update(generator="ema"), '"ema"', '"generator"'),
        ("ganzoo_version", lambda m: m.update(ganzoo_version="9.9"), '"9.9"', '"0.1.0"'),
        ("latent_dim", lambda m: m.update(latent_dim=8), "8", "16"),
        ("num_classes", lambda m: m.update(num_classes=10), "10", "null"),
        ("inputs[0].role", lambda m: m["inputs"][0].update(role="noise"), '"noise"',
         '"latent"'),
        ("outputs[0].layout", lambda m: m["outputs"][0].update(layout="NCHW"), '"NCHW"',
         '"NHWC"'),
        # A fact removed from ganzoo.json is a disagreement too: the runtime would use
        # its default in its place.
        ("outputs[0].range", lambda m: m["outputs"][0].pop("range"), "null", "[-1.0, 1.0]"),
        ("family", lambda m: m.pop("family"), "null", '"dcgan"'),
    ],
)
def test_every_fact_of_a_sampler_is_cross_checked(exported, tmp_path, field, edit, in_json,
                                                 in_model):
    bundle = _copy(exported, tmp_path, "sampler")
    _edit(bundle / "ganzoo.json", edit)
    assert _refused(bundle) == _edited_message(bundle, "model.cpu.onnx", field, in_json,
                                               in_model)


@pytest.mark.parametrize(
    "field, edit, in_json, in_model",
    [
        ("inputs[0].range", lambda m: m["inputs"][0].update(range=[0, 1]), "[0, 1]",
         "[-1.0, 1.0]"),
        # Sizes the graph leaves open pass the graph check; the recorded ones still differ.
        ("inputs[0].shape", lambda m: m["inputs"][0].update(shape=[None, None, None, 1]),
         "[null, null, null, 1]", "[null, 8, 8, 1]"),
        ("inputs[0].size_multiple", lambda m: m["inputs"][0].update(size_multiple=4), "4",
         "null"),
        ("image_shape", lambda m: m.update(image_shape=[None, None, 1]), "[null, null, 1]",
         "[8, 8, 1]"),
    ],
)
def test_the_image_input_of_a_translator_is_cross_checked(exported, tmp_path, field, edit,
                                                          in_json, in_model):
    bundle = _copy(exported, tmp_path, "translator")
    pixels = np.arange(64, dtype=np.uint8).reshape(8, 8, 1)
    assert runtime.load(bundle, providers="cpu").translate(pixels).shape == (8, 8, 1)
    _edit(bundle / "ganzoo.json", edit)
    assert _refused(bundle) == _edited_message(bundle, "model.onnx", field, in_json, in_model)


def _strip_onnx_metadata(bundle, keep=()):
    """Remove ganzoo's metadata_props from the bundle's graphs (but `keep`), as an older
    ganzoo wrote them, with the checksums regenerated."""
    for name in ("model.onnx", "model.cpu.onnx"):
        model = onnx.load(bundle / name)
        props = [(entry.key, entry.value) for entry in model.metadata_props
                 if entry.key in keep]
        del model.metadata_props[:]
        for key, value in props:
            model.metadata_props.add(key=key, value=value)
        onnx.save(model, bundle / name)
    _edit(bundle / "ganzoo.json",
          lambda metadata: metadata.update(files=_bundle.list_files(bundle)))


def test_facts_the_graph_does_not_record_are_not_checked(exported, tmp_path):
    bundle = _copy(exported, tmp_path, "sampler")
    _strip_onnx_metadata(bundle)
    _edit(bundle / "ganzoo.json", lambda m: m["outputs"][0].update(range=[-1.0, 3.0]))
    images = runtime.load(bundle, providers="cpu").sample(2, seed=0)
    assert images.shape == (2, 16, 16, 1) and images.max() <= 128  # nothing to tell

    # A graph that records some facts has those checked and only those.
    bundle = _copy(exported, tmp_path / "partly", "sampler")
    _strip_onnx_metadata(bundle, keep=("ganzoo.family",))
    _edit(bundle / "ganzoo.json", lambda m: m["outputs"][0].update(range=[-1.0, 3.0]))
    assert runtime.load(bundle, providers="cpu").sample(1).shape == (1, 16, 16, 1)
    _edit(bundle / "ganzoo.json", lambda m: m.update(family="cgan"))
    assert _refused(bundle) == _edited_message(bundle, "model.cpu.onnx", "family", '"cgan"',
                                               '"dcgan"')


def test_the_ganzoo_metadata_is_read_by_its_own_prefix_only(exported, tmp_path):
    # Other tools' metadata_props (a "family" of their own) are none of ganzoo.json's.
    bundle = _copy(exported, tmp_path, "sampler")
    _strip_onnx_metadata(bundle, keep=("ganzoo.outputs",))
    for name in ("model.onnx", "model.cpu.onnx"):
        model = onnx.load(bundle / name)
        model.metadata_props.add(key="family", value="something else")
        onnx.save(model, bundle / name)
    _edit(bundle / "ganzoo.json",
          lambda metadata: metadata.update(files=_bundle.list_files(bundle)))
    assert runtime.load(bundle, providers="cpu").sample(1).shape == (1, 16, 16, 1)


def test_both_ganzoo_json_of_a_triton_repository_are_cross_checked(exported, tmp_path):
    repo = _copy(exported, tmp_path, "repo")
    version = repo / "dcgan" / "1"
    assert runtime.load(repo, providers="cpu").sample(1).shape == (1, 16, 16, 1)

    def to_zero_one(metadata):
        metadata["outputs"][0]["range"] = [0, 1]

    _edit(version / "ganzoo.json", to_zero_one)
    assert _refused(version) == _edited_message(version, "model.onnx", "outputs[0].range",
                                                "[0, 1]", "[-1.0, 1.0]")
    assert runtime.load(repo, providers="cpu").sample(1).shape == (1, 16, 16, 1)
    _edit(repo / "ganzoo.json", to_zero_one)
    assert _refused(repo) == _edited_message(repo, "dcgan/1/model.onnx", "outputs[0].range",
                                             "[0, 1]", "[-1.0, 1.0]")


def test_an_edited_bundle_is_not_copied_into_a_triton_repository(exported, tmp_path):
    bundle = _copy(exported, tmp_path, "sampler")
    _edit(bundle / "ganzoo.json", lambda m: m["outputs"][0].update(range=[0, 1]))
    with pytest.raises(ValueError) as info:
        export.to_triton(bundle, tmp_path / "repo")
    assert str(info.value) == _edited_message(bundle, "model.onnx", "outputs[0].range",
                                              "[0, 1]", "[-1.0, 1.0]")
    assert not (tmp_path / "repo").exists()


def test_the_command_line_refuses_an_edited_bundle_in_one_line(exported, tmp_path):
    bundle = _copy(exported, tmp_path, "sampler")
    _edit(bundle / "ganzoo.json", lambda m: m["outputs"][0].update(range=[0, 1]))
    result = ganzoo_cli_inprocess(["sample", bundle, "-n", "4", "--out", tmp_path / "g.png"])
    assert_one_line_error(result, "ganzoo.json says outputs[0].range=[0, 1] but")
    assert not (tmp_path / "g.png").exists()
