"""ganzoo.runtime over real exported bundles: sampling, validation, providers, no TensorFlow."""

import json
import os
import shutil
import subprocess
import sys
import tracemalloc

import keras
import numpy as np
import onnxruntime as ort
import pytest
from keras import layers

from ganzoo import _bundle, _imaging, _memory, _sampling, export, runtime

from export_helpers import LATENT_DIM, StandIn, tiny_generator
from sampling_helpers import varied_stylegan_and_bundle

NUM_CLASSES = 10
WIDE_LATENT_DIM = 2048
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def conditional_generator():
    latent = keras.Input((LATENT_DIM,), name="latent")
    label = keras.Input((), dtype="int32", name="label")
    embedded = layers.Embedding(NUM_CLASSES, LATENT_DIM, name="embed")(label)
    x = layers.Multiply(name="condition")([latent, embedded])
    x = layers.Dense(8 * 8 * 4, name="project")(x)
    x = layers.Reshape((8, 8, 4), name="reshape")(x)
    images = layers.Conv2D(3, 3, padding="same", activation="tanh", name="to_image")(x)
    return keras.Model([latent, label], images, name="conditional_generator")


def upscaling_generator():
    image = keras.Input((None, None, 3), name="image")
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="features")(image)
    x = layers.UpSampling2D(2, name="up")(x)
    images = layers.Conv2D(3, 3, padding="same", activation="tanh", name="to_image")(x)
    return keras.Model(image, images, name="upscaler")


def wide_latent_generator():
    """A large latent and a tiny picture: memory use is dominated by the inputs."""
    latent = keras.Input((WIDE_LATENT_DIM,), name="latent")
    x = layers.Dense(4, activation="tanh", name="project")(latent)
    images = layers.Reshape((2, 2, 1), name="to_image")(x)
    return keras.Model(latent, images, name="wide")


def noisy_generator():
    latent = keras.Input((LATENT_DIM,), name="latent")
    noise = keras.Input((4, 4, 1), name="noise_4x4")
    x = layers.Reshape((4, 4, 1), name="reshape")(layers.Dense(16, name="project")(latent))
    x = layers.Add(name="add_noise")([x, noise])
    images = layers.Conv2D(1, 3, padding="same", activation="tanh", name="to_image")(x)
    return keras.Model([latent, noise], images, name="noisy")


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    """One exported bundle of each kind, with the Keras generator it came from."""
    root = tmp_path_factory.mktemp("bundles")
    made = {}
    plain = tiny_generator()
    export.to_onnx(StandIn(plain, "dcgan"), root / "dcgan")
    made["dcgan"] = (str(root / "dcgan"), plain)
    conditional = conditional_generator()
    export.to_onnx(StandIn(conditional, "cgan", NUM_CLASSES), root / "cgan")
    made["cgan"] = (str(root / "cgan"), conditional)
    upscaler = upscaling_generator()
    super_resolver = StandIn(upscaler, "srgan")
    super_resolver.latent_dim = None
    export.to_onnx(super_resolver, root / "srgan")
    made["srgan"] = (str(root / "srgan"), upscaler)
    export.to_onnx(upscaler, root / "image")  # an image-to-image generator of no family
    made["image"] = (str(root / "image"), upscaler)
    noisy = noisy_generator()
    export.to_onnx(noisy, root / "noisy")
    made["noisy"] = (str(root / "noisy"), noisy)
    wide = wide_latent_generator()
    export.to_onnx(StandIn(wide, "gan"), root / "wide")
    made["wide"] = (str(root / "wide"), wide)
    return made


def assert_same_pixels_as_keras(images, keras_floats, float_difference, value_range=(-1.0, 1.0)):
    """uint8 images from the runtime equal `to_uint8` of Keras' floats for the same inputs.

    onnxruntime and Keras add up the same products in a different order, so their floats
    differ by up to `float_difference` (~1e-7 here). A pixel whose Keras value lies within
    that distance of a rounding boundary (a .5 after scaling to [0, 255]) may land one
    level away; every other pixel must be the same byte. An off-by-one or a different
    rounding in the runtime's conversion breaks pixels far from any boundary.
    """
    low, high = value_range
    expected = _imaging.to_uint8(keras_floats, value_range)
    assert images.dtype == np.uint8 and images.shape == expected.shape
    differ = images != expected
    if not differ.any():
        return
    scaled = (np.asarray(keras_floats, np.float64) - low) * (255.0 / (high - low))
    to_boundary = np.abs(scaled - np.floor(scaled) - 0.5)
    slack = float_difference * 255.0 / (high - low) + 1e-9
    assert np.all(np.abs(images.astype(int) - expected.astype(int))[differ] == 1)
    assert np.all(to_boundary[differ] <= slack), (
        f"{differ.sum()} pixels differ from Keras; the farthest from a rounding boundary "
        f"is {to_boundary[differ].max():.4f} levels away "
        f"(float difference {float_difference:.2g})"
    )


@pytest.fixture(scope="module")
def dcgan(bundles):
    path, generator = bundles["dcgan"]
    return runtime.load(path), generator


def test_sample_matches_keras_for_the_same_seed(dcgan):
    runner, generator = dcgan
    images = runner.sample(4, seed=3)
    latents = _sampling.latents(4, LATENT_DIM, 3)
    assert images.dtype == np.uint8 and images.shape == (4, 16, 16, 1)
    # The same floats give the same bytes: sample() is to_uint8 of the graph's output.
    onnx_floats = runner.run(latents)
    np.testing.assert_array_equal(images, _imaging.to_uint8(onnx_floats))
    keras_floats = generator(latents, training=False).numpy()
    float_difference = float(np.abs(onnx_floats - keras_floats).max())
    assert float_difference < 1e-5
    assert_same_pixels_as_keras(images, keras_floats, float_difference)
    np.testing.assert_array_equal(runner.sample(4, seed=3), images)
    np.testing.assert_array_equal(runner.sample(5, seed=3, batch_size=2)[:4], images)


def test_run_by_position_and_by_name_at_any_batch(dcgan):
    runner, generator = dcgan
    for batch in (1, 5):
        latents = _sampling.latents(batch, LATENT_DIM, seed=batch)
        expected = generator(latents, training=False).numpy()
        np.testing.assert_allclose(runner.run(latents), expected, atol=1e-4, rtol=0)
        np.testing.assert_allclose(runner.run(latent=latents), expected, atol=1e-4, rtol=0)
    float64 = _sampling.latents(2, LATENT_DIM, seed=0).astype(np.float64)
    assert runner.run(float64).dtype == np.float32


def test_loaded_generator_describes_itself(dcgan):
    runner, _ = dcgan
    assert runner.provider == "CPUExecutionProvider"
    assert runner.family == "dcgan" and runner.latent_dim == LATENT_DIM
    assert runner.image_shape == (16, 16, 1)
    assert runner.inputs == [
        {"name": "latent", "shape": [None, LATENT_DIM], "dtype": "float32", "role": "latent"}
    ]
    assert runner.metadata["parity"]["max_abs_diff"] <= 1e-4
    assert "CPUExecutionProvider" in repr(runner)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda r: r.run(np.zeros((2, 8), np.float32)),
            r"'latent' expects shape \(None, 16\).*shape=\(2, 8\)",
        ),
        (
            lambda r: r.run(np.zeros((16,), np.float32)),
            r"'latent' expects shape \(None, 16\).*shape=\(16,\)",
        ),
        (lambda r: r.run(np.full((1, 16), "a")), r"'latent'.*cannot be cast to float32"),
        (lambda r: r.run(style=np.zeros((1, 16))), r"Unknown input 'style'"),
        (lambda r: r.run(), r"Missing input 'latent'"),
        (lambda r: r.run(np.zeros((1, 16)), np.zeros((1, 16))), r"takes 1 input"),
        (lambda r: r.sample(2, labels=3), r"not conditional"),
        (lambda r: r.sample(2, truncation=0.5), r"no truncation input"),
        (lambda r: r.sample(2, truncation="abc"), r"truncation must be a finite number"),
        (lambda r: r.sample(2, seed="abc"), r"^seed must be a non-negative .* seed='abc'$"),
        (lambda r: r.sample(2, seed=1.5), r"Received: seed=1.5$"),
        (lambda r: r.sample(2, seed=-1), r"Received: seed=-1$"),
        (lambda r: r.sample(2, seed=True), r"Received: seed=True$"),
        (lambda r: r.sample(2.5), r"^n must be a positive integer. Received: n=2.5$"),
        (lambda r: r.sample(3.0), r"Received: n=3.0$"),
        (lambda r: r.sample(0), r"Received: n=0$"),
        (lambda r: r.sample(True), r"Received: n=True$"),
        (lambda r: r.sample("4"), r"Received: n='4'$"),
        (lambda r: r.sample(4, batch_size=0), r"Received: batch_size=0$"),
        (lambda r: r.sample(4, batch_size=2.5), r"Received: batch_size=2.5$"),
    ],
)
def test_bad_input_raises_one_line_value_error(dcgan, call, message):
    runner, _ = dcgan
    with pytest.raises(ValueError, match=message) as info:
        call(runner)
    assert "\n" not in str(info.value)


def test_auto_provider_is_cpu_here_and_prints_nothing(bundles, capfd):
    if runtime.gpu_problem("CUDAExecutionProvider") is None:
        pytest.skip("a usable GPU is present")
    runner = runtime.load(bundles["dcgan"][0], providers="auto")
    assert runner.provider == "CPUExecutionProvider"
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""


@pytest.mark.parametrize(
    "provider, full_name",
    [("cuda", "CUDAExecutionProvider"), ("tensorrt", "TensorrtExecutionProvider")],
)
def test_unavailable_gpu_provider_raises_one_clear_error(bundles, capfd, provider, full_name):
    if runtime.gpu_problem(full_name) is None:
        pytest.skip(f"{full_name} works here")
    with pytest.raises(RuntimeError, match=f"Cannot use {full_name}: ") as info:
        runtime.load(bundles["dcgan"][0], providers=provider)
    assert "\n" not in str(info.value)
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""


def test_provider_lists_skip_what_cannot_be_created(bundles):
    runner = runtime.load(bundles["dcgan"][0], providers=["CUDAExecutionProvider", "cpu"])
    assert runner.provider in ("CUDAExecutionProvider", "CPUExecutionProvider")
    single_thread = runtime.load(bundles["dcgan"][0], providers="cpu", threads=1)
    assert single_thread.provider == "CPUExecutionProvider"
    with pytest.raises(ValueError, match="providers must be"):
        runtime.load(bundles["dcgan"][0], providers="gpu")
    with pytest.raises(ValueError, match="Unknown onnxruntime provider"):
        runtime.load(bundles["dcgan"][0], providers=["NoSuchExecutionProvider"])
    if "OpenVINOExecutionProvider" not in ort.get_available_providers():
        with pytest.raises(RuntimeError, match="has no OpenVINOExecutionProvider"):
            runtime.load(bundles["dcgan"][0], providers="OpenVINOExecutionProvider")
        fallback = ["OpenVINOExecutionProvider", "CPUExecutionProvider"]
        assert runtime.load(bundles["dcgan"][0], providers=fallback).provider == "CPUExecutionProvider"
    assert runtime.physical_cores() >= 1


def test_io_binding_path_gives_the_same_images(dcgan):
    runner, _ = dcgan
    expected = runner.sample(3, seed=1)
    runner.session.io_device = "cpu"  # the CUDA code path, bound to host memory
    try:
        np.testing.assert_array_equal(runner.sample(3, seed=1), expected)
    finally:
        runner.session.io_device = None


def test_conditional_bundle_samples_a_chosen_class(bundles):
    path, generator = bundles["cgan"]
    runner = runtime.load(path)
    assert runner.num_classes == NUM_CLASSES
    assert [entry["role"] for entry in runner.inputs] == ["latent", "label"]

    images = runner.sample(5, seed=2, labels=3)
    latents = _sampling.latents(5, LATENT_DIM, 2)
    inputs = [latents, np.full(5, 3, np.int32)]
    assert images.shape == (5, 8, 8, 3)
    onnx_floats = runner.run(*inputs)
    np.testing.assert_array_equal(images, _imaging.to_uint8(onnx_floats))
    keras_floats = generator(inputs, training=False).numpy()
    float_difference = float(np.abs(onnx_floats - keras_floats).max())
    assert_same_pixels_as_keras(images, keras_floats, float_difference)

    np.testing.assert_array_equal(runner.sample(4, seed=9), runner.sample(4, seed=9))
    with pytest.raises(ValueError, match=r"Labels must lie in \[0, 9\]"):
        runner.sample(2, labels=10)
    with pytest.raises(ValueError, match=r"'label' takes labels in \[0, 9\]"):
        runner.run(latents[:1], np.array([12]))
    with pytest.raises(ValueError, match=r"'label'.*float64 cannot be cast to int32"):
        runner.run(latents[:1], np.array([1.5]))


def test_upscale_and_translate_take_uint8_images(bundles):
    path, generator = bundles["srgan"]
    runner = runtime.load(path)
    picture = np.random.default_rng(0).integers(0, 256, (6, 10, 3), dtype=np.uint8)

    upscaled = runner.upscale(picture)
    floats_in = _imaging.from_uint8(picture[None])
    assert upscaled.dtype == np.uint8 and upscaled.shape == (12, 20, 3)
    onnx_floats = runner.run(floats_in)[0]
    np.testing.assert_array_equal(upscaled, _imaging.to_uint8(onnx_floats))
    keras_floats = generator(floats_in, training=False).numpy()[0]
    float_difference = float(np.abs(onnx_floats - keras_floats).max())
    assert_same_pixels_as_keras(upscaled, keras_floats, float_difference)
    assert runner.upscale(np.stack([picture, picture])).shape == (2, 12, 20, 3)
    # The same graph exported without a family is a translator: the same pixels.
    np.testing.assert_array_equal(runtime.load(bundles["image"][0]).translate(picture), upscaled)

    # A grayscale picture given to an RGB generator is converted, not refused.
    np.testing.assert_array_equal(runner.upscale(picture[..., :1]),
                                  runner.upscale(np.repeat(picture[..., :1], 3, axis=-1)))
    with pytest.raises(ValueError, match="uint8"):
        runner.upscale(picture.astype(np.float32))
    with pytest.raises(ValueError, match="use upscale"):
        runner.sample(2)


@pytest.mark.parametrize(
    "kind, task, method",
    [
        ("dcgan", runtime.Sampler, "sample"),
        ("cgan", runtime.Sampler, "sample"),
        ("noisy", runtime.Sampler, "sample"),
        ("srgan", runtime.SuperResolver, "upscale"),
        ("image", runtime.Translator, "translate"),
    ],
)
def test_load_picks_the_task_from_the_input_roles(bundles, dcgan, kind, task, method):
    runner = dcgan[0] if kind == "dcgan" else runtime.load(bundles[kind][0])
    assert type(runner) is task and isinstance(runner, runtime.Generator)
    assert f"ganzoo.runtime.{task.__name__} " in repr(runner)
    # Each task has its own surface: the other tasks' methods are not there...
    others = {"sample", "upscale", "translate"} - {method}
    assert hasattr(runner, method) and not any(hasattr(runner, name) for name in others)
    # ...and calling one says in one line what the bundle does and what to call instead.
    use = {"sample": r"sample\(n, seed=\.\.\.\)", "upscale": r"upscale\(image\)",
           "translate": r"translate\(image\)"}[method]
    for name in others:
        message = rf"^{name}\(\) is for .*; this bundle .*: use {use}$"
        with pytest.raises(ValueError, match=message) as info:
            getattr(runner, name)(np.zeros((4, 4, 3), np.uint8))
        assert "\n" not in str(info.value)


def test_calling_upscale_on_a_latent_generator_names_what_to_use(dcgan):
    runner, _ = dcgan
    with pytest.raises(runtime.WrongTask) as info:
        runner.upscale(np.zeros((4, 4, 1), np.uint8))
    assert str(info.value) == (
        "upscale() is for super-resolution generators (srgan); this bundle (dcgan) generates "
        "images from a seed: use sample(n, seed=...)"
    )


def test_noise_inputs_are_drawn_from_the_seed(bundles):
    runner = runtime.load(bundles["noisy"][0])
    assert [entry["role"] for entry in runner.inputs] == ["latent", "noise"]
    first = runner.sample(3, seed=4)
    np.testing.assert_array_equal(runner.sample(3, seed=4), first)
    assert not np.array_equal(runner.sample(3, seed=5), first)


@pytest.mark.parametrize("kind", ["dcgan", "cgan", "noisy"])
def test_the_batch_size_never_changes_the_pictures(bundles, kind):
    """Latents, drawn labels and noise are streamed batch by batch from one generator."""
    runner = runtime.load(bundles[kind][0])
    whole = runner.sample(7, seed=4, batch_size=7)
    for batch_size in (1, 3, 64):
        np.testing.assert_array_equal(runner.sample(7, seed=4, batch_size=batch_size), whole)
    # Each image is the graph's output for the documented inputs of that row.
    inputs = {"latent": _sampling.latents(7, LATENT_DIM, 4)}
    if kind == "cgan":
        inputs["label"] = _sampling.labels_for(7, NUM_CLASSES, seed=4)
    if kind == "noisy":
        inputs["noise_4x4"] = _sampling.noise(7, (4, 4, 1), seed=4, index=0)
    np.testing.assert_array_equal(whole, _imaging.to_uint8(runner.run(**inputs)))


def test_large_samples_hold_one_batch_of_inputs_at_a_time(bundles):
    """Peak memory is one batch of latents beside the result, not all n latents."""
    runner = runtime.load(bundles["wide"][0])
    n, batch_size = 2000, 64
    all_latents_bytes = n * WIDE_LATENT_DIM * 4  # 16 MB
    runner.sample(2, seed=0)  # onnxruntime's first-run allocations are not the point
    tracemalloc.start()
    try:
        images = runner.sample(n, seed=0, batch_size=batch_size)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert images.shape == (n, 2, 2, 1)
    assert peak < all_latents_bytes / 8, f"peak {peak} bytes"
    last_latents = _sampling.latents(n, WIDE_LATENT_DIM, 0)[-5:]
    np.testing.assert_array_equal(images[-5:], _imaging.to_uint8(runner.run(last_latents)))


def test_a_sample_that_cannot_fit_is_refused_before_any_work(dcgan, monkeypatch):
    runner, _ = dcgan
    # 10**12 images of 16x16x1 would need 233 TiB: more than any machine has.
    expected = (
        r"^n=1000000000000 samples of 16x16x1 need 238418\.6 GiB; "
        r"about [\d.]+ [GM]iB is free: sample fewer \(or in several calls\)$"
    )
    with pytest.raises(ValueError, match=expected):
        runner.sample(10**12, seed=0)
    monkeypatch.setattr(_memory, "available_memory", lambda: int(20.1 * 1024**3))
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as info:
            runner.sample(10**9)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(info.value) == (
        "n=1000000000 samples of 16x16x1 need 238.4 GiB; about 20.1 GiB is free: "
        "sample fewer (or in several calls)"
    )
    assert peak < 1024**2  # nothing was drawn or allocated


def test_load_names_the_path_it_cannot_use(bundles, tmp_path):
    with pytest.raises(ValueError, match=f"{tmp_path}.*no ganzoo.json"):
        runtime.load(tmp_path)

    broken = tmp_path / "broken"
    shutil.copytree(bundles["dcgan"][0], broken)
    os.remove(broken / "model.onnx")
    with pytest.raises(ValueError, match=f"{broken}.*model.onnx is missing"):
        runtime.load(broken)

    savedmodel = tmp_path / "savedmodel"
    shutil.copytree(bundles["dcgan"][0], savedmodel)
    metadata = json.loads((savedmodel / "ganzoo.json").read_text())
    metadata.update(format="savedmodel", model="saved_model")
    (savedmodel / "ganzoo.json").write_text(json.dumps(metadata))
    with pytest.raises(ValueError, match="runs ONNX bundles"):
        runtime.load(savedmodel)

    corrupt = tmp_path / "corrupt"
    shutil.copytree(bundles["dcgan"][0], corrupt)
    (corrupt / "model.onnx").write_bytes(b"not an onnx file")
    os.remove(corrupt / "model.cpu.onnx")  # else the CPU provider runs that graph
    with pytest.raises(ValueError, match=f"{corrupt / 'model.onnx'} is truncated"):
        runtime.load(corrupt)
    # A file that matches its checksum but that onnxruntime cannot read.
    metadata = json.loads((corrupt / "ganzoo.json").read_text())
    del metadata["variants"]
    metadata["files"] = {"model.onnx": _bundle.file_digest(corrupt / "model.onnx")}
    (corrupt / "ganzoo.json").write_text(json.dumps(metadata))
    with pytest.raises(ValueError, match="Cannot load .*model.onnx"):
        runtime.load(corrupt)


@pytest.fixture(scope="module")
def stylegan(tmp_path_factory):
    """A tiny StyleGAN-lite and its bundle, with the mapping and synthesis graphs."""
    return varied_stylegan_and_bundle(tmp_path_factory.mktemp("stylegan") / "bundle")


def test_runtime_never_imports_tensorflow(bundles, stylegan, tmp_path):
    gan, style_bundle = stylegan
    code = (
        "import sys, numpy, ganzoo.runtime\n"
        "assert 'tensorflow' not in sys.modules\n"
        f"generator = ganzoo.runtime.load({bundles['dcgan'][0]!r})\n"
        "images = generator.sample(2, seed=0)\n"
        "assert images.shape == (2, 16, 16, 1)\n"
        "again = generator.sample(latents=generator.draw_latents(2, seed=0))\n"
        "assert (again == images).all()\n"
        "frames = [f for batch in generator.walk([0, 1], 3) for f in batch]\n"
        "assert len(frames) == 3 and (frames[0] == images[0]).all()\n"
        # A style-based bundle: truncation, walks in w and style mixing on its parts.
        f"style = ganzoo.runtime.load({style_bundle.path!r})\n"
        "w = style.map_to_w(style.draw_latents(2, seed=1), truncation=0.7)\n"
        "assert (style.synthesize(w, seed=1) == style.sample(2, seed=1, truncation=0.7)).all()\n"
        "walked = numpy.concatenate(list(style.walk([1, 2], 3, space='w', truncation=0.7)))\n"
        "mix = style.mix([1, 2], [3, 4], cutoff=2, truncation=0.7)\n"
        f"numpy.savez({str(tmp_path / 'style.npz')!r}, w=w, walked=walked, mixed=mix.mixed)\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n"
        "print(generator.provider)\n"
    )
    environment = dict(os.environ, PYTHONPATH=REPO_ROOT)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() in runtime.PROVIDERS.values()
    assert result.stderr == ""
    with np.load(tmp_path / "style.npz") as made:
        np.testing.assert_allclose(made["w"], gan.map_to_w(gan.draw_latents(2, seed=1), 0.7),
                                   atol=1e-5)
        walked = np.concatenate(list(gan.walk([1, 2], 3, space="w", truncation=0.7)))
        assert np.abs(made["walked"].astype(int) - walked).max() <= 1
        mixed = gan.mix([1, 2], [3, 4], cutoff=2, truncation=0.7).mixed
        assert np.abs(made["mixed"].astype(int) - mixed).max() <= 1


def test_tuning_times_every_cpu_candidate_and_keeps_the_default_unless_clearly_beaten(
        bundles):
    from ganzoo.runtime import session as session_lib

    path, generator = bundles["dcgan"]
    tuned = runtime.load(path, providers="cpu", tune=True)
    assert runtime.load(path).cpu_choice is None  # no tuning unless asked
    with pytest.raises(ValueError, match="tune must be True or False. Received: tune='yes'"):
        runtime.load(path, tune="yes")
    choice = tuned.cpu_choice
    cores = runtime.physical_cores()
    threads = [f"{cores} thread{'s' * (cores > 1)}"] + (["1 thread"] if cores > 1 else [])
    assert sorted(choice["timings_ms"]) == sorted(
        f"{graph}, {count}" for graph in ("model.cpu.onnx", "model.onnx") for count in threads)
    assert all(value > 0 for value in choice["timings_ms"].values())
    assert choice["other batches"] == f"model.cpu.onnx, {threads[0]}"
    latents = _sampling.latents(3, LATENT_DIM, 0)
    np.testing.assert_allclose(tuned.run(latents[:1]), generator(latents[:1]).numpy(),
                               atol=1e-5)
    default = ("cpu", 2)
    assert session_lib.choose({default: 1.0, ("plain", 1): 0.97}, default) == default
    assert session_lib.choose({default: 1.0, ("plain", 1): 0.90}, default) == ("plain", 1)
    assert session_lib.choose({default: 1.0, ("plain", 1): 1.2}, default) == default


def test_a_tuned_choice_runs_batches_of_one_only(bundles, monkeypatch):
    """When another graph and thread count win for a batch of one, batches of one run on
    that session and larger ones on the default, with the same images either way."""
    from ganzoo.runtime import session as session_lib

    path, generator = bundles["dcgan"]
    portable_one = (os.path.join(path, "model.onnx"), 1)
    monkeypatch.setattr(session_lib, "choose", lambda medians, default: portable_one)
    tuned = runtime.load(path, providers="cpu", tune=True)
    assert tuned.cpu_choice["batch 1"] == "model.onnx, 1 thread"
    used = []
    for name in ("ort_session", "_single"):
        session = getattr(tuned.session, name)
        monkeypatch.setattr(tuned.session, name, _Spy(session, name, used))
    latents = _sampling.latents(3, LATENT_DIM, 0)
    one, three = tuned.run(latents[:1]), tuned.run(latents)
    assert used == ["_single", "ort_session"]
    np.testing.assert_allclose(one, three[:1], atol=1e-5)
    np.testing.assert_allclose(three, generator(latents).numpy(), atol=1e-5)


class _Spy:
    def __init__(self, session, name, used):
        self._session, self._name, self._used = session, name, used

    def run(self, *args, **kwargs):
        self._used.append(self._name)
        return self._session.run(*args, **kwargs)


def test_tuning_draws_an_image_size_the_bundle_accepts(bundles):
    from ganzoo.runtime import session as session_lib

    for kind in ("srgan", "noisy", "cgan"):  # image, noise and label inputs
        assert runtime.load(bundles[kind][0], providers="cpu", tune=True).cpu_choice

    assert session_lib._tuning_size([{"name": "latent"}]) == 64
    assert session_lib._tuning_size([{"name": "image", "size_multiple": 128}]) == 128
    assert session_lib._tuning_size([{"name": "image", "size_multiple": 24,
                                      "min_size": 70}]) == 72
