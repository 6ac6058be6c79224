"""Production exports: the CPU-optimised graph, fp16 and opset 18 (Triton: test_triton.py)."""

import errno
import json
import os
import warnings

import keras
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from keras import layers

from ganzoo import _bundle, _sampling, export, runtime
from ganzoo.export import onnx_export

from export_helpers import LATENT_DIM, StandIn, snapshot

NUM_CLASSES = 5


def dcgan_like_generator():
    """Dense -> ConvTranspose + batch norm + ReLU -> ConvTranspose + LeakyReLU -> 5x5 RGB."""
    keras.utils.set_random_seed(3)
    latent = keras.Input((LATENT_DIM,), name="latent")
    x = layers.Dense(4 * 4 * 16)(latent)
    x = layers.Reshape((4, 4, 16))(x)
    x = layers.Conv2DTranspose(16, 4, strides=2, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Conv2DTranspose(80, 4, strides=2, padding="same")(x)
    x = layers.LeakyReLU(0.2)(x)
    images = layers.Conv2D(3, 5, padding="same", activation="tanh")(x)
    generator = keras.Model(latent, images)
    norm = next(layer for layer in generator.layers if isinstance(layer, layers.BatchNormalization))
    rng = np.random.default_rng(1)
    norm.moving_mean.assign(rng.normal(0, 0.5, norm.moving_mean.shape).astype("float32"))
    norm.moving_variance.assign(rng.uniform(0.5, 2, norm.moving_variance.shape).astype("float32"))
    norm.gamma.assign(rng.uniform(0.5, 1.5, norm.gamma.shape).astype("float32"))
    norm.beta.assign(rng.normal(0, 0.3, norm.beta.shape).astype("float32"))
    return generator


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
def generator():
    return dcgan_like_generator()


@pytest.fixture(scope="module")
def bundle(generator, tmp_path_factory):
    path = tmp_path_factory.mktemp("production") / "onnx"
    metadata = export.to_onnx(StandIn(generator, "dcgan"), path)
    return path, metadata


def _keras(generator, latents):
    return generator(latents, training=False).numpy()


def test_cpu_graph_is_rewritten_and_keeps_fp32_parity(generator, bundle):
    path, metadata = bundle
    variant = metadata["variants"]["cpu"]
    assert variant["model"] == "model.cpu.onnx"
    assert variant["rewrites"] == {
        "fold_channel_affine": 1, "lower_conv_transpose": 2, "split_narrow_conv": 1,
    }
    assert "ORT_ENABLE_EXTENDED" in variant["graph_optimization"]
    assert set(metadata["parity"]["models"]) == {"model.onnx", "model.cpu.onnx"}
    assert max(metadata["parity"]["models"].values()) <= 1e-4
    kinds = {node.op_type for node in onnx.load(path / "model.cpu.onnx").graph.node}
    assert "ConvTranspose" not in kinds and "FusedConv" in kinds

    optimized = runtime.load(path, providers="cpu")
    portable = runtime.load(path, providers="cpu", optimized=False)
    assert optimized.model_file == "model.cpu.onnx" and portable.model_file == "model.onnx"
    latents = _sampling.latents(5, LATENT_DIM, seed=11)
    expected = _keras(generator, latents)
    np.testing.assert_allclose(optimized.run(latents), expected, atol=1e-4, rtol=0)
    np.testing.assert_allclose(portable.run(latents), expected, atol=1e-4, rtol=0)


def test_cpu_graph_that_does_not_load_falls_back_silently(bundle, tmp_path, capfd):
    path, _ = bundle
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("ganzoo.json", "model.onnx"):
        (broken / name).write_bytes((path / name).read_bytes())
    (broken / "model.cpu.onnx").write_bytes(b"written by a newer onnxruntime")
    # The file is intact (its checksum matches); only this onnxruntime cannot load it.
    metadata = json.loads((broken / "ganzoo.json").read_text())
    metadata["files"] = _bundle.list_files(broken)
    (broken / "ganzoo.json").write_text(json.dumps(metadata))
    capfd.readouterr()
    generator = runtime.load(broken, providers="cpu")
    assert generator.model_file == "model.onnx"
    assert generator.sample(2, seed=0).shape == (2, 16, 16, 3)
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""


def test_a_failed_write_of_the_cpu_graph_fails_the_export_and_keeps_the_old_bundle(
    generator, tmp_path, monkeypatch
):
    out_dir = tmp_path / "bundle"
    export.to_onnx(generator, out_dir, parity_samples=1)
    before = snapshot(out_dir)

    def disk_full(onnx_model, path):
        with open(path, "wb") as handle:
            handle.write(b"half a graph")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fspath(path))

    monkeypatch.setattr(onnx_export, "save_cpu_optimized", disk_full)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the failure must not become a warning
        with pytest.raises(OSError) as info:
            export.to_onnx(generator, out_dir, overwrite=True, parity_samples=1)

    assert str(info.value) == (
        f"cannot write to {out_dir / 'model.cpu.onnx'}: No space left on device"
    )
    assert snapshot(out_dir) == before
    assert os.listdir(tmp_path) == ["bundle"]


class _SessionThatCannot:
    """onnxruntime's InferenceSession, failing where the CPU graph is optimised.

    `writing`: only when asked to save the optimised graph (as on a full disk, where
    onnxruntime says "Protobuf serialization failed"); otherwise whenever the EXTENDED
    optimisations run (a graph onnxruntime cannot optimise).
    """

    real = ort.InferenceSession

    def __init__(self, writing):
        self.writing = writing

    def __call__(self, model, options=None, **kwargs):
        optimizing = options is not None and (
            options.optimized_model_filepath if self.writing
            else options.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        )
        if optimizing:
            raise RuntimeError(
                "[ONNXRuntimeError] : 7 : INVALID_PROTOBUF : Protobuf serialization failed."
            )
        return self.real(model, options, **kwargs)


def test_onnxruntime_failing_to_write_the_cpu_graph_fails_the_export(generator, tmp_path,
                                                                     monkeypatch):
    monkeypatch.setattr(ort, "InferenceSession", _SessionThatCannot(writing=True))
    out_dir = tmp_path / "bundle"
    with pytest.raises(OSError) as info:
        export.to_onnx(generator, out_dir, parity_samples=1)
    assert str(info.value).startswith(
        f"cannot write to {out_dir / 'model.cpu.onnx'}: onnxruntime could not write it "
        "([ONNXRuntimeError] : 7 : INVALID_PROTOBUF"
    )
    assert os.listdir(tmp_path) == []


def test_a_cpu_graph_that_cannot_be_optimised_is_left_out_and_not_named(generator, tmp_path,
                                                                       monkeypatch):
    monkeypatch.setattr(ort, "InferenceSession", _SessionThatCannot(writing=False))
    out_dir = tmp_path / "bundle"
    with pytest.warns(RuntimeWarning, match="onnxruntime could not optimise the graph"):
        metadata = export.to_onnx(generator, out_dir, parity_samples=1)
    assert sorted(os.listdir(out_dir)) == ["ganzoo.json", "model.onnx"]
    assert "variants" not in metadata and "variants" not in export.read_bundle(out_dir)
    assert set(metadata["parity"]["models"]) == {"model.onnx"}


def test_optimize_false_writes_the_portable_graph_only(generator, tmp_path):
    metadata = export.to_onnx(generator, tmp_path / "plain", optimize=False, parity_samples=2)
    assert sorted(os.listdir(tmp_path / "plain")) == ["ganzoo.json", "model.onnx"]
    assert "variants" not in metadata
    assert runtime.load(tmp_path / "plain").model_file == "model.onnx"


def test_fp16_bundle_passes_its_bar_and_says_fp16(generator, tmp_path):
    metadata = export.to_onnx(StandIn(generator, "dcgan"), tmp_path / "fp16")
    half = export.to_onnx(StandIn(generator, "dcgan"), tmp_path / "half", fp16=True)
    assert half["fp16"] is True and metadata["fp16"] is False
    assert half["parity"]["tolerance"] == 1e-2
    assert half["parity"]["max_abs_diff"] <= 1e-2
    assert export.read_bundle(tmp_path / "half")["fp16"] is True
    assert "variants" not in half  # onnxruntime's CPU kernels are float32
    model = onnx.load(tmp_path / "half" / "model.onnx")
    kinds = {init.data_type for init in model.graph.initializer if len(init.dims) == 4}
    assert kinds == {onnx.TensorProto.FLOAT16}
    io_types = {value.type.tensor_type.elem_type
                for value in list(model.graph.input) + list(model.graph.output)}
    assert io_types == {onnx.TensorProto.FLOAT}
    assert os.path.getsize(tmp_path / "half" / "model.onnx") < 0.6 * os.path.getsize(
        tmp_path / "fp16" / "model.onnx")

    latents = _sampling.latents(4, LATENT_DIM, seed=2)
    images = runtime.load(tmp_path / "half").run(latents)
    assert images.dtype == np.float32
    np.testing.assert_allclose(images, _keras(generator, latents), atol=1e-2, rtol=0)


def test_opset_18_keeps_parity(generator, tmp_path):
    metadata = export.to_onnx(generator, tmp_path / "opset18", opset=18, parity_samples=2)
    assert metadata["opset"] == 18
    assert max(metadata["parity"]["models"].values()) <= 1e-4
    opsets = {entry.domain: entry.version
              for entry in onnx.load(tmp_path / "opset18" / "model.onnx").opset_import}
    assert opsets[""] == 18
