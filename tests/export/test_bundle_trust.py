"""A bundle production can trust: checksums, paths inside the bundle, the graph it describes.

Each test plants one fault in a copy of a bundle (a truncated or flipped file, a graph
swapped in from another generator, a missing file, a path or link leading out of the
bundle) and checks that `ganzoo.runtime.load` refuses it in one line naming the file.
"""

import hashlib
import json
import os
import shutil
import warnings

import pytest
from click.testing import CliRunner

from ganzoo import _bundle, cli, export, runtime
from export_helpers import StandIn, tiny_generator


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """An ONNX bundle (1 channel, with model.cpu.onnx) and one of another generator."""
    root = tmp_path_factory.mktemp("trust")
    export.to_onnx(StandIn(tiny_generator()), root / "grey", parity_samples=1)
    export.to_onnx(StandIn(tiny_generator(channels=3)), root / "colour", parity_samples=1)
    return root


@pytest.fixture
def bundle(exported, tmp_path):
    copy = tmp_path / "bundle"
    shutil.copytree(exported / "grey", copy)
    return copy


def _metadata(bundle):
    return json.loads((bundle / "ganzoo.json").read_text())


def _rewrite(bundle, **fields):
    metadata = _metadata(bundle)
    metadata.update(fields)
    (bundle / "ganzoo.json").write_text(json.dumps(metadata))


def _refused(bundle):
    with pytest.raises(ValueError) as info:
        runtime.load(bundle, providers="cpu")
    message = str(info.value)
    assert "\n" not in message
    return message


def test_every_file_is_listed_with_its_sha256_and_the_bundle_loads(bundle):
    files = _metadata(bundle)["files"]
    on_disk = sorted(path.name for path in bundle.iterdir() if path.name != "ganzoo.json")
    assert sorted(files) == on_disk == ["model.cpu.onnx", "model.onnx"]
    for name, entry in files.items():
        content = (bundle / name).read_bytes()
        assert entry == {"sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        generator = runtime.load(bundle, providers="cpu")
    assert generator.sample(2, seed=0).shape == (2, 16, 16, 1)


def test_a_truncated_cpu_graph_is_refused_not_replaced_by_the_portable_one(bundle):
    path = bundle / "model.cpu.onnx"
    size = path.stat().st_size
    path.write_bytes(path.read_bytes()[: size // 2])
    message = _refused(bundle)
    assert message == (
        f"{path} is truncated: {size // 2} bytes, ganzoo.json lists {size}. "
        "Copy the bundle again or re-export it"
    )


def test_a_flipped_byte_is_refused(bundle):
    path = bundle / "model.onnx"
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0x01
    path.write_bytes(bytes(content))
    assert _refused(bundle) == (
        f"{path} does not match its sha256 in ganzoo.json: it was changed or damaged after "
        "export. Copy the bundle again or re-export it"
    )


def test_a_graph_swapped_in_from_another_generator_is_refused(bundle, exported):
    for name in ("model.onnx", "model.cpu.onnx"):
        shutil.copyfile(exported / "colour" / name, bundle / name)
    assert "does not match its sha256" in _refused(bundle)

    # Even with checksums recomputed for the swapped files (or none at all), the graph
    # is not the one ganzoo.json describes: it returns 3 channels, not 1.
    _rewrite(bundle, files=_bundle.list_files(bundle))
    message = _refused(bundle)
    assert message == (
        f"{bundle / 'model.cpu.onnx'} is not the graph ganzoo.json describes: its output "
        "'images' is (None, 16, 16, 3) float32, ganzoo.json expects (None, 16, 16, 1) float32"
    )
    metadata = _metadata(bundle)
    del metadata["files"]
    (bundle / "ganzoo.json").write_text(json.dumps(metadata))
    with pytest.warns(RuntimeWarning):
        with pytest.raises(ValueError, match="is not the graph ganzoo.json describes"):
            runtime.load(bundle, providers="cpu", optimized=False)


def test_a_graph_with_other_input_names_dtypes_or_sizes_is_refused(bundle):
    metadata = _metadata(bundle)
    metadata["inputs"][0]["shape"] = [None, 32]
    (bundle / "ganzoo.json").write_text(json.dumps(metadata))
    assert _refused(bundle).endswith(
        "its input 'latent' is (None, 16) float32, ganzoo.json expects (None, 32) float32"
    )
    metadata["inputs"][0].update(shape=[None, 16], name="z")
    (bundle / "ganzoo.json").write_text(json.dumps(metadata))
    assert "graph inputs ['latent']" in _refused(bundle)
    metadata["inputs"][0].update(name="latent")
    metadata["image_shape"] = [32, 32, 1]
    (bundle / "ganzoo.json").write_text(json.dumps(metadata))
    assert _refused(bundle).endswith("ganzoo.json expects (None, 32, 32, 1) float32")


@pytest.mark.parametrize("name", ["model.onnx", "model.cpu.onnx"])
def test_a_missing_file_is_named(bundle, name):
    os.remove(bundle / name)
    message = _refused(bundle)
    assert str(bundle / name) in message and "missing" in message


@pytest.mark.parametrize("field", ["model", "variant", "files"])
def test_paths_leading_out_of_the_bundle_are_refused(bundle, tmp_path, field):
    outside = tmp_path / "x.onnx"
    shutil.copyfile(bundle / "model.onnx", outside)  # a valid graph, so only the path stops it
    escape = "../x.onnx"
    metadata = _metadata(bundle)
    if field == "model":
        metadata["model"] = escape
        name = "model"
    elif field == "variant":
        metadata["variants"]["cpu"]["model"] = escape
        name = "variants.cpu.model"
    else:
        metadata["files"][escape] = _bundle.file_digest(outside)
        name = f"files[{escape!r}]"
    (bundle / "ganzoo.json").write_text(json.dumps(metadata))
    assert _refused(bundle) == (
        f"{bundle}: ganzoo.json field {name} must name a file inside the bundle. "
        f"Received: {name}={escape!r}"
    )


@pytest.mark.parametrize("escape", ["/etc/passwd", "a/../../x.onnx", "..\\x.onnx"])
def test_absolute_and_climbing_paths_are_refused(bundle, escape):
    _rewrite(bundle, model=escape)
    assert "must name a file inside the bundle" in _refused(bundle)


def test_a_link_leading_out_of_the_bundle_is_refused(bundle, tmp_path):
    outside = tmp_path / "elsewhere.onnx"
    shutil.move(bundle / "model.onnx", outside)
    os.symlink(outside, bundle / "model.onnx")  # same bytes, same checksum
    assert _refused(bundle) == (
        f"{bundle}: model.onnx (ganzoo.json field model) is a link that leads out of the "
        f"bundle, to {outside}; refusing to open it"
    )
    # A link that stays inside the bundle is fine.
    os.remove(bundle / "model.onnx")
    shutil.move(outside, bundle / "real.onnx")
    os.symlink("real.onnx", bundle / "model.onnx")
    assert runtime.load(bundle, providers="cpu").sample(1).shape == (1, 16, 16, 1)


def test_a_bundle_without_checksums_loads_with_a_warning_to_re_export(bundle):
    metadata = _metadata(bundle)
    del metadata["files"]
    (bundle / "ganzoo.json").write_text(json.dumps(metadata))
    with pytest.warns(RuntimeWarning) as caught:
        generator = runtime.load(bundle, providers="cpu")
    assert [str(w.message) for w in caught] == [
        f"{bundle} has no checksums in ganzoo.json (it was exported by an older ganzoo), so "
        "its files cannot be verified; re-export it to add them"
    ]
    assert generator.sample(1).shape == (1, 16, 16, 1)


def test_a_malformed_files_field_is_refused(bundle):
    _rewrite(bundle, files=["model.onnx"])
    assert "field files must map each file to its sha256 and size" in _refused(bundle)
    _rewrite(bundle, files={})
    assert _refused(bundle) == (
        f"{bundle}: ganzoo.json lists no checksum for model.onnx (field model); "
        "re-export the bundle"
    )


def test_the_command_line_refuses_a_damaged_bundle_in_one_line(bundle, tmp_path):
    path = bundle / "model.onnx"
    path.write_bytes(path.read_bytes()[:100])
    result = CliRunner().invoke(cli.main, ["sample", str(bundle), "-n", "1",
                                           "--out", str(tmp_path / "grid.png")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"ganzoo: error: {path} is truncated: 100 bytes, ganzoo.json lists "
        f"{_metadata(bundle)['files']['model.onnx']['size']}. "
        "Copy the bundle again or re-export it"
    ]
    assert not (tmp_path / "grid.png").exists()


def test_saved_model_bundles_list_every_file_of_the_saved_model(tmp_path):
    metadata = export.to_saved_model(StandIn(tiny_generator()), tmp_path / "sm",
                                     parity_samples=1)
    listed = set(metadata["files"])
    on_disk = {
        os.path.relpath(os.path.join(root, name), tmp_path / "sm").replace(os.sep, "/")
        for root, _, names in os.walk(tmp_path / "sm") for name in names
    } - {"ganzoo.json"}
    assert listed == on_disk and any(name.startswith("saved_model/") for name in listed)
    assert _metadata(tmp_path / "sm") == metadata
    _bundle.verify_files(tmp_path / "sm", metadata)
    variables = next(name for name in listed if "variables.data" in name)
    with open(tmp_path / "sm" / variables, "r+b") as handle:
        handle.seek(0)
        first = handle.read(1)
        handle.seek(0)
        handle.write(bytes([first[0] ^ 0xFF]))
    with pytest.raises(ValueError, match="does not match its sha256"):
        _bundle.verify_files(tmp_path / "sm", metadata)
