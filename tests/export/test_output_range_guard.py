"""A declared output range must fit the generator, or the user must insist.

The parity check compares floats, so a wrong `output_range` (0, 1 for a tanh generator)
used to export cleanly and clip half of every image. Export now refuses a declared range
that contradicts the final activation, or that Keras' outputs on the parity inputs leave
by more than `OUTPUT_RANGE_TOLERANCE` of its span, unless `force_output_range=True`
(`--force-output-range`), in every entry point: ONNX, SavedModel, Triton and the CLI.
"""

import keras
import numpy as np
import pytest
from keras import layers

from ganzoo import export
from ganzoo.export import _signature
from cli_helpers import assert_one_line_error, ganzoo_cli_inprocess
from export_helpers import LATENT_DIM, StandIn, tiny_generator

FORCE = "to keep {declared} anyway pass force_output_range=True (--force-output-range)"
TANH_REFUSED = (
    "output_range=(0, 1) contradicts the generator's final tanh activation, whose outputs "
    "lie in (-1, 1), so the exported pixels would be wrong (clipped or washed out). Pass "
    "output_range=(-1, 1) or leave it out; " + FORCE.format(declared="(0, 1)")
)


def _exporter(fmt):
    return {"onnx": export.to_onnx, "savedmodel": export.to_saved_model,
            "triton": export.to_triton}[fmt]


def _options(fmt):
    return {"optimize": False} if fmt == "onnx" else {}


def sigmoid_generator():
    latent = keras.Input((LATENT_DIM,), name="latent")
    x = layers.Reshape((2, 2, 4))(layers.Dense(16)(latent))
    return keras.Model(latent, layers.Conv2D(1, 1, activation="sigmoid")(x))


def constant_generator(values):
    """A linear generator (no known final activation) whose 2x2 image is `values`."""
    latent = keras.Input((LATENT_DIM,), name="latent")
    x = layers.Dense(4, kernel_initializer="zeros",
                     bias_initializer=keras.initializers.Constant(values))(latent)
    return keras.Model(latent, layers.Reshape((2, 2, 1))(x))


def _outside_message(seen_low, seen_high):
    return (
        "output_range=(-1, 1) does not hold the generator's output 'images': on the parity "
        f"inputs it takes values in [{seen_low:g}, {seen_high:g}], more than 5% of the range "
        "beyond it, so the exported images would be clipped. Pass the range the "
        "generator's outputs take; " + FORCE.format(declared="this one")
    )


# -- a range that contradicts the final activation ----------------------------------------


@pytest.mark.parametrize("fmt", ["onnx", "savedmodel", "triton"])
def test_zero_one_for_a_tanh_generator_is_refused_by_every_format(tmp_path, fmt):
    with pytest.raises(ValueError) as info:
        _exporter(fmt)(tiny_generator(), tmp_path / "out", output_range=(0, 1),
                       parity_samples=1)
    assert str(info.value) == TANH_REFUSED
    assert not (tmp_path / "out").exists()


def test_a_family_s_tanh_generator_and_a_sigmoid_one_are_refused_too(tmp_path):
    with pytest.raises(ValueError) as info:
        export.to_onnx(StandIn(tiny_generator()), tmp_path / "out", output_range=(0, 1))
    assert str(info.value) == TANH_REFUSED
    with pytest.raises(ValueError) as info:
        export.to_onnx(sigmoid_generator(), tmp_path / "out", output_range=[-1, 1])
    assert str(info.value) == (
        "output_range=(-1, 1) contradicts the generator's final sigmoid activation, whose "
        "outputs lie in (0, 1), so the exported pixels would be wrong (clipped or washed "
        "out). Pass output_range=(0, 1) or leave it out; " + FORCE.format(declared="(-1, 1)")
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("fmt", ["onnx", "savedmodel", "triton"])
def test_force_output_range_keeps_the_declared_range_in_every_format(tmp_path, fmt):
    metadata = _exporter(fmt)(tiny_generator(), tmp_path / "out", output_range=(0, 1),
                              force_output_range=True, parity_samples=1, **_options(fmt))
    assert metadata["outputs"][0]["range"] == [0.0, 1.0]
    assert export.read_bundle(tmp_path / "out")["outputs"][0]["range"] == [0.0, 1.0]


# -- a range the generator's outputs leave ----------------------------------------------


def test_outputs_within_the_tolerance_of_the_declared_range_are_accepted(tmp_path):
    # 0.08 beyond [-1, 1] on each side: within 5% of its span (0.1).
    generator = constant_generator([-1.08, 0.0, 0.5, 1.08])
    metadata = export.to_onnx(generator, tmp_path / "out", output_range=(-1, 1),
                              optimize=False, parity_samples=1)
    assert metadata["outputs"][0]["range"] == [-1.0, 1.0]


@pytest.mark.parametrize(
    "values, seen",
    [([-1.0, 0.0, 0.5, 1.2], (-1, 1.2)), ([-1.2, 0.0, 0.5, 1.0], (-1.2, 1))],
    ids=["above", "below"],
)
def test_outputs_beyond_the_tolerance_are_refused_unless_forced(tmp_path, values, seen):
    with pytest.raises(ValueError) as info:
        export.to_onnx(constant_generator(values), tmp_path / "out", output_range=(-1, 1),
                       parity_samples=1)
    assert str(info.value) == _outside_message(*seen)
    assert not (tmp_path / "out").exists()
    metadata = export.to_onnx(constant_generator(values), tmp_path / "out",
                              output_range=(-1, 1), force_output_range=True,
                              optimize=False, parity_samples=1)
    assert metadata["outputs"][0]["range"] == [-1.0, 1.0]


def test_the_tolerance_is_a_fraction_of_the_declared_span():
    assert _signature.OUTPUT_RANGE_TOLERANCE == 0.05
    outputs = [{"name": "images", "range": [0.0, 100.0]}]
    _signature.check_outputs_in_range(outputs, [[np.array([-4.9, 104.9])]])
    with pytest.raises(ValueError, match=r"takes values in \[-5.1, 50\]"):
        _signature.check_outputs_in_range(outputs, [[np.array([-5.1, 50.0])]])
    # Every parity size counts, not only the first.
    with pytest.raises(ValueError, match=r"takes values in \[0, 106\]"):
        _signature.check_outputs_in_range(outputs, [[np.array([0.0])], [np.array([106.0])]])


# -- the flag itself ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "options, message",
    [
        ({"force_output_range": True}, "force_output_range keeps a declared output_range; "
         "pass output_range=(low, high) (--output-range LO,HI) with it. "
         "Received: output_range=None"),
        ({"force_output_range": "yes", "output_range": (0, 1)},
         "force_output_range must be True or False. Received: force_output_range='yes'"),
    ],
)
def test_a_misused_force_flag_is_refused_in_one_line(tmp_path, options, message):
    with pytest.raises(ValueError) as info:
        export.to_onnx(tiny_generator(), tmp_path / "out", **options)
    assert str(info.value) == message


def test_triton_from_a_bundle_refuses_range_options(tmp_path):
    export.to_onnx(tiny_generator(), tmp_path / "bundle", optimize=False, parity_samples=1)
    with pytest.raises(ValueError, match="already an exported bundle: output_range, "
                                         "force_output_range apply when exporting"):
        export.to_triton(tmp_path / "bundle", tmp_path / "repo", output_range=(0, 1),
                         force_output_range=True)
    assert not (tmp_path / "repo").exists()


# -- the command line -------------------------------------------------------------------


@pytest.fixture(scope="module")
def preset(tmp_path_factory):
    from ganzoo import models

    gan = models.DCGAN(image_shape=(16, 16, 1), latent_dim=8, generator_filters=4,
                       discriminator_filters=4, seed=1)
    path = tmp_path_factory.mktemp("preset") / "dcgan-tiny"
    gan.save_to_preset(path)
    return path


@pytest.mark.parametrize("fmt", ["onnx", "savedmodel", "triton"])
def test_cli_export_refuses_zero_one_for_tanh_until_forced(preset, tmp_path, fmt):
    out = tmp_path / "out"
    command = ["export", preset, "--format", fmt, "--out", out, "--output-range", "0,1"]
    assert_one_line_error(ganzoo_cli_inprocess(command), TANH_REFUSED)
    assert not out.exists()
    result = ganzoo_cli_inprocess(command + ["--force-output-range"])
    assert result.exit_code == 0, result.output
    assert export.read_bundle(out)["outputs"][0]["range"] == [0.0, 1.0]


def test_cli_refuses_the_force_flag_alone_and_range_options_for_a_bundle(preset, tmp_path):
    result = ganzoo_cli_inprocess(["export", preset, "--out", tmp_path / "out",
                                   "--force-output-range"])
    assert_one_line_error(result, "force_output_range keeps a declared output_range")
    bundle = tmp_path / "bundle"
    assert ganzoo_cli_inprocess(["export", preset, "--out", bundle]).exit_code == 0
    result = ganzoo_cli_inprocess(["export", bundle, "--format", "triton", "--out",
                                   tmp_path / "repo", "--output-range", "0,1",
                                   "--force-output-range"])
    assert_one_line_error(result, "already an exported bundle: output_range, "
                                  "force_output_range apply when exporting a Keras model")
    assert not (tmp_path / "repo").exists()
