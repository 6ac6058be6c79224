"""ONNX and SavedModel bundles: parity with Keras, ganzoo.json, atomic and safe writes."""

import errno
import json
import os
import sys

import keras
import numpy as np
import onnx
import onnxruntime as ort
import pytest
import tensorflow as tf
from keras import layers

import ganzoo
from ganzoo import _atomic
from ganzoo import _bundle
from ganzoo import _sampling
from ganzoo import export
from ganzoo.export import onnx_export
from ganzoo.export import saved_model as saved_model_lib

from export_helpers import (LATENT_DIM, StandIn, read_only_disk, small_disk, snapshot,
                            tiny_generator)


def conditional_generator(num_classes=10):
    latent = keras.Input((LATENT_DIM,), name="latent")
    label = keras.Input((), dtype="int32", name="label")
    embedded = layers.Embedding(num_classes, LATENT_DIM, name="embed")(label)
    x = layers.Multiply(name="condition")([latent, embedded])
    x = layers.Dense(8 * 8 * 4, name="project")(x)
    x = layers.Reshape((8, 8, 4), name="reshape")(x)
    x = layers.Conv2DTranspose(4, 4, strides=2, padding="same", name="up")(x)
    images = layers.Conv2D(1, 3, padding="same", activation="tanh", name="to_image")(x)
    return keras.Model([latent, label], images, name="conditional_generator")


class SubclassedGenerator(keras.Model):
    """A user's generator with no functional `.inputs`."""

    def __init__(self):
        super().__init__()
        self.project = layers.Dense(8 * 8 * 2)
        self.reshape = layers.Reshape((8, 8, 2))
        self.to_image = layers.Conv2D(3, 3, padding="same", activation="tanh")

    def call(self, latent, training=False):
        return self.to_image(self.reshape(self.project(latent)))


def _cpu_session(path):
    return ort.InferenceSession(
        os.path.join(path, "model.onnx"), providers=["CPUExecutionProvider"]
    )


def _keras(generator, *inputs):
    arrays = inputs[0] if len(inputs) == 1 else list(inputs)
    return generator(arrays, training=False).numpy()


@pytest.fixture(scope="module")
def generator():
    return tiny_generator()


def test_onnx_bundle_matches_keras_with_dynamic_batch(generator, tmp_path):
    out_dir = tmp_path / "bundle"
    metadata = export.to_onnx(StandIn(generator), out_dir)

    assert sorted(os.listdir(out_dir)) == ["ganzoo.json", "model.cpu.onnx", "model.onnx"]
    with open(out_dir / "ganzoo.json") as handle:
        assert json.load(handle) == metadata
    assert metadata["format_version"] == 1
    assert metadata["format"] == "onnx"
    assert metadata["family"] == "dcgan"
    assert metadata["preset"] == "tiny"
    assert metadata["ganzoo_version"] == ganzoo.__version__
    assert metadata["inputs"] == [
        {"name": "latent", "shape": [None, LATENT_DIM], "dtype": "float32", "role": "latent"}
    ]
    assert metadata["outputs"] == [
        {
            "name": "images",
            "shape": [None, 16, 16, 1],
            "dtype": "float32",
            "range": [-1.0, 1.0],
            "layout": "NHWC",
        }
    ]
    assert metadata["latent_dim"] == LATENT_DIM
    assert metadata["num_classes"] is None
    assert metadata["image_shape"] == [16, 16, 1]
    assert metadata["fp16"] is False
    assert metadata["created"]
    parity = metadata["parity"]
    assert parity["max_abs_diff"] <= 1e-4
    assert parity["tolerance"] == 1e-4
    assert parity["samples"] == 8 and parity["seed"] == 0
    assert parity["backend"] == "onnxruntime-cpu"

    onnx_model = onnx.load(out_dir / "model.onnx")
    opsets = {entry.domain: entry.version for entry in onnx_model.opset_import}
    opset = opsets.get("", opsets.get("ai.onnx"))
    assert opset >= 17 and metadata["opset"] == opset
    assert onnx_model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"

    session = _cpu_session(out_dir)
    assert [value.name for value in session.get_outputs()] == ["images"]
    for batch in (1, 5):
        latents = _sampling.latents(batch, LATENT_DIM, seed=batch)
        (images,) = session.run(None, {"latent": latents})
        assert images.shape == (batch, 16, 16, 1)
        np.testing.assert_allclose(images, _keras(generator, latents), atol=1e-4, rtol=0)


def test_opset_18_is_recorded(generator, tmp_path):
    metadata = export.to_onnx(generator, tmp_path / "bundle", opset=18, parity_samples=2)
    onnx_model = onnx.load(tmp_path / "bundle" / "model.onnx")
    opsets = {entry.domain: entry.version for entry in onnx_model.opset_import}
    assert metadata["opset"] == 18 and opsets.get("", opsets.get("ai.onnx")) == 18


def test_saved_model_reloads_and_reproduces_generator(generator, tmp_path):
    out_dir = tmp_path / "savedmodel"
    metadata = export.to_saved_model(StandIn(generator), out_dir)

    assert sorted(os.listdir(out_dir)) == ["ganzoo.json", "saved_model"]
    assert metadata["format"] == "savedmodel"
    assert metadata["opset"] is None
    assert metadata["parity"]["max_abs_diff"] <= 1e-5
    assert export.read_bundle(out_dir) == metadata

    loaded = tf.saved_model.load(str(out_dir / "saved_model"))
    serve = loaded.signatures["serving_default"]
    _, named_specs = serve.structured_input_signature
    assert list(named_specs) == ["latent"]
    assert named_specs["latent"].shape.as_list() == [None, LATENT_DIM]
    for batch in (1, 5):
        latents = _sampling.latents(batch, LATENT_DIM, seed=7)
        images = serve(latent=tf.constant(latents))["images"].numpy()
        np.testing.assert_allclose(images, _keras(generator, latents), atol=1e-5, rtol=0)


@pytest.mark.parametrize("exporter", [export.to_onnx, export.to_saved_model])
def test_existing_folder_is_not_touched_without_overwrite(generator, tmp_path, exporter):
    out_dir = tmp_path / "taken"
    out_dir.mkdir()
    (out_dir / "notes.txt").write_text("keep me")

    with pytest.raises(FileExistsError, match="overwrite=True") as info:
        exporter(generator, out_dir)
    assert str(out_dir) in str(info.value)
    assert os.listdir(out_dir) == ["notes.txt"]
    assert (out_dir / "notes.txt").read_text() == "keep me"
    assert sorted(os.listdir(tmp_path)) == ["taken"]


def test_overwrite_replaces_a_bundle(generator, tmp_path):
    out_dir = tmp_path / "bundle"
    export.to_onnx(generator, out_dir, parity_samples=2)
    (out_dir / ".model.onnx.k2j4h6g8.tmp").write_text("left by a killed export")

    metadata = export.to_onnx(generator, out_dir, overwrite=True, parity_samples=3, seed=5)

    assert sorted(os.listdir(out_dir)) == ["ganzoo.json", "model.cpu.onnx", "model.onnx"]
    assert export.read_bundle(out_dir)["parity"]["samples"] == 3
    assert metadata["parity"]["seed"] == 5
    assert sorted(os.listdir(tmp_path)) == ["bundle"]


@pytest.mark.parametrize("exporter", [export.to_onnx, export.to_saved_model])
@pytest.mark.parametrize("foreign", ["notes.txt", "deploy/values.yaml"])
def test_overwrite_refuses_a_bundle_holding_files_ganzoo_did_not_write(generator, tmp_path,
                                                                       exporter, foreign):
    out_dir = tmp_path / "bundle"
    exporter(generator, out_dir, parity_samples=1)
    (out_dir / foreign).parent.mkdir(exist_ok=True)
    (out_dir / foreign).write_text("mine")
    before = snapshot(out_dir)

    with pytest.raises(FileExistsError) as info:
        exporter(generator, out_dir, overwrite=True, parity_samples=1)

    assert str(info.value) == (
        f"{out_dir / foreign} was not written by ganzoo: refusing to replace the ganzoo "
        f"bundle {out_dir} even with overwrite=True; move that file out of it first or "
        "choose another folder"
    )
    assert snapshot(out_dir) == before
    assert sorted(os.listdir(tmp_path)) == ["bundle"]


def test_overwrite_refuses_a_folder_that_is_not_a_bundle(generator, tmp_path):
    out_dir = tmp_path / "photos"
    out_dir.mkdir()
    (out_dir / "holiday.png").write_bytes(b"not really a png")
    with pytest.raises(FileExistsError, match="not a ganzoo bundle"):
        export.to_onnx(generator, out_dir, overwrite=True)
    assert os.listdir(out_dir) == ["holiday.png"]


@pytest.mark.parametrize("exporter", [export.to_onnx, export.to_saved_model])
def test_overwrite_refuses_a_file(generator, tmp_path, exporter):
    out_dir = tmp_path / "notes.txt"
    out_dir.write_text("keep me")
    with pytest.raises(ValueError, match="is not a ganzoo bundle \\(a file\\)") as info:
        exporter(generator, out_dir, overwrite=True, parity_samples=1)
    assert isinstance(info.value, FileExistsError) and str(out_dir) in str(info.value)
    assert out_dir.read_text() == "keep me"
    assert os.listdir(tmp_path) == ["notes.txt"]


def test_overwrite_replaces_an_empty_folder(generator, tmp_path):
    (tmp_path / "bundle").mkdir()
    export.to_saved_model(generator, tmp_path / "bundle", overwrite=True, parity_samples=1)
    assert export.is_bundle(tmp_path / "bundle")


@pytest.mark.parametrize("exporter", [export.to_onnx, export.to_saved_model, export.to_triton])
def test_a_diverged_generator_is_named_as_such_not_as_a_parity_failure(tmp_path, exporter):
    diverged = tiny_generator()
    variable = diverged.get_layer("up_1").kernel
    variable.assign(np.full(variable.shape, np.nan, "float32"))
    with pytest.raises(ValueError) as info:
        exporter(StandIn(diverged), tmp_path / "bundle")
    message = str(info.value)
    assert message == (
        f"The generator has NaN or Inf weights (first: {variable.path}): the model diverged "
        "in training. Lower the learning rate and resume from the last good checkpoint"
    )
    assert os.listdir(tmp_path) == []


def _half_then_disk_full(model, path, *args, **kwargs):
    """`onnx.save` on a full disk: half a file is written, then the write fails."""
    with open(path, "wb") as handle:
        handle.write(model.SerializeToString()[:100])
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_while_writing_the_model_keeps_the_old_bundle(generator, tmp_path,
                                                                  monkeypatch):
    out_dir = tmp_path / "bundle"
    export.to_onnx(generator, out_dir, parity_samples=1)
    before = snapshot(out_dir)
    monkeypatch.setattr(onnx, "save", _half_then_disk_full)

    with pytest.raises(OSError) as info:
        export.to_onnx(generator, out_dir, overwrite=True, parity_samples=1)

    assert str(info.value) == f"cannot write to {out_dir / 'model.onnx'}: No space left on device"
    assert info.value.errno == errno.ENOSPC
    assert snapshot(out_dir) == before
    assert os.listdir(tmp_path) == ["bundle"]


def test_a_full_disk_while_writing_ganzoo_json_leaves_nothing(generator, tmp_path,
                                                             monkeypatch):
    def disk_full(folder, metadata):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(_bundle, "write_metadata", disk_full)
    with pytest.raises(OSError, match="ganzoo.json: No space left on device"):
        export.to_saved_model(generator, tmp_path / "new" / "bundle", parity_samples=1)
    assert os.listdir(tmp_path) == []


def test_a_full_disk_while_writing_a_saved_model_is_one_line(generator, tmp_path,
                                                            monkeypatch):
    def disk_full(obj, path, *args, **kwargs):
        os.makedirs(path)
        (open(os.path.join(path, "saved_model.pb"), "wb")).close()
        raise tf.errors.ResourceExhaustedError(None, None, "")  # what TensorFlow raises

    monkeypatch.setattr(tf.saved_model, "save", disk_full)
    out_dir = tmp_path / "bundle"
    with pytest.raises(OSError) as info:
        export.to_saved_model(generator, out_dir, parity_samples=1)
    assert str(info.value) == f"cannot write to {out_dir / 'saved_model'}: No space left on device"
    assert os.listdir(tmp_path) == []


def test_a_really_full_disk_fails_the_onnx_export(generator, tmp_path):
    """model.onnx fits, model.cpu.onnx does not: the export fails, nothing is left."""
    size = len(onnx_export.convert_checked(
        generator, export.ExportOptions(parity_samples=1),
    ).onnx_model.SerializeToString())
    with small_disk(tmp_path / "disk", free_bytes=size + 8192) as disk:
        with pytest.raises(OSError) as info:
            export.to_onnx(generator, disk / "bundle", parity_samples=1)
        assert str(info.value) == (
            f"cannot write to {disk / 'bundle' / 'model.cpu.onnx'}: No space left on device"
        )
        assert os.listdir(disk) == ["filler"]


@pytest.mark.parametrize("exporter", [export.to_onnx, export.to_saved_model])
def test_a_read_only_output_folder_is_one_line(generator, tmp_path, monkeypatch, exporter):
    def refused(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / ".b.tmp-1"))

    monkeypatch.setattr(_atomic.tempfile, "mkdtemp", refused)
    with pytest.raises(PermissionError) as info:
        exporter(generator, tmp_path / "bundle", parity_samples=1)
    assert str(info.value) == f"cannot write to {tmp_path}: permission denied"
    assert os.listdir(tmp_path) == []


def test_a_read_only_file_system_fails_the_export_in_one_line(generator, tmp_path):
    with read_only_disk(tmp_path / "disk") as disk:
        with pytest.raises(OSError) as info:
            export.to_saved_model(generator, disk / "bundle", parity_samples=1)
        assert str(info.value) == f"cannot write to {disk}: Read-only file system"
        assert os.listdir(disk) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_really_read_only_output_folder_is_one_line(generator, tmp_path):
    parent = tmp_path / "locked"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        with pytest.raises(PermissionError, match=f"cannot write to {parent}: permission denied"):
            export.to_onnx(generator, parent / "sub" / "bundle", parity_samples=1)
    finally:
        parent.chmod(0o755)
    assert os.listdir(parent) == []


def test_failed_onnx_parity_leaves_nothing_behind(generator, tmp_path, monkeypatch):
    real_run = onnx_export.run_onnx

    def off_by_a_bit(*args):
        return [output + 1e-3 for output in real_run(*args)]

    monkeypatch.setattr(onnx_export, "run_onnx", off_by_a_bit)
    out_dir = tmp_path / "new_parent" / "bundle"
    with pytest.raises(ValueError, match="does not match Keras"):
        export.to_onnx(generator, out_dir)
    assert os.listdir(tmp_path) == []


def test_failed_parity_keeps_the_old_bundle(generator, tmp_path, monkeypatch):
    out_dir = tmp_path / "bundle"
    before = export.to_saved_model(generator, out_dir, parity_samples=2)

    def wrong(model_path, specs, feeds):
        return [np.zeros((len(feeds[0]), 16, 16, 1), np.float32)]

    monkeypatch.setattr(saved_model_lib, "run_saved_model", wrong)
    with pytest.raises(ValueError, match="does not match Keras"):
        export.to_saved_model(generator, out_dir, overwrite=True)
    assert export.read_bundle(out_dir) == before
    assert sorted(os.listdir(tmp_path)) == ["bundle"]


def test_user_generator_needs_and_takes_an_input_signature(tmp_path):
    generator = SubclassedGenerator()
    with pytest.raises(ValueError, match="input_signature"):
        export.to_onnx(generator, tmp_path / "bundle")
    assert not (tmp_path / "bundle").exists()

    signature = [tf.TensorSpec((None, 12), tf.float32, name="z")]
    metadata = export.to_onnx(generator, tmp_path / "bundle", input_signature=signature)
    assert metadata["family"] is None and metadata["preset"] is None
    assert metadata["inputs"][0]["role"] == "latent"
    assert metadata["latent_dim"] == 12
    assert metadata["image_shape"] == [8, 8, 3]

    latents = _sampling.latents(3, 12, seed=0)
    (images,) = _cpu_session(tmp_path / "bundle").run(None, {"z": latents})
    np.testing.assert_allclose(images, _keras(generator, latents), atol=1e-4, rtol=0)


def test_unnamed_single_input_defaults_to_latent(tmp_path):
    latent = keras.Input((8,))
    images = layers.Reshape((2, 2, 2))(layers.Dense(8, activation="tanh")(latent))
    metadata = export.to_saved_model(keras.Model(latent, images), tmp_path / "bundle")
    assert metadata["inputs"][0]["role"] == "latent"


def test_label_input_gets_the_label_role(tmp_path):
    generator = conditional_generator(num_classes=10)
    metadata = export.to_onnx(generator, tmp_path / "bundle")
    assert [(entry["name"], entry["role"], entry["dtype"]) for entry in metadata["inputs"]] == [
        ("latent", "latent", "float32"),
        ("label", "label", "int32"),
    ]
    assert metadata["inputs"][1]["shape"] == [None]
    assert metadata["num_classes"] == 10  # read from the generator's one Embedding

    latents = _sampling.latents(4, LATENT_DIM, seed=2)
    labels = np.array([0, 3, 9, 3], np.int32)
    (images,) = _cpu_session(tmp_path / "bundle").run(None, {"latent": latents, "label": labels})
    np.testing.assert_allclose(images, _keras(generator, latents, labels), atol=1e-4, rtol=0)


def test_noise_and_image_inputs_get_their_roles(tmp_path):
    image = keras.Input((None, None, 1), name="image")
    noise = keras.Input((None, None, 1), name="noise_0")
    x = layers.Conv2D(4, 3, padding="same", name="features")(image)
    x = layers.Add(name="add_noise")([x, layers.Conv2D(4, 1, name="noise_scale")(noise)])
    x = layers.UpSampling2D(2, name="up")(x)
    images = layers.Conv2D(1, 3, padding="same", activation="tanh", name="to_image")(x)
    generator = keras.Model([image, noise], images)
    metadata = export.to_onnx(generator, tmp_path / "bundle")
    assert [entry["role"] for entry in metadata["inputs"]] == ["image", "noise"]
    assert metadata["inputs"][0]["shape"] == [None, None, None, 1]
    assert metadata["inputs"][0]["range"] == [-1.0, 1.0]
    assert metadata["outputs"][0]["shape"] == [None, None, None, 1]
    assert metadata["latent_dim"] is None


def test_ambiguous_inputs_are_refused(tmp_path):
    first = keras.Input((4,), name="style_a")
    second = keras.Input((4,), name="style_b")
    images = layers.Reshape((2, 2, 2))(layers.Concatenate()([first, second]))
    with pytest.raises(ValueError, match="role of generator input 'style_b'"):
        export.to_onnx(keras.Model([first, second], images), tmp_path / "bundle")
    assert not (tmp_path / "bundle").exists()


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"opset": 13}, "opset must lie in"),
        ({"opset": "17"}, "opset must be an integer"),
        ({"parity_samples": 0}, "parity_samples"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_arguments_raise_before_writing(generator, tmp_path, arguments, message):
    with pytest.raises(ValueError, match=message):
        export.to_onnx(generator, tmp_path / "bundle", **arguments)
    assert os.listdir(tmp_path) == []


def test_fp16_without_onnxconverter_common_says_what_to_install(
    generator, tmp_path, monkeypatch
):
    # A None entry in sys.modules makes `import onnxconverter_common` fail, as if the
    # package were not installed.
    monkeypatch.setitem(sys.modules, "onnxconverter_common", None)
    with pytest.raises(ValueError, match="onnxconverter-common"):
        export.to_onnx(generator, tmp_path / "bundle", fp16=True)
    assert os.listdir(tmp_path) == []


def test_read_bundle_and_is_bundle(generator, tmp_path):
    assert not export.is_bundle(tmp_path)
    with pytest.raises(ValueError, match="not a ganzoo bundle"):
        export.read_bundle(tmp_path)
    with pytest.raises(ValueError, match="no such folder"):
        export.read_bundle(tmp_path / "missing")

    export.to_onnx(generator, tmp_path / "bundle", parity_samples=1)
    assert export.is_bundle(tmp_path / "bundle")
    assert export.read_bundle(tmp_path / "bundle" / "ganzoo.json")["format"] == "onnx"

    metadata_path = tmp_path / "bundle" / "ganzoo.json"
    metadata = json.loads(metadata_path.read_text())
    metadata["format_version"] = 99
    metadata_path.write_text(json.dumps(metadata))
    with pytest.raises(ValueError, match="newer than this ganzoo"):
        export.read_bundle(tmp_path / "bundle")
    metadata_path.write_text("{not json")
    with pytest.raises(ValueError, match="Cannot read"):
        export.read_bundle(tmp_path / "bundle")


def test_a_conversion_with_misshapen_outputs_is_retried(generator, tmp_path, monkeypatch):
    conversions = []
    real_convert, real_run = onnx_export._convert, onnx_export.run_onnx

    def counting_convert(*args):
        conversions.append(1)
        return real_convert(*args)

    def first_run_misshapen(model, specs, feeds):
        outputs = real_run(model, specs, feeds)
        if len(conversions) == 1:
            return [output[np.newaxis] for output in outputs]  # the shape tf2onnx got wrong
        return outputs

    monkeypatch.setattr(onnx_export, "_convert", counting_convert)
    monkeypatch.setattr(onnx_export, "run_onnx", first_run_misshapen)
    metadata = export.to_onnx(generator, tmp_path / "bundle")
    assert len(conversions) == 2
    assert metadata["parity"]["max_abs_diff"] <= 1e-4
