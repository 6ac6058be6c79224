"""The bundle as a contract with its clients: ranges, names, metadata, fp16, calling
conventions, dynamic sizes, the generator exported, and the runtime's argument checks."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import onnx
import onnxruntime as ort
import pytest
import tensorflow as tf
from keras import layers

from ganzoo import _imaging, _sampling, export, runtime

from export_helpers import LATENT_DIM, StandIn, tiny_generator

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def keras_io_dcgan(latent_dim=LATENT_DIM):
    """keras-io's DCGAN generator, shrunk: a Sequential model ending in a sigmoid."""
    return keras.Sequential(
        [
            keras.Input(shape=(latent_dim,)),
            layers.Dense(4 * 4 * 8),
            layers.Reshape((4, 4, 8)),
            layers.Conv2DTranspose(8, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2DTranspose(8, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(3, kernel_size=5, padding="same", activation="sigmoid"),
        ],
        name="generator",
    )


def unnamed_conditional(num_classes=3):
    """A conditional generator whose inputs nobody named (keras_tensor_N, input_layer_N)."""
    latent = keras.Input((LATENT_DIM,))
    label = keras.Input((), dtype="int32")
    embedded = layers.Embedding(num_classes, LATENT_DIM)(label)
    x = layers.Multiply()([latent, embedded])
    x = layers.Dense(4 * 4 * 4)(x)
    x = layers.Reshape((4, 4, 4))(x)
    images = layers.Conv2D(1, 3, padding="same", activation="tanh")(x)
    return keras.Model([latent, label], images)


def unet(levels=6, width=4, channels=1):
    """A U-Net with `levels` stride-2 levels: it takes sizes that are multiples of 2**levels."""
    image = keras.Input((None, None, channels), name="image")
    x, skips = image, []
    for _ in range(levels):
        x = layers.Conv2D(width, 3, padding="same", activation="relu")(x)
        skips.append(x)
        x = layers.Conv2D(width, 3, strides=2, padding="same")(x)
    for skip in reversed(skips):
        x = layers.Conv2DTranspose(width, 3, strides=2, padding="same")(x)
        x = layers.Concatenate()([x, skip])
    images = layers.Conv2D(channels, 1, activation="tanh")(x)
    return keras.Model(image, images, name="unet")


def _load(path):
    return runtime.load(path, providers="cpu")


# -- output and input ranges -------------------------------------------------------------


def test_sigmoid_generator_samples_within_one_level_of_keras(tmp_path):
    generator = keras_io_dcgan()
    metadata = export.to_onnx(generator, tmp_path / "bundle")
    assert metadata["outputs"][0]["range"] == [0.0, 1.0]

    images = _load(tmp_path / "bundle").sample(8, seed=3)
    expected = _imaging.to_uint8(
        generator(_sampling.latents(8, LATENT_DIM, seed=3), training=False).numpy(), (0, 1)
    )
    assert images.dtype == np.uint8
    assert np.abs(images.astype(int) - expected.astype(int)).max() <= 1


def test_saved_model_records_the_detected_range(tmp_path):
    metadata = export.to_saved_model(keras_io_dcgan(), tmp_path / "bundle", parity_samples=1)
    assert metadata["outputs"][0]["range"] == [0.0, 1.0]


def test_a_generator_without_a_known_final_activation_is_refused_until_told(tmp_path):
    latent = keras.Input((LATENT_DIM,), name="latent")
    images = layers.Reshape((2, 2, 4))(layers.Dense(16)(latent))  # linear output
    generator = keras.Model(latent, images)
    with pytest.raises(ValueError, match=r"output_range=\(low, high\)") as caught:
        export.to_onnx(generator, tmp_path / "bundle")
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "bundle").exists()

    # Wide enough for the untrained Dense layer's outputs (about N(0, 1)), which a declared
    # range must hold (test_output_range_guard.py).
    metadata = export.to_onnx(generator, tmp_path / "bundle", output_range=(-8, 8),
                              optimize=False, parity_samples=1)
    assert metadata["outputs"][0]["range"] == [-8.0, 8.0]
    with pytest.raises(ValueError, match="output_range must be"):
        export.to_onnx(generator, tmp_path / "other", output_range=(1, 1))


def test_a_family_gets_its_documented_range(tmp_path):
    metadata = export.to_onnx(StandIn(tiny_generator()), tmp_path / "bundle",
                              optimize=False, parity_samples=1)
    assert metadata["outputs"][0]["range"] == [-1.0, 1.0]


def _sigmoid_translator():
    image = keras.Input((None, None, 1))
    x = layers.Conv2D(4, 3, padding="same", activation="relu")(image)
    images = layers.Conv2D(1, 3, padding="same", activation="sigmoid")(x)
    return keras.Model(image, images)


def test_uint8_images_are_scaled_by_the_recorded_input_range(tmp_path):
    generator = _sigmoid_translator()
    metadata = export.to_onnx(generator, tmp_path / "bundle", optimize=False, parity_samples=2)
    image_input = metadata["inputs"][0]
    assert image_input["name"] == "image" and image_input["range"] == [0.0, 1.0]
    bundle = _load(tmp_path / "bundle")

    pixels = np.random.default_rng(0).integers(0, 256, (2, 16, 16, 1), dtype=np.uint8)
    floats = pixels.astype(np.float32) / 255.0
    expected = generator(floats, training=False).numpy()
    np.testing.assert_allclose(bundle.run(pixels), expected, atol=1e-4)
    np.testing.assert_allclose(bundle.run(image=floats), expected, atol=1e-4)
    # translate() maps uint8 in and out with the recorded ranges
    np.testing.assert_array_equal(
        np.abs(bundle.translate(pixels).astype(int)
               - _imaging.to_uint8(expected, (0, 1)).astype(int)) <= 1, True)

    with pytest.raises(ValueError, match="not bool"):
        bundle.run(pixels > 128)


def test_input_range_is_recorded(tmp_path):
    metadata = export.to_onnx(_sigmoid_translator(), tmp_path / "bundle",
                              input_range=(-1, 1), optimize=False, parity_samples=1)
    assert metadata["inputs"][0]["range"] == [-1.0, 1.0]
    assert metadata["outputs"][0]["range"] == [0.0, 1.0]


# -- stable input names --------------------------------------------------------------------

_NAMES_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    sys.path.insert(0, {tests!r})
    import keras
    import tensorflow as tf
    from test_contract_models import unnamed_conditional
    for _ in range(int(sys.argv[2])):  # other models first: Keras numbers its tensors on
        first = keras.Input((3,))
        keras.Model(first, keras.layers.Dense(2)(first))
    from ganzoo import export
    export.to_onnx(unnamed_conditional(), os.path.join(sys.argv[1], "onnx"), optimize=False,
                   parity_samples=1)
    export.to_saved_model(unnamed_conditional(), os.path.join(sys.argv[1], "sm"),
                          parity_samples=1)
    import onnx
    graph = onnx.load(os.path.join(sys.argv[1], "onnx", "model.onnx")).graph
    signature = tf.saved_model.load(os.path.join(sys.argv[1], "sm", "saved_model")
                                    ).signatures["serving_default"]
    print(json.dumps({{
        "onnx": [value.name for value in graph.input],
        "json": [entry["name"] for entry in export.read_bundle(
            os.path.join(sys.argv[1], "onnx"))["inputs"]],
        "savedmodel": sorted(signature.structured_input_signature[1]),
    }}))
    """
)


@pytest.mark.slow
def test_the_same_generator_exports_the_same_input_names_in_any_process(tmp_path):
    helpers = tmp_path / "helpers"
    helpers.mkdir()
    source = open(__file__, encoding="utf-8").read()
    start = source.index("def unnamed_conditional(")
    end = source.index("def unet(")
    (helpers / "test_contract_models.py").write_text(
        "import keras\nfrom keras import layers\nLATENT_DIM = 16\n\n\n" + source[start:end]
    )
    script = _NAMES_SCRIPT.format(tests=str(helpers))
    results = []
    for index, models_before in enumerate((0, 7)):
        out = tmp_path / f"run_{index}"
        completed = subprocess.run(
            [sys.executable, "-c", script, str(out), str(models_before)],
            capture_output=True, text=True, cwd=REPO, timeout=300,
        )
        assert completed.returncode == 0, completed.stderr[-2000:]
        results.append(json.loads(completed.stdout.strip().splitlines()[-1]))
    assert results[0] == results[1]
    assert results[0]["onnx"] == results[0]["json"] == ["latent", "label"]
    assert results[0]["savedmodel"] == ["label", "latent"]


def test_unnamed_inputs_get_their_role_names(tmp_path):
    for _ in range(3):  # Keras' automatic names depend on what was built before
        first = keras.Input((3,))
        keras.Model(first, layers.Dense(2)(first))
    generator = unnamed_conditional()
    assert not {tensor.name for tensor in generator.inputs} & {"latent", "label"}
    metadata = export.to_onnx(generator, tmp_path / "bundle", optimize=False)
    assert [entry["name"] for entry in metadata["inputs"]] == ["latent", "label"]
    graph = onnx.load(tmp_path / "bundle" / "model.onnx").graph
    assert [value.name for value in graph.input] == ["latent", "label"]


def test_unnamed_noise_inputs_get_numbered_names(tmp_path):
    latent = keras.Input((LATENT_DIM,))
    noise_a = keras.Input((4, 4, 1), name="noise")
    noise_b = keras.Input((4, 4, 1), name="noise_8x8")
    x = layers.Reshape((4, 4, 1))(layers.Dense(16)(latent))
    images = layers.Activation("tanh")(layers.Add()([x, noise_a, noise_b]))
    metadata = export.to_onnx(keras.Model([latent, noise_a, noise_b], images),
                              tmp_path / "bundle", optimize=False)
    assert [entry["name"] for entry in metadata["inputs"]] == ["latent", "noise", "noise_8x8"]


# -- metadata inside the ONNX file ---------------------------------------------------------


def test_the_onnx_file_describes_itself(tmp_path):
    preset = tmp_path / "preset"
    preset.mkdir()
    (preset / "card.md").write_text("# tiny dcgan\n\nTrained on nothing.\n")
    model = StandIn(tiny_generator(), family="dcgan", preset_name="dcgan-tiny")
    model.preset_path = preset
    metadata = export.to_onnx(model, tmp_path / "bundle")

    proto = onnx.load(tmp_path / "bundle" / "model.onnx")
    props = {entry.key: entry.value for entry in proto.metadata_props}
    assert props["ganzoo.family"] == "dcgan"
    assert props["ganzoo.preset"] == "dcgan-tiny"
    assert props["ganzoo.generator"] == "generator"
    assert json.loads(props["ganzoo.latent_dim"]) == LATENT_DIM
    assert json.loads(props["ganzoo.num_classes"]) is None
    assert props["ganzoo.ganzoo_version"] == metadata["ganzoo_version"]
    inputs = json.loads(props["ganzoo.inputs"])
    assert [(entry["name"], entry["role"]) for entry in inputs] == [("latent", "latent")]
    assert json.loads(props["ganzoo.outputs"])[0]["range"] == [-1.0, 1.0]
    assert proto.producer_name == "tf2onnx" and proto.model_version >= 1
    assert "dcgan" in proto.doc_string and "[-1, 1]" in proto.doc_string

    session = ort.InferenceSession(str(tmp_path / "bundle" / "model.onnx"),
                                   providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta()
    assert meta.custom_metadata_map["ganzoo.family"] == "dcgan"
    assert meta.description == proto.doc_string

    cpu = onnx.load(tmp_path / "bundle" / "model.cpu.onnx")
    assert {entry.key for entry in cpu.metadata_props} == set(props)
    assert (tmp_path / "bundle" / "card.md").read_text() == (preset / "card.md").read_text()
    assert metadata["card"] == "card.md"


# -- fp16 with an Embedding ------------------------------------------------------------------


def test_a_conditional_generator_exports_in_fp16(tmp_path):
    from ganzoo import models

    gan = models.ConditionalGAN(num_classes=3, image_shape=(16, 16, 1), latent_dim=8,
                                generator_filters=4, discriminator_filters=4, seed=1)
    rng = np.random.default_rng(0)
    for variable in gan.generator.trainable_variables:  # a generator that uses its label
        variable.assign(variable + rng.normal(0, 0.1, variable.shape).astype("float32"))
    metadata = export.to_onnx(gan, tmp_path / "bundle", fp16=True)
    assert metadata["fp16"] and metadata["parity"]["max_abs_diff"] <= 1e-2

    session = ort.InferenceSession(str(tmp_path / "bundle" / "model.onnx"),
                                   providers=["CPUExecutionProvider"])
    latents = _sampling.latents(6, 8, seed=0)
    labels = np.array([0, 1, 2, 0, 1, 2], np.int32)
    (images,) = session.run(None, {"latent": latents, "label": labels})
    expected = gan.generator([latents, labels], training=False).numpy()
    assert np.abs(images - expected).max() <= 1e-2
    assert np.abs(expected[0] - expected[1]).max() > 1e-3  # the label matters
    assert _load(tmp_path / "bundle").sample(3, seed=0, labels=[0, 1, 2]).shape == (3, 16, 16, 1)


# -- calling conventions ---------------------------------------------------------------------


class TwoArgumentGenerator(keras.Model):
    """A subclassed conditional generator called as `call(self, z, y)`."""

    def __init__(self):
        super().__init__()
        self.embed = layers.Embedding(3, 8)
        self.project = layers.Dense(4 * 4 * 2)
        self.reshape = layers.Reshape((4, 4, 2))
        self.to_image = layers.Conv2D(1, 3, padding="same", activation="tanh")

    def call(self, z, y, training=False):
        return self.to_image(self.reshape(self.project(z * self.embed(y))))


def test_a_subclassed_generator_taking_z_and_y_exports(tmp_path):
    generator = TwoArgumentGenerator()
    latents, labels = _sampling.latents(4, 8, seed=0), np.array([0, 1, 2, 1], np.int32)
    expected = generator(latents, labels).numpy()
    signature = [tf.TensorSpec((None, 8), tf.float32, name="z"),
                 tf.TensorSpec((None,), tf.int32, name="y")]
    metadata = export.to_onnx(generator, tmp_path / "bundle", input_signature=signature,
                              optimize=False)
    assert [(entry["name"], entry["role"]) for entry in metadata["inputs"]] == [
        ("z", "latent"), ("y", "label")]
    np.testing.assert_allclose(_load(tmp_path / "bundle").run(latents, labels), expected,
                               atol=1e-4)


def test_a_signature_that_does_not_match_call_is_refused_in_one_line(tmp_path):
    signature = [tf.TensorSpec((None, 8), tf.float32, name="latent"),
                 tf.TensorSpec((None,), tf.int32, name="label"),
                 tf.TensorSpec((None, 4, 4, 1), tf.float32, name="noise")]
    with pytest.raises(ValueError, match=r"call\(z, y\) takes 2 input\(s\)") as caught:
        export.to_onnx(TwoArgumentGenerator(), tmp_path / "bundle", input_signature=signature)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "bundle").exists()


class DictGenerator(keras.Model):
    """A subclassed generator called with a dict of inputs."""

    def __init__(self):
        super().__init__()
        self.embed = layers.Embedding(3, 8)
        self.to_image = layers.Conv2D(1, 1, activation="tanh")

    def call(self, inputs, training=False):
        x = inputs["z"] * self.embed(inputs["y"])
        return self.to_image(keras.ops.reshape(x, (-1, 2, 2, 2)))


def test_a_subclassed_generator_called_with_a_dict_takes_a_dict_signature(tmp_path):
    generator = DictGenerator()
    latents, labels = _sampling.latents(3, 8, seed=2), np.array([1, 2, 0], np.int32)
    expected = generator({"z": latents, "y": labels}).numpy()
    signature = {"z": tf.TensorSpec((None, 8), tf.float32),
                 "y": tf.TensorSpec((None,), tf.int32)}
    metadata = export.to_onnx(generator, tmp_path / "bundle", input_signature=signature,
                              optimize=False)
    assert [(entry["name"], entry["role"]) for entry in metadata["inputs"]] == [
        ("z", "latent"), ("y", "label")]
    np.testing.assert_allclose(_load(tmp_path / "bundle").run(z=latents, y=labels), expected,
                               atol=1e-4)


def test_a_functional_generator_with_dict_inputs_exports(tmp_path):
    z = keras.Input((8,), name="code")
    y = keras.Input((), dtype="int32", name="class_id")
    x = layers.Multiply()([z, layers.Embedding(3, 8)(y)])
    images = layers.Conv2D(1, 1, activation="tanh")(layers.Reshape((2, 2, 2))(x))
    generator = keras.Model({"code": z, "class_id": y}, images)
    latents, labels = _sampling.latents(3, 8, seed=1), np.array([2, 0, 1], np.int32)
    expected = generator({"code": latents, "class_id": labels}).numpy()

    for fmt, exporter in (("onnx", export.to_onnx), ("sm", export.to_saved_model)):
        metadata = exporter(generator, tmp_path / fmt)
        assert [(entry["name"], entry["role"]) for entry in metadata["inputs"]] == [
            ("latent", "latent"), ("class_id", "label")]
    np.testing.assert_allclose(_load(tmp_path / "onnx").run(latent=latents, class_id=labels),
                               expected, atol=1e-4)
    signature = tf.saved_model.load(str(tmp_path / "sm" / "saved_model")).signatures[
        "serving_default"]
    np.testing.assert_allclose(
        signature(latent=tf.constant(latents), class_id=tf.constant(labels))["images"].numpy(),
        expected, atol=1e-4)


# -- dynamic sizes ----------------------------------------------------------------------------


def test_a_six_level_unet_exports_with_dynamic_size(tmp_path, capfd):
    generator = unet(levels=6)
    metadata = export.to_onnx(generator, tmp_path / "bundle", parity_samples=2)
    image_input = metadata["inputs"][0]
    assert image_input["shape"] == [None, None, None, 1]
    assert image_input["size_multiple"] == 64
    assert metadata["parity"]["sizes"] == [[64, 64], [128, 128]]
    assert metadata["parity"]["max_abs_diff"] <= 1e-4

    bundle = _load(tmp_path / "bundle")
    image = np.random.default_rng(0).integers(0, 256, (64, 192, 1), dtype=np.uint8)
    assert bundle.translate(image).shape == (64, 192, 1)
    capfd.readouterr()
    with pytest.raises(ValueError, match="multiples of 64") as caught:
        bundle.run(np.zeros((1, 96, 64, 1), np.float32))
    assert "\n" not in str(caught.value)
    assert "Non-zero status" not in capfd.readouterr().err


@pytest.mark.slow
def test_a_cyclegan_generator_exports_with_dynamic_size(tmp_path):
    from ganzoo import models

    gan = models.CycleGAN(image_shape=(16, 16, 3), filters=4, blocks=1, disc_filters=4,
                          disc_layers=2, seed=1)
    metadata = export.to_onnx(gan, tmp_path / "bundle", generator="b2a")
    assert metadata["generator"] == "b2a"
    image_input = metadata["inputs"][0]
    assert (image_input["size_multiple"], image_input["min_size"]) == (4, 8)
    assert metadata["parity"]["sizes"] == [[16, 16], [32, 32]]
    assert metadata["parity"]["max_abs_diff"] <= 1e-4

    bundle = _load(tmp_path / "bundle")
    images = np.random.default_rng(0).uniform(-1, 1, (2, 12, 20, 3)).astype(np.float32)
    np.testing.assert_allclose(bundle.run(images), gan.generator_b2a(images).numpy(),
                               atol=1e-4)
    with pytest.raises(ValueError, match="multiples of 4, at least 8"):
        bundle.run(images[:, :4, :4])


def test_a_given_parity_size_is_used(tmp_path):
    metadata = export.to_onnx(unet(levels=2), tmp_path / "bundle", parity_size=12,
                              optimize=False)
    assert metadata["parity"]["sizes"] == [[12, 12], [24, 24]]
    assert "size_multiple" not in metadata["inputs"][0]
    with pytest.raises(ValueError, match="parity_size must be"):
        export.to_onnx(unet(levels=2), tmp_path / "other", parity_size=0)


def test_onnxruntime_failures_are_one_line_without_its_log(tmp_path, capfd):
    export.to_onnx(unet(levels=2), tmp_path / "bundle", parity_size=12, optimize=False)
    bundle = _load(tmp_path / "bundle")
    capfd.readouterr()
    with pytest.raises(ValueError, match="onnxruntime cannot run this bundle on image") as caught:
        bundle.run(np.zeros((1, 5, 5, 1), np.float32))
    assert "\n" not in str(caught.value)
    assert capfd.readouterr().err == ""


# -- which generator ----------------------------------------------------------------------------


class TwoGenerators(StandIn):
    """A family with two generators, like cyclegan's a2b and b2a."""

    def __init__(self):
        super().__init__(tiny_generator(), family="dcgan")
        self.other = tiny_generator()
        self.other.set_weights([w * 0.5 for w in self.generator.get_weights()])

    def generator_names(self):
        return ("a2b", "b2a")

    def inference_generator(self, name=None):
        return {"a2b": self.generator, "b2a": self.other, None: self.generator}[name]


def test_generator_picks_which_network_is_exported(tmp_path):
    model = TwoGenerators()
    metadata = export.to_onnx(model, tmp_path / "b2a", generator="b2a", optimize=False)
    assert metadata["generator"] == "b2a"
    latents = _sampling.latents(2, LATENT_DIM, seed=0)
    np.testing.assert_allclose(_load(tmp_path / "b2a").run(latents),
                               model.other(latents).numpy(), atol=1e-4)
    assert export.to_saved_model(model, tmp_path / "a2b")["generator"] == "a2b"
    with pytest.raises(ValueError, match="has no generator 'c2d'; it has a2b, b2a"):
        export.to_onnx(model, tmp_path / "c2d", generator="c2d")


def test_the_ema_generator_is_the_one_exported(tmp_path):
    from ganzoo import models

    gan = models.DCGAN(image_shape=(16, 16, 1), latent_dim=8, generator_filters=4,
                       discriminator_filters=4, seed=1)
    gan.ema_decay = 0.9  # a family that keeps an EMA generator
    gan.generator_ema = gan.build_generator()
    rng = np.random.default_rng(0)
    gan.generator_ema.set_weights([w + rng.normal(0, 0.3, w.shape).astype(w.dtype)
                                   for w in gan.generator.get_weights()])
    metadata = export.to_onnx(gan, tmp_path / "bundle", optimize=False)
    latents = _sampling.latents(2, 8, seed=0)
    exported = _load(tmp_path / "bundle").run(latents)
    np.testing.assert_allclose(exported, gan.generator_ema(latents).numpy(), atol=1e-4)
    assert np.abs(exported - gan.generator(latents).numpy()).max() > 1e-3
    assert metadata["generator"] == "generator"


# -- sampling arguments --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sampler(tmp_path_factory):
    path = tmp_path_factory.mktemp("sampler") / "bundle"
    export.to_onnx(StandIn(tiny_generator()), path, optimize=False)
    return _load(path)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda s: s.sample(2.5), r"n must be a positive integer. Received: n=2.5"),
        (lambda s: s.sample(2, seed=-1), r"seed must be a non-negative integer .* seed=-1"),
        (lambda s: s.run(np.zeros((2, LATENT_DIM), np.uint8)), r"'latent'.* not uint8"),
        (lambda s: s.run(latent=np.zeros((2, LATENT_DIM), bool)), r"'latent'.* not bool"),
        (lambda s: s.run(np.zeros((2, LATENT_DIM), np.int64)), r"'latent'.* not int64"),
    ],
)
def test_bad_sampling_arguments_are_one_line(sampler, call, message):
    with pytest.raises(ValueError, match=message) as caught:
        call(sampler)
    assert "\n" not in str(caught.value)


def test_float_latents_still_run(sampler):
    latents = _sampling.latents(2, LATENT_DIM, seed=0)
    assert sampler.run(latents.astype(np.float64)).shape == (2, 16, 16, 1)


# -- the command line ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def preset(tmp_path_factory):
    from ganzoo import models

    gan = models.DCGAN(image_shape=(16, 16, 1), latent_dim=8, generator_filters=4,
                       discriminator_filters=4, seed=1)
    path = tmp_path_factory.mktemp("preset") / "dcgan-tiny"
    gan.save_to_preset(path, card="# dcgan-tiny\n\nA tiny DCGAN.\n")
    return path


def test_cli_export_takes_range_and_generator_and_copies_the_card(preset, tmp_path):
    from cli_helpers import ganzoo_cli_inprocess

    out = tmp_path / "bundle"
    result = ganzoo_cli_inprocess(["export", preset, "--out", out, "--output-range", "-1,1",
                                   "--generator", "generator"])
    assert result.exit_code == 0, result.output
    metadata = export.read_bundle(out)
    assert metadata["outputs"][0]["range"] == [-1.0, 1.0]
    assert metadata["generator"] == "generator"
    assert (out / "card.md").read_text() == (preset / "card.md").read_text()


@pytest.mark.parametrize(
    "options, message",
    [
        (["--output-range", "0-1"], "--output-range takes LO,HI"),
        (["--output-range", "1,0"], "output_range must be (low, high)"),
        (["--generator", "b2a"], "has no generator 'b2a'"),
    ],
)
def test_cli_export_refuses_bad_options_in_one_line(preset, tmp_path, options, message):
    from cli_helpers import assert_one_line_error, ganzoo_cli_inprocess

    result = ganzoo_cli_inprocess(["export", preset, "--out", tmp_path / "bundle", *options])
    assert_one_line_error(result, message)
    assert not (tmp_path / "bundle").exists()
