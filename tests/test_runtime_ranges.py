"""Each runtime task turns pixels into floats and back with the bundle's declared ranges.

`sample` and `translate` are checked against Keras on sigmoid bundles in
tests/export/test_contract.py. `upscale` is checked here on a bundle written by hand (no
TensorFlow, no conversion): a nearest-neighbour x2 graph that doubles its input, with the
image input in [0, 1] and the output in [0, 2], so that every pixel comes back as it went
in only when both declared ranges are used, each in its place.
"""

import json

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from ganzoo import _bundle, runtime


def _doubling_upscaler():
    """images = 2 * nearest-neighbour x2 enlargement of image (NHWC, any size)."""
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", None, None, 3])
    images = helper.make_tensor_value_info("images", TensorProto.FLOAT,
                                           ["batch", None, None, 3])
    scales = helper.make_tensor("scales", TensorProto.FLOAT, [4], [1.0, 2.0, 2.0, 1.0])
    two = helper.make_tensor("two", TensorProto.FLOAT, [], [2.0])
    nodes = [
        helper.make_node("Resize", ["image", "", "scales"], ["enlarged"], mode="nearest"),
        helper.make_node("Mul", ["enlarged", "two"], ["images"]),
    ]
    graph = helper.make_graph(nodes, "doubling_upscaler", [image], [images],
                              initializer=[scales, two])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                             ir_version=8)


@pytest.fixture(scope="module")
def upscaler(tmp_path_factory):
    """An srgan bundle whose image input is in [0, 1] and whose output is in [0, 2]."""
    bundle = tmp_path_factory.mktemp("ranges") / "srgan"
    bundle.mkdir()
    onnx.save(_doubling_upscaler(), bundle / "model.onnx")
    metadata = {
        "format_version": 1,
        "format": "onnx",
        "model": "model.onnx",
        "family": "srgan",
        "inputs": [{"name": "image", "shape": [None, None, None, 3], "dtype": "float32",
                    "role": "image", "range": [0.0, 1.0]}],
        "outputs": [{"name": "images", "shape": [None, None, None, 3], "dtype": "float32",
                     "range": [0.0, 2.0], "layout": "NHWC"}],
        "files": _bundle.list_files(bundle),
    }
    (bundle / "ganzoo.json").write_text(json.dumps(metadata))
    return runtime.load(bundle, providers="cpu")


@pytest.mark.parametrize("tiling", [{}, {"tile_size": 4, "overlap": 2}],
                         ids=["whole", "tiled"])
def test_upscale_maps_pixels_with_the_declared_input_and_output_ranges(upscaler, tiling):
    picture = np.random.default_rng(0).integers(0, 256, (6, 10, 3), dtype=np.uint8)
    assert type(upscaler) is runtime.SuperResolver
    # The floats the graph returns are in [0, 2] ...
    floats = upscaler.run(image=picture[None])
    assert 1.5 < float(floats.max()) <= 2.0
    # ... and upscale turns them back into the very pixels it was given, enlarged.
    upscaled = upscaler.upscale(picture, **tiling)
    np.testing.assert_array_equal(upscaled, picture.repeat(2, axis=0).repeat(2, axis=1))
    batch = upscaler.upscale(np.stack([picture, picture[::-1]]), **tiling)
    np.testing.assert_array_equal(batch[1], upscaled[::-1])
