"""Export options as one frozen value: checked once when made, passed down whole.

`ganzoo.export.ExportOptions` and `TritonOptions` hold the options; the public exporters
take them as keywords (made into one value) or ready-made (`options=`,
`triton_options=`), and both ways give the same bundle.
"""

import dataclasses
import inspect
import json
import os
import re
import subprocess
import sys

import pytest

from ganzoo import export
from ganzoo.export import options as options_lib

from export_helpers import StandIn, tiny_generator


def test_the_options_are_frozen():
    options = export.ExportOptions(parity_samples=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.parity_samples = 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        export.TritonOptions().max_batch_size = 8
    assert options.parity_samples == 2
    # A changed copy is a new value, checked again.
    assert dataclasses.replace(options, seed=4).seed == 4
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        dataclasses.replace(options, seed=-1)


def test_values_are_stored_in_one_form():
    signature = ["spec"]
    options = export.ExportOptions(input_signature=signature, output_range=[0, 1],
                                   input_range=(-1, 1.0))
    signature.append("added later")
    assert options.input_signature == ("spec",)  # the caller's list is not shared
    assert options.output_range == (0.0, 1.0) and options.input_range == (-1.0, 1.0)
    assert options == export.ExportOptions(input_signature=("spec",), output_range=(0, 1),
                                           input_range=[-1, 1])
    assert export.ExportOptions().onnx_opset == 17
    assert export.ExportOptions(opset=18).onnx_opset == 18


@pytest.mark.parametrize(
    "values, message",
    [
        ({"opset": 13}, "opset must lie in [17, the newest opset tf2onnx writes]. "
                        "Received: opset=13"),
        ({"opset": "17"}, "opset must be an integer. Received: opset='17'"),
        ({"opset": True}, "opset must be an integer. Received: opset=True"),
        ({"parity_samples": 0},
         "parity_samples must be a positive integer. Received: parity_samples=0"),
        ({"seed": -1}, "seed must be a non-negative integer. Received: seed=-1"),
        ({"seed": 1.5}, "seed must be a non-negative integer. Received: seed=1.5"),
        ({"generator": 2}, "generator must be a name (str) or None. Received: generator=2"),
        ({"output_range": (1, 1)},
         "output_range must be (low, high) with finite low < high. Received: "
         "output_range=(1, 1)"),
        ({"input_range": "wide"},
         "input_range must be a pair (low, high) of numbers, e.g. input_range=(0, 1). "
         "Received: input_range='wide'"),
        ({"parity_size": 0}, "parity_size must be a positive integer. Received: parity_size=0"),
        ({"force_output_range": True},
         "force_output_range keeps a declared output_range; pass output_range=(low, high) "
         "(--output-range LO,HI) with it. Received: output_range=None"),
        ({"force_output_range": "yes", "output_range": (0, 1)},
         "force_output_range must be True or False. Received: force_output_range='yes'"),
    ],
)
def test_a_bad_export_option_is_refused_when_made(values, message):
    with pytest.raises(ValueError) as info:
        export.ExportOptions(**values)
    assert str(info.value) == message


@pytest.mark.parametrize(
    "values, message",
    [
        ({"max_batch_size": 0}, "max_batch_size must be an integer >= 1. Received: "
                                "max_batch_size=0"),
        ({"model_name": "../up"}, "model_name must be letters, digits, '_', '-' or '.' (a "
                                  "folder name Triton serves). Received: model_name='../up'"),
        ({"instances": "2"}, "instances must be an integer >= 1. Received: instances='2'"),
        ({"instance_kind": "tpu"},
         "instance_kind must be one of auto, gpu, cpu. Received: instance_kind='tpu'"),
        ({"version": 0}, "version must be an integer >= 1. Received: version=0"),
        ({"max_queue_delay_us": -1},
         "max_queue_delay_us must be an integer >= 0. Received: max_queue_delay_us=-1"),
        ({"warmup": 9, "max_batch_size": 8},
         "warmup batch size must be at most max_batch_size (8). Received: warmup=9"),
    ],
)
def test_a_bad_triton_option_is_refused_when_made(values, message):
    with pytest.raises(ValueError) as info:
        export.TritonOptions(**values)
    assert str(info.value) == message


def test_bad_options_are_refused_before_any_tensorflow_work(tmp_path):
    """Making the options, and refusing them, needs no TensorFlow: a fresh process
    refuses a bad value given to every exporter with TensorFlow never imported."""
    code = f"""
import sys
from ganzoo import export
for function, values in [
    (export.to_onnx, {{"opset": 13}}),
    (export.to_onnx, {{"parity_samples": 0}}),
    (export.to_saved_model, {{"seed": -1}}),
    (export.to_saved_model, {{"output_range": (0, 1), "force_output_range": "yes"}}),
    (export.to_triton, {{"parity_size": 0}}),
    (export.to_triton, {{"max_batch_size": 0}}),
]:
    try:
        function(object(), {str(tmp_path / "out")!r}, **values)
    except ValueError as error:
        assert "Received:" in str(error) and "\\n" not in str(error), error
    else:
        raise AssertionError(f"{{function.__name__}}({{values}}) was not refused")
assert "tensorflow" not in sys.modules, "TensorFlow was imported"
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr.strip().splitlines()[-1]
    assert os.listdir(tmp_path) == []


def test_an_export_makes_its_options_once(tmp_path, monkeypatch):
    """Keywords become one `ExportOptions`; a ready one is used as it is, not made again."""
    made = []
    check = export.ExportOptions.__post_init__
    monkeypatch.setattr(export.ExportOptions, "__post_init__",
                        lambda self: (made.append(self), check(self))[1])
    generator = StandIn(tiny_generator())
    export.to_onnx(generator, tmp_path / "keywords", parity_samples=1, optimize=False)
    assert len(made) == 1
    options = export.ExportOptions(parity_samples=1, optimize=False)
    made.clear()
    export.to_onnx(generator, tmp_path / "options", options=options)
    export.to_triton(generator, tmp_path / "repo", options=options)
    assert made == []


def _without_timestamps(metadata):
    """`metadata` without its time of writing, and with only the names of its files: two
    conversions of one generator differ in their graphs' internal node names."""
    kept = {key: value for key, value in metadata.items() if key != "created"}
    kept["files"] = sorted(kept["files"])
    return kept


def _read(path):
    return json.loads((path / "ganzoo.json").read_text())


@pytest.fixture(scope="module")
def model():
    return StandIn(tiny_generator())


@pytest.mark.parametrize(
    "exporter, values",
    [
        (export.to_onnx, {"opset": 18, "parity_samples": 2, "seed": 3, "optimize": False,
                          "output_range": (-1, 1)}),
        (export.to_saved_model, {"parity_samples": 2, "seed": 3, "output_range": [-1, 1]}),
    ],
)
def test_keywords_and_options_give_the_same_bundle(model, tmp_path, exporter, values):
    by_keywords = exporter(model, tmp_path / "keywords", **values)
    by_options = exporter(model, tmp_path / "options", options=export.ExportOptions(**values))
    assert (by_keywords["parity"]["samples"], by_keywords["parity"]["seed"]) == (2, 3)
    assert by_keywords["opset"] == values.get("opset")
    assert "variants" not in by_keywords  # optimize=False, or a SavedModel
    assert _without_timestamps(by_options) == _without_timestamps(by_keywords)
    assert by_options["parity"]["max_abs_diff"] == by_keywords["parity"]["max_abs_diff"]
    assert _without_timestamps(_read(tmp_path / "options")) == _without_timestamps(
        _read(tmp_path / "keywords"))


def test_to_triton_gives_the_same_repository_from_keywords_and_from_options(model,
                                                                            tmp_path):
    graph = {"parity_samples": 2, "seed": 3}
    serving = {"model_name": "faces", "version": 4, "instance_kind": "cpu", "instances": 2,
               "warmup": True, "max_batch_size": 8, "max_queue_delay_us": 50}
    by_keywords = export.to_triton(model, tmp_path / "keywords", **graph, **serving)
    by_options = export.to_triton(model, tmp_path / "options",
                                  options=export.ExportOptions(**graph),
                                  triton_options=export.TritonOptions(**serving))
    assert by_keywords["triton"]["max_batch_size"] == 8
    assert by_keywords["triton"]["instance_group"] == {"count": 2, "kind": "KIND_CPU"}
    assert by_keywords["parity"]["samples"] == 2 and by_keywords["parity"]["seed"] == 3
    assert _without_timestamps(by_options) == _without_timestamps(by_keywords)
    assert by_options["parity"]["max_abs_diff"] == by_keywords["parity"]["max_abs_diff"]
    config = "faces/config.pbtxt"
    assert (tmp_path / "options" / config).read_text() == (
        tmp_path / "keywords" / config).read_text()
    for folder in ("", "faces/4"):
        assert _without_timestamps(_read(tmp_path / "options" / folder)) == (
            _without_timestamps(_read(tmp_path / "keywords" / folder)))


@pytest.mark.parametrize(
    "function, values, message",
    [
        (export.to_onnx, {"opsett": 18},
         "to_onnx() got an unknown option 'opsett'; it takes opset, fp16, input_signature, "
         "parity_samples, seed, optimize, output_range, input_range, generator, "
         "parity_size, force_output_range, overwrite, options=ExportOptions(...)"),
        (export.to_onnx, {"max_batch_size": 8},
         "to_onnx() got an unknown option 'max_batch_size'; it takes opset, "),
        (export.to_saved_model, {"fp16": True},
         "to_saved_model() got an unknown option 'fp16'; it takes input_signature, "
         "parity_samples, seed, output_range, input_range, generator, parity_size, "
         "force_output_range, overwrite, options=ExportOptions(...)"),
        (export.to_triton, {"optimize": False, "bogus": 1},
         "to_triton() got an unknown option 'bogus', 'optimize'; it takes model_name, "
         "version, instance_kind, instances, warmup, max_batch_size, max_queue_delay_us, "
         "opset, fp16, input_signature, parity_samples, seed, output_range, input_range, "
         "generator, parity_size, force_output_range, overwrite, "
         "options=ExportOptions(...), triton_options=TritonOptions(...)"),
    ],
)
def test_an_unknown_keyword_is_refused_in_one_line(function, values, message, tmp_path):
    with pytest.raises(ValueError) as info:
        function(StandIn(tiny_generator()), tmp_path / "out", **values)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "function, values, message",
    [
        (export.to_onnx, {"options": export.ExportOptions(), "seed": 1},
         "Give the options as keywords or as options=ExportOptions(...), not both. "
         "Received: options with the keywords seed"),
        (export.to_triton, {"triton_options": export.TritonOptions(), "version": 2,
                            "instances": 2},
         "Give the options as keywords or as triton_options=TritonOptions(...), not both. "
         "Received: triton_options with the keywords instances, version"),
        (export.to_saved_model, {"options": {"seed": 1}},
         "options must be a ganzoo.export.ExportOptions. Received: options={'seed': 1}"),
        (export.to_saved_model, {"options": export.ExportOptions(fp16=True)},
         "fp16 apply to ONNX exports (to_onnx, to_triton), not to a SavedModel. "
         "Received: options.fp16=True"),
    ],
)
def test_options_given_two_ways_are_refused_in_one_line(function, values, message, tmp_path):
    with pytest.raises(ValueError) as info:
        function(StandIn(tiny_generator()), tmp_path / "out", **values)
    assert str(info.value) == message
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "function, keywords",
    [
        (export.to_onnx, export.ONNX_KEYWORDS),
        (export.to_saved_model, export.SAVED_MODEL_KEYWORDS),
        (export.to_triton, export.TRITON_KEYWORDS),
    ],
)
def test_the_docstrings_list_every_option_an_exporter_takes(function, keywords):
    """The Args sections are the API reference: each keyword is described there."""
    args = function.__doc__.split("Args:")[1].split("Returns:")[0]
    described = set(re.findall(r"^        (\w+):", args, re.MULTILINE))
    parameters = [name for name, parameter in inspect.signature(function).parameters.items()
                  if parameter.kind != parameter.VAR_KEYWORD]
    assert described == set(parameters) | set(keywords)
    assert len(parameters) <= 6
    assert set(keywords) <= set(options_lib.EXPORT_FIELDS + options_lib.TRITON_FIELDS)
