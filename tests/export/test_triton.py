"""Triton model repositories: many models and versions, instance kinds, warm-up, bundles.

No Triton server can be installed from the package registries with the onnxruntime
backend (docs/export.md says why), so `config.pbtxt` is parsed back with tritonclient's
own `ModelConfig` message and the graphs are run with onnxruntime, as Triton's
onnxruntime backend would.
"""

import errno
import json
import os
import shutil
import subprocess
import sys

import keras
import numpy as np
import onnx
import pytest
from google.protobuf import text_format
from keras import layers

from ganzoo import _sampling, export, runtime
from ganzoo.export import bundle as bundle_lib
from ganzoo.export import triton as triton_lib

from export_helpers import LATENT_DIM, StandIn, snapshot, tiny_generator

NUM_CLASSES = 5


def conditional_generator():
    keras.utils.set_random_seed(4)
    latent = keras.Input((LATENT_DIM,), name="latent")
    label = keras.Input((), dtype="int32", name="label")
    embedded = layers.Embedding(NUM_CLASSES, LATENT_DIM)(label)
    x = layers.Multiply()([latent, embedded])
    x = layers.Dense(8 * 8 * 4)(x)
    x = layers.Reshape((8, 8, 4))(x)
    x = layers.Conv2DTranspose(4, 4, strides=2, padding="same")(x)
    images = layers.Conv2D(1, 3, padding="same", activation="tanh")(x)
    return keras.Model([latent, label], images)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    """Two ONNX bundles of generators with different outputs (1 and 3 channels)."""
    root = tmp_path_factory.mktemp("triton-sources")
    export.to_onnx(StandIn(tiny_generator()), root / "grey", parity_samples=1)
    export.to_onnx(StandIn(tiny_generator(channels=3), family="colour"), root / "colour",
                   parity_samples=1)
    return root


def _config(path):
    from tritonclient.grpc import model_config_pb2

    return text_format.Parse(path.read_text(), model_config_pb2.ModelConfig())


def _kind(name):
    from tritonclient.grpc import model_config_pb2

    return model_config_pb2.ModelInstanceGroup.Kind.Value(name)


def test_a_keras_generator_becomes_a_repository_triton_and_ganzoo_can_read(tmp_path):
    from tritonclient.grpc import model_config_pb2

    generator = conditional_generator()
    repo = tmp_path / "models"
    metadata = export.to_triton(StandIn(generator, "cgan", NUM_CLASSES), repo,
                                max_batch_size=128, parity_samples=3)

    assert sorted(os.listdir(repo)) == ["cgan", "ganzoo.json"]
    assert sorted(os.listdir(repo / "cgan")) == ["1", "config.pbtxt"]
    assert sorted(os.listdir(repo / "cgan" / "1")) == ["ganzoo.json", "model.onnx"]
    assert metadata["format"] == "triton" and metadata["model"] == "cgan/1/model.onnx"
    assert metadata["triton"]["model_name"] == "cgan" and metadata["triton"]["version"] == 1
    assert metadata["triton"]["models"] == {"cgan": [1]}
    assert list(metadata["files"]) == ["cgan/1/model.onnx"]
    assert metadata["parity"]["max_abs_diff"] <= 1e-4
    assert json.loads((repo / "ganzoo.json").read_text()) == metadata
    version = json.loads((repo / "cgan" / "1" / "ganzoo.json").read_text())
    assert version["model"] == "model.onnx" and list(version["files"]) == ["model.onnx"]

    config = _config(repo / "cgan" / "config.pbtxt")
    assert config.name == "cgan"
    assert config.platform == "onnxruntime_onnx" and config.backend == "onnxruntime"
    assert config.max_batch_size == 128
    assert config.HasField("dynamic_batching")
    assert config.version_policy.HasField("all")
    assert [(group.kind, group.count) for group in config.instance_group] == [
        (_kind("KIND_AUTO"), 1)
    ]
    assert not config.model_warmup
    inputs = {entry.name: entry for entry in config.input}
    assert set(inputs) == {"latent", "label"}
    assert list(inputs["latent"].dims) == [LATENT_DIM]
    assert inputs["latent"].data_type == model_config_pb2.TYPE_FP32
    assert list(inputs["label"].dims) == [1]
    assert list(inputs["label"].reshape.shape) == []
    assert inputs["label"].data_type == model_config_pb2.TYPE_INT32
    (output,) = config.output
    assert output.name == "images" and list(output.dims) == [16, 16, 1]
    assert output.data_type == model_config_pb2.TYPE_FP32

    # The names and dtypes in config.pbtxt are those of the ONNX graph Triton will load.
    graph = onnx.load(repo / "cgan" / "1" / "model.onnx").graph
    assert {value.name for value in graph.input} == set(inputs)
    assert [value.name for value in graph.output] == ["images"]

    latents = _sampling.latents(3, LATENT_DIM, seed=5)
    labels = np.array([0, 2, 4], np.int32)
    expected = generator([latents, labels], training=False).numpy()
    for served in (runtime.load(repo), runtime.load(repo / "cgan" / "1")):
        np.testing.assert_allclose(served.run(latent=latents, label=labels), expected,
                                   atol=1e-4, rtol=0)


def test_an_fp16_repository_with_its_own_name(tmp_path):
    metadata = export.to_triton(StandIn(tiny_generator(), family=None), tmp_path / "repo",
                                model_name="faces-v2", fp16=True, parity_samples=2)
    assert metadata["fp16"] is True and metadata["family"] is None
    config = _config(tmp_path / "repo" / "faces-v2" / "config.pbtxt")
    assert config.name == "faces-v2" and config.max_batch_size == 64
    assert [entry.name for entry in config.input] == ["latent"]
    assert runtime.load(tmp_path / "repo").sample(1).shape == (1, 16, 16, 1)


def test_two_models_and_two_versions_live_in_one_repository(bundles, tmp_path):
    repo = tmp_path / "models"
    first = export.to_triton(bundles / "grey", repo, model_name="faces")
    second = export.to_triton(bundles / "grey", repo, model_name="faces",
                              instance_kind="cpu", instances=2)
    colour = export.to_triton(bundles / "colour", repo)

    assert (first["triton"]["version"], second["triton"]["version"]) == (1, 2)
    assert colour["triton"]["model_name"] == "colour"  # the family, by default
    assert sorted(os.listdir(repo)) == ["colour", "faces", "ganzoo.json"]
    assert sorted(os.listdir(repo / "faces")) == ["1", "2", "config.pbtxt"]
    index = json.loads((repo / "ganzoo.json").read_text())
    assert index == colour and index["triton"]["models"] == {"colour": [1], "faces": [1, 2]}
    assert index["model"] == "colour/1/model.onnx"

    faces = _config(repo / "faces" / "config.pbtxt")
    assert faces.name == "faces" and faces.version_policy.HasField("all")
    assert [(g.kind, g.count) for g in faces.instance_group] == [(_kind("KIND_CPU"), 2)]
    assert list(_config(repo / "colour" / "config.pbtxt").output[0].dims) == [16, 16, 3]

    # Every version is a bundle of its own, the graph of its source byte for byte.
    for version in ("1", "2"):
        assert (repo / "faces" / version / "model.onnx").read_bytes() == (
            bundles / "grey" / "model.onnx").read_bytes()
        assert runtime.load(repo / "faces" / version).sample(2, seed=1).shape == (2, 16, 16, 1)
    np.testing.assert_array_equal(runtime.load(repo).sample(2, seed=1),
                                  runtime.load(bundles / "colour").sample(2, seed=1))


def test_adding_never_removes_and_overwrite_replaces_only_that_version(bundles, tmp_path):
    repo = tmp_path / "models"
    export.to_triton(bundles / "grey", repo, model_name="faces")
    export.to_triton(bundles / "grey", repo, model_name="faces")
    export.to_triton(bundles / "colour", repo)
    before = snapshot(repo)

    with pytest.raises(FileExistsError) as info:
        export.to_triton(bundles / "grey", repo, model_name="faces", version=1)
    assert str(info.value) == (
        f"{repo / 'faces' / '1'} already exists: version 1 of Triton model 'faces'. Leave "
        "version unset to add version 3, or pass overwrite=True (--overwrite) to replace "
        "that version"
    )
    assert snapshot(repo) == before

    metadata = export.to_triton(bundles / "grey", repo, model_name="faces", version=1,
                                overwrite=True, instance_kind="gpu")
    assert metadata["triton"]["version"] == 1
    after = snapshot(repo)
    changed = {path for path in set(before) | set(after) if before.get(path) != after.get(path)}
    assert changed == {"ganzoo.json", "faces/config.pbtxt", "faces/1/ganzoo.json"}
    assert [g.kind for g in _config(repo / "faces" / "config.pbtxt").instance_group] == [
        _kind("KIND_GPU")
    ]

    # An explicit new version number is taken as it is.
    export.to_triton(bundles / "grey", repo, model_name="faces", version=7)
    assert json.loads((repo / "ganzoo.json").read_text())["triton"]["models"] == {
        "colour": [1], "faces": [1, 2, 7]
    }


@pytest.mark.parametrize("foreign", ["faces/1/notes.txt", "faces/1/extra/labels.txt"])
def test_overwrite_refuses_a_version_holding_files_ganzoo_did_not_write(bundles, tmp_path,
                                                                        foreign):
    repo = tmp_path / "models"
    export.to_triton(bundles / "grey", repo, model_name="faces")
    (repo / foreign).parent.mkdir(exist_ok=True)
    (repo / foreign).write_text("mine")
    before = snapshot(repo)

    with pytest.raises(FileExistsError) as info:
        export.to_triton(bundles / "grey", repo, model_name="faces", version=1, overwrite=True)

    version = repo / "faces" / "1"
    assert str(info.value) == (
        f"{repo / foreign} was not written by ganzoo: refusing to replace the ganzoo bundle "
        f"{version} even with overwrite=True; move that file out of it first or choose "
        "another folder"
    )
    assert snapshot(repo) == before


def test_a_repository_is_replaced_only_when_it_holds_nothing_but_ganzoo_files(bundles,
                                                                              tmp_path):
    repo = tmp_path / "models"
    export.to_triton(bundles / "grey", repo, model_name="faces")
    assert bundle_lib.check_target(repo, overwrite=True) == str(repo)
    (repo / "README.md").write_text("how we serve")
    with pytest.raises(FileExistsError, match="README.md was not written by ganzoo"):
        bundle_lib.check_target(repo, overwrite=True)
    # What ganzoo wrote (the index, each config.pbtxt, each version's files) it replaces.
    assert bundle_lib.owned_files(repo)("faces/config.pbtxt")
    assert bundle_lib.owned_files(repo)("faces/1/model.onnx")
    assert not bundle_lib.owned_files(repo)("faces/1/notes.txt")


def test_a_version_with_other_inputs_or_outputs_is_refused_and_writes_nothing(bundles,
                                                                              tmp_path):
    repo = tmp_path / "models"
    export.to_triton(bundles / "grey", repo, model_name="faces")
    before = snapshot(repo)
    with pytest.raises(ValueError) as info:
        export.to_triton(bundles / "colour", repo, model_name="faces")
    assert str(info.value) == (
        "Triton model 'faces' has inputs latent [None, 16] float32 and outputs images "
        "[None, 16, 16, 1] float32; this generator has latent [None, 16] float32 and "
        "images [None, 16, 16, 3] float32. Versions of one model share its config.pbtxt: "
        "choose another model name (--model-name)"
    )
    assert snapshot(repo) == before


def test_instance_kinds_counts_warmup_and_dynamic_sizes_parse_back():
    from tritonclient.grpc import model_config_pb2

    inputs = [
        {"name": "image", "shape": [None, None, None, 3], "dtype": "float32", "role": "image",
         "size_multiple": 32},
        {"name": "label", "shape": [None], "dtype": "int32", "role": "label"},
    ]
    outputs = [{"name": "images", "shape": [None, None, None, 3], "dtype": "float32"}]
    for kind, name in (("auto", "KIND_AUTO"), ("gpu", "KIND_GPU"), ("cpu", "KIND_CPU")):
        serving = export.TritonOptions(instance_kind=kind, instances=3, warmup=4,
                                       max_batch_size=8)
        text = triton_lib.model_config("sr", inputs, outputs, serving)
        config = text_format.Parse(text, model_config_pb2.ModelConfig())
        assert [(g.kind, g.count) for g in config.instance_group] == [(_kind(name), 3)]
        assert list(config.input[0].dims) == [-1, -1, 3]
        assert list(config.output[0].dims) == [-1, -1, 3]
        (warmup,) = config.model_warmup
        assert warmup.batch_size == 4
        assert {key: (list(value.dims), value.zero_data, value.data_type)
                for key, value in warmup.inputs.items()} == {
            "image": ([32, 32, 3], True, model_config_pb2.TYPE_FP32),
            "label": ([1], True, model_config_pb2.TYPE_INT32),
        }
    del inputs[0]["size_multiple"]
    with pytest.raises(ValueError, match="warmup needs a fixed size for every input; 'image'"):
        triton_lib.model_config("sr", inputs, outputs, export.TritonOptions(warmup=True))


def test_warmup_from_to_triton_is_in_the_config(bundles, tmp_path):
    export.to_triton(bundles / "grey", tmp_path / "models", warmup=True)
    (warmup,) = _config(tmp_path / "models" / "dcgan" / "config.pbtxt").model_warmup
    assert warmup.batch_size == 1 and list(warmup.inputs["latent"].dims) == [LATENT_DIM]


@pytest.mark.parametrize(
    "options, message",
    [
        ({"max_batch_size": 0}, "max_batch_size must be an integer >= 1"),
        ({"model_name": "../up"}, "model_name must be"),
        ({"instances": "2"}, "instances must be an integer >= 1"),
        ({"instance_kind": "tpu"}, "instance_kind must be one of auto, gpu, cpu"),
        ({"version": 0}, "version must be an integer >= 1"),
        ({"warmup": 65}, "warmup batch size must be at most max_batch_size (64)"),
        ({"fp16": True}, "fp16 apply when exporting a Keras model"),
    ],
)
def test_bad_arguments_write_nothing(bundles, tmp_path, options, message):
    with pytest.raises(ValueError) as info:
        export.to_triton(bundles / "grey", tmp_path / "repo", **options)
    assert message in str(info.value)
    assert not (tmp_path / "repo").exists()


def test_a_folder_that_is_not_a_repository_is_left_alone(bundles, tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("mine")
    with pytest.raises(ValueError, match="is not a Triton model repository: todo.txt"):
        export.to_triton(bundles / "grey", tmp_path / "notes", overwrite=True)
    assert os.listdir(tmp_path / "notes") == ["todo.txt"]

    with pytest.raises(ValueError, match="is a ganzoo onnx bundle, not a Triton model"):
        export.to_triton(bundles / "grey", bundles / "colour", overwrite=True)

    # Someone else's model in a Triton repository: ganzoo adds beside it, never into it.
    repo = tmp_path / "theirs"
    (repo / "dcgan" / "1").mkdir(parents=True)
    (repo / "dcgan" / "config.pbtxt").write_text('name: "dcgan"')
    with pytest.raises(ValueError, match="is a model ganzoo did not write"):
        export.to_triton(bundles / "grey", repo, overwrite=True)
    export.to_triton(bundles / "grey", repo, model_name="faces")
    assert sorted(os.listdir(repo)) == ["dcgan", "faces", "ganzoo.json"]
    assert (repo / "dcgan" / "config.pbtxt").read_text() == 'name: "dcgan"'


def test_a_source_bundle_s_card_comes_along_and_the_repository_verifies(bundles, tmp_path):
    import warnings

    from ganzoo import _bundle

    source = tmp_path / "grey"
    shutil.copytree(bundles / "grey", source)
    (source / "card.md").write_text("# faces\n")
    metadata = json.loads((source / "ganzoo.json").read_text())
    metadata.update(card="card.md", files=_bundle.list_files(source))
    (source / "ganzoo.json").write_text(json.dumps(metadata))

    index = export.to_triton(source, tmp_path / "repo")
    assert index["card"] == "dcgan/1/card.md"
    assert sorted(index["files"]) == ["dcgan/1/card.md", "dcgan/1/model.onnx"]
    assert (tmp_path / "repo" / "dcgan" / "1" / "card.md").read_text() == "# faces\n"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for path in (tmp_path / "repo", tmp_path / "repo" / "dcgan" / "1"):
            assert runtime.load(path, providers="cpu").sample(1).shape == (1, 16, 16, 1)


def test_a_saved_model_bundle_is_refused_as_a_source_in_one_line(bundles, tmp_path):
    source = tmp_path / "savedmodel"
    shutil.copytree(bundles / "grey", source)
    metadata = json.loads((source / "ganzoo.json").read_text())
    metadata.update(format="savedmodel", model="saved_model")
    (source / "ganzoo.json").write_text(json.dumps(metadata))
    with pytest.raises(ValueError) as info:
        export.to_triton(source, tmp_path / "repo")
    assert str(info.value) == (
        f"{source} is a savedmodel bundle; a Triton repository holds ONNX graphs: export "
        "the preset or run folder with --format triton, or an ONNX bundle of it"
    )
    assert not (tmp_path / "repo").exists()


def test_a_damaged_source_bundle_is_refused(bundles, tmp_path):
    source = tmp_path / "grey"
    shutil.copytree(bundles / "grey", source)
    with open(source / "model.onnx", "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ValueError, match="model.onnx does not match its sha256"):
        export.to_triton(source, tmp_path / "repo")
    assert not (tmp_path / "repo").exists()


def test_a_full_disk_while_writing_config_is_one_line_and_adds_nothing(bundles, tmp_path,
                                                                       monkeypatch):
    import builtins

    real_open = builtins.open
    repo = tmp_path / "repo"

    def disk_full_for_config(path, mode="r", *args, **kwargs):
        if "config.pbtxt" in os.fspath(path) and "w" in mode:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr(triton_lib, "open", disk_full_for_config, raising=False)
    with pytest.raises(OSError) as info:
        export.to_triton(bundles / "grey", repo, model_name="g")
    assert str(info.value) == (
        f"cannot write to {repo / 'g' / 'config.pbtxt'}: No space left on device"
    )
    assert os.listdir(tmp_path) == []

    monkeypatch.setattr(triton_lib, "open", real_open, raising=False)
    export.to_triton(bundles / "grey", repo, model_name="g")
    before = snapshot(repo)
    monkeypatch.setattr(triton_lib, "open", disk_full_for_config, raising=False)
    with pytest.raises(OSError, match="cannot write to .*config.pbtxt: No space left"):
        export.to_triton(bundles / "grey", repo, model_name="g")
    assert snapshot(repo) == before


def test_the_command_line_turns_an_onnx_bundle_into_a_repository_without_tensorflow(
        bundles, tmp_path):
    repo = tmp_path / "models"
    script = (
        "import sys\n"
        "from ganzoo import cli\n"
        "try:\n"
        "    cli.main(sys.argv[1:])\n"
        "except SystemExit as exit:\n"
        "    assert 'tensorflow' not in sys.modules, 'TensorFlow was imported'\n"
        "    raise\n"
    )
    command = [sys.executable, "-c", script, "export", str(bundles / "grey"), "--format",
               "triton", "--out", str(repo), "--model-name", "faces", "--version", "3",
               "--instance-kind", "cpu", "--instances", "2", "--warmup",
               "--max-batch-size", "8"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    # The parity measured for the source's portable graph, the one copied.
    parity = json.loads((bundles / "grey" / "ganzoo.json").read_text())["parity"]
    assert result.stdout.strip() == (
        f"added model 'faces' version 3 to the Triton repository {repo} (KIND_CPU, parity "
        f"max abs diff {parity['models']['model.onnx']:.2e})"
    )
    config = _config(repo / "faces" / "config.pbtxt")
    assert config.max_batch_size == 8 and config.model_warmup[0].batch_size == 1
    assert [(g.kind, g.count) for g in config.instance_group] == [(_kind("KIND_CPU"), 2)]
    assert sorted(os.listdir(repo / "faces")) == ["3", "config.pbtxt"]

    again = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert again.returncode == 2
    assert again.stderr.strip().splitlines() == [
        f"ganzoo: error: {repo / 'faces' / '3'} already exists: version 3 of Triton model "
        "'faces'. Leave version unset to add version 4, or pass overwrite=True "
        "(--overwrite) to replace that version"
    ]
    refused = subprocess.run(
        [sys.executable, "-c", script, "export", str(bundles / "grey"), "--out",
         str(tmp_path / "x"), "--instances", "2"], capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2
    assert "--instances applies to --format triton only" in refused.stderr
