"""Preset folders: atomic saves, safe overwrite, the NaN guard, manifests and edited configs."""

import errno
import hashlib
import io
import json
import os

import numpy as np
import pytest

import ganzoo
from ganzoo import _atomic, presets

from export_helpers import read_only_disk, small_disk, snapshot


def tiny_dcgan(seed=1, **overrides):
    options = dict(image_shape=(16, 16, 1), latent_dim=8, generator_filters=8,
                   discriminator_filters=8, seed=seed)
    options.update(overrides)
    return ganzoo.models.DCGAN(**options)


@pytest.fixture(scope="module")
def model():
    return tiny_dcgan()


@pytest.fixture
def preset(model, tmp_path):
    return presets.save_to_preset(model, tmp_path / "preset")


def _poison(network, value=np.nan, index=0):
    """Put `value` into one weight of `network`; returns that variable's path."""
    variable = network.weights[index]
    variable.assign(np.full(variable.shape, value, variable.dtype))
    return variable.path


def _one_line(error):
    return "\n" not in str(error.value) and str(error.value).strip()


# -- saving and overwriting ------------------------------------------------------------


def test_a_saved_preset_loads_with_the_same_weights(model, preset, tmp_path):
    assert sorted(os.listdir(preset)) == ["card.md", "config.json", "model.weights.h5",
                                          "sha256.txt"]
    assert os.listdir(tmp_path) == ["preset"]
    loaded = ganzoo.models.load(preset)
    for saved, restored in zip(model.generator.weights, loaded.generator.weights):
        np.testing.assert_array_equal(np.asarray(saved), np.asarray(restored))


def test_an_existing_folder_is_refused_without_overwrite(model, preset):
    before = snapshot(preset)
    with pytest.raises(FileExistsError, match="already exists; pass overwrite=True"):
        presets.save_to_preset(model, preset)
    assert snapshot(preset) == before


def test_overwrite_replaces_a_preset_and_leaves_nothing_beside_it(preset, tmp_path):
    other = tiny_dcgan(seed=2)
    presets.save_to_preset(other, preset, overwrite=True, steps=7)
    assert sorted(os.listdir(tmp_path)) == ["preset"]
    assert presets.read_config(preset)["training"] == {"steps": 7}
    loaded = ganzoo.models.load(preset)
    np.testing.assert_array_equal(np.asarray(loaded.generator.weights[0]),
                                  np.asarray(other.generator.weights[0]))


def test_overwrite_replaces_an_empty_folder(model, tmp_path):
    (tmp_path / "empty").mkdir()
    presets.save_to_preset(model, tmp_path / "empty", overwrite=True)
    assert presets.is_preset(tmp_path / "empty")


@pytest.mark.parametrize("foreign", ["notes.txt", "figures/loss.png", "samples.png.orig"])
def test_overwrite_refuses_a_preset_holding_files_ganzoo_did_not_write(model, preset,
                                                                        foreign):
    (preset / foreign).parent.mkdir(exist_ok=True)
    (preset / foreign).write_text("mine")
    before = snapshot(preset)

    with pytest.raises(FileExistsError) as error:
        presets.save_to_preset(tiny_dcgan(seed=2), preset, overwrite=True)

    assert str(error.value) == (
        f"{preset / foreign} was not written by ganzoo: refusing to replace the ganzoo "
        f"preset {preset} even with overwrite=True; move that file out of it first or "
        "choose another folder"
    )
    assert snapshot(preset) == before


def test_overwrite_replaces_the_sample_grid_and_the_files_the_manifest_lists(model, preset):
    (preset / "samples.png").write_bytes(b"grid")
    (preset / "before_after.png").write_bytes(b"picture")
    presets.write_manifest(preset, [presets.CONFIG_FILE, presets.WEIGHTS_FILE,
                                    "before_after.png"])
    presets.save_to_preset(tiny_dcgan(seed=2), preset, overwrite=True)
    assert sorted(os.listdir(preset)) == ["card.md", "config.json", "model.weights.h5",
                                          "sha256.txt"]


@pytest.mark.parametrize("kind", ["folder with files", "file", "link to a preset"])
def test_overwrite_refuses_what_is_not_a_preset(model, preset, tmp_path, kind):
    target = tmp_path / "target"
    if kind == "folder with files":
        target.mkdir()
        (target / "thesis.tex").write_text("years of work")
        (target / "config.json").write_text("{}")  # a preset needs weights too
    elif kind == "file":
        target.write_text("years of work")
    else:
        target.symlink_to(preset, target_is_directory=True)
    before = snapshot(tmp_path)

    with pytest.raises(ValueError, match="is not a ganzoo preset") as error:
        presets.save_to_preset(model, target, overwrite=True)

    assert _one_line(error) and str(target) in str(error.value)
    assert isinstance(error.value, FileExistsError)
    assert snapshot(tmp_path) == before
    assert sorted(os.listdir(tmp_path)) == ["preset", "target"]


def _failing_weights_open(real_open):
    """`open` for presets.py that dies with a full disk half-way through the weights file."""

    class HalfWritten(io.FileIO):
        def write(self, data):
            super().write(bytes(data)[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def fake_open(path, mode="r", *args, **kwargs):
        if os.fspath(path).endswith(presets.WEIGHTS_FILE) and "w" in mode:
            return HalfWritten(path, "w")
        return real_open(path, mode, *args, **kwargs)

    return fake_open


def test_a_save_that_fails_midway_keeps_the_old_preset_byte_for_byte(preset, tmp_path,
                                                                    monkeypatch):
    before = snapshot(preset)
    monkeypatch.setattr(presets, "open", _failing_weights_open(open), raising=False)

    with pytest.raises(OSError, match="No space left on device") as error:
        presets.save_to_preset(tiny_dcgan(seed=3), preset, overwrite=True)

    assert _one_line(error)
    assert str(error.value) == (
        f"cannot write to {preset / presets.WEIGHTS_FILE}: No space left on device"
    )
    assert snapshot(preset) == before
    assert os.listdir(tmp_path) == ["preset"]  # no temporary folder beside it


def test_a_save_that_fails_after_writing_files_leaves_nothing(model, tmp_path, monkeypatch):
    written = []

    def manifest_on_a_full_disk(folder, files):
        written.extend(sorted(os.listdir(folder)))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(presets, "write_manifest", manifest_on_a_full_disk)
    target = tmp_path / "new" / "preset"
    with pytest.raises(OSError, match="No space left on device"):
        presets.save_to_preset(model, target)
    assert written == ["card.md", "config.json", "model.weights.h5"]
    assert os.listdir(tmp_path) == []  # the parent this save created is gone too


def test_a_full_disk_is_one_line_and_leaves_nothing(model, tmp_path):
    """A real full disk: HDF5 writing there directly crashed the process (SIGSEGV)."""
    with small_disk(tmp_path / "disk", free_bytes=16 * 1024) as disk:
        with pytest.raises(OSError) as error:
            presets.save_to_preset(model, disk / "preset")
        assert str(error.value) == (
            f"cannot write to {disk / 'preset' / presets.WEIGHTS_FILE}: No space left on device"
        )
        assert os.listdir(disk) == ["filler"]


def test_a_read_only_parent_is_one_line(model, tmp_path, monkeypatch):
    def refused(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / ".x.tmp-1"))

    monkeypatch.setattr(_atomic.tempfile, "mkdtemp", refused)
    with pytest.raises(PermissionError) as error:
        presets.save_to_preset(model, tmp_path / "preset")
    assert str(error.value) == f"cannot write to {tmp_path}: permission denied"
    assert os.listdir(tmp_path) == []


def test_a_read_only_file_system_is_one_line(model, tmp_path):
    with read_only_disk(tmp_path / "disk") as disk:
        with pytest.raises(OSError) as error:
            presets.save_to_preset(model, disk / "runs" / "preset")
        assert str(error.value) == f"cannot write to {disk}: Read-only file system"
        assert os.listdir(disk) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_really_read_only_parent_is_one_line(model, tmp_path):
    parent = tmp_path / "locked"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        with pytest.raises(PermissionError, match=f"cannot write to {parent}: permission denied"):
            presets.save_to_preset(model, parent / "preset")
    finally:
        parent.chmod(0o755)
    assert os.listdir(parent) == []


# -- non-finite weights ------------------------------------------------------------------


@pytest.mark.parametrize("network, value", [("generator", np.nan), ("discriminator", np.inf)])
def test_non_finite_weights_are_refused_naming_network_and_variable(tmp_path, network, value):
    diverged = tiny_dcgan()
    path = _poison(getattr(diverged, network), value, index=2)

    with pytest.raises(ValueError) as error:
        presets.save_to_preset(diverged, tmp_path / "preset")

    message = str(error.value)
    assert _one_line(error)
    assert f"The {network} has NaN or Inf weights (first: {path})" in message
    assert "diverged" in message and "learning rate" in message
    assert "last good checkpoint" in message
    assert os.listdir(tmp_path) == []


def test_non_finite_weights_do_not_replace_a_good_preset(preset):
    before = snapshot(preset)
    diverged = tiny_dcgan()
    _poison(diverged.generator)
    with pytest.raises(ValueError, match="diverged"):
        presets.save_to_preset(diverged, preset, overwrite=True)
    assert snapshot(preset) == before


# -- the manifest ----------------------------------------------------------------------


def _write_lines(preset, *lines):
    (preset / presets.MANIFEST_FILE).write_text("".join(line + "\n" for line in lines))


def _entry(preset, name):
    return f"{hashlib.sha256((preset / name).read_bytes()).hexdigest()}  {name}"


@pytest.fixture
def hashing(monkeypatch):
    """Record every file the manifest check hashes."""
    hashed = []
    real = presets.sha256_of

    def recording(path, *args, **kwargs):
        hashed.append(os.fspath(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(presets, "sha256_of", recording)
    return hashed


ZERO = "0" * 64


@pytest.mark.parametrize(
    "listed, problem",
    [
        ("/etc/hostname", "an absolute path"),
        ("../outside.bin", "climbs out with '..'"),
        ("sub/../../outside.bin", "climbs out with '..'"),
        ("C:/Windows/win.ini", "drive letter"),
        ("C:outside.bin", "drive letter"),
        ("sub\\..\\..\\outside.bin", "backslash"),
        ("escape", "leads outside the folder"),  # a symbolic link to ../outside.bin
        ("escape_dir/outside.bin", "leads outside the folder"),
    ],
)
def test_a_manifest_naming_files_outside_is_refused_before_hashing(preset, tmp_path, hashing,
                                                                  listed, problem):
    (tmp_path / "outside.bin").write_bytes(b"x" * 1024)
    (preset / "escape").symlink_to(tmp_path / "outside.bin")
    (preset / "escape_dir").symlink_to(tmp_path, target_is_directory=True)
    _write_lines(preset, _entry(preset, "config.json"), _entry(preset, "model.weights.h5"),
                 f"{ZERO}  {listed}")

    with pytest.raises(ValueError) as error:
        presets.verify(preset)

    assert _one_line(error)
    assert problem in str(error.value)
    assert "may only list files inside its folder" in str(error.value)
    assert "line 3" in str(error.value)
    assert hashing == []


@pytest.mark.parametrize(
    "line, expected",
    [
        (f"{ZERO} config.json", "malformed"),  # one space: not sha256sum's text format
        (f"{ZERO[:63]}  config.json", "malformed"),
        (f"{'g' * 64}  config.json", "malformed"),
        (f"{ZERO}  ", "malformed"),
        ("just some text", "malformed"),
    ],
)
def test_a_malformed_manifest_line_is_refused_before_hashing(preset, hashing, line, expected):
    _write_lines(preset, line, _entry(preset, "model.weights.h5"))
    with pytest.raises(ValueError, match=f"line 1 is {expected}: expected '<64 hex digits>"):
        presets.verify(preset)
    assert hashing == []


def test_a_duplicate_manifest_entry_is_refused_before_hashing(preset, hashing):
    _write_lines(preset, _entry(preset, "config.json"), _entry(preset, "model.weights.h5"),
                 _entry(preset, "config.json"))
    with pytest.raises(ValueError, match="line 3 lists 'config.json' a second time"):
        presets.verify(preset)
    assert hashing == []


def test_files_in_subfolders_and_links_inside_are_fine(preset, hashing):
    (preset / "samples").mkdir()
    (preset / "samples" / "grid.png").write_bytes(b"png")
    (preset / "weights_link.h5").symlink_to(preset / "model.weights.h5")
    _write_lines(preset, _entry(preset, "config.json"), _entry(preset, "model.weights.h5"),
                 _entry(preset, "samples/grid.png"), _entry(preset, "weights_link.h5"))
    assert presets.verify(preset) == preset
    assert len(hashing) == 4


def test_a_tampered_weights_file_is_still_caught(preset):
    with open(preset / "model.weights.h5", "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ValueError, match="Checksum mismatch for .*model.weights.h5"):
        ganzoo.models.load(preset)


# -- an edited config.json -------------------------------------------------------------


def _edit_config(preset, **changes):
    config = json.loads((preset / "config.json").read_text())
    config["config"].update(changes)
    for key in ("latent_dim",):
        if key in changes:
            config[key] = changes[key]
    (preset / "config.json").write_text(json.dumps(config, indent=2))
    presets.write_manifest(preset, ["config.json", "model.weights.h5"])


@pytest.mark.parametrize(
    "changes, detail",
    [
        ({"generator_filters": 16},
         "generator weight project/kernel: expected shape (8, 512), stored (8, 256)"),
        ({"latent_dim": 4},
         "generator weight project/kernel: expected shape (4, 256), stored (8, 256)"),
    ],
)
def test_weights_that_do_not_fit_an_edited_config_are_one_line(preset, changes, detail):
    _edit_config(preset, **changes)
    with pytest.raises(ValueError) as error:
        ganzoo.models.load(preset)
    assert str(error.value) == (
        f"{preset / 'model.weights.h5'} does not fit the model described by config.json "
        f"({detail}): was config.json edited?"
    )


def test_an_edited_config_is_reported_by_its_checksum_before_it_is_read(tmp_path):
    import json

    from ganzoo import models

    path = models.DCGAN(image_shape=(16, 16, 1), latent_dim=8, generator_filters=4,
                        discriminator_filters=4).save_to_preset(tmp_path / "p")
    config = json.loads((path / "config.json").read_text())
    # Building from it would fail on the image shape, hiding that the file was edited.
    config["config"]["image_shape"] = [15, 15, 1]
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"Checksum mismatch for .*config\.json"):
        models.DCGAN.from_preset(path)


# -- a damaged preset whose manifest was written again ------------------------------------


def _rewrite_manifest(folder):
    presets.write_manifest(folder, [presets.CONFIG_FILE, presets.WEIGHTS_FILE])


def test_truncated_weights_with_a_regenerated_checksum_are_one_line_naming_the_file(preset):
    weights = preset / presets.WEIGHTS_FILE
    weights.write_bytes(weights.read_bytes()[:1000])
    _rewrite_manifest(preset)
    with pytest.raises(ValueError) as error:
        ganzoo.models.load(preset)
    assert str(error.value) == (
        f"{weights} cannot be read as a weights file (HDF5: truncated file); its checksum "
        "matches sha256.txt, so the manifest was written after the damage: get the preset "
        "again"
    )


@pytest.mark.parametrize("family, also_class", [("cgan", False), ("gan", False),
                                                ("stylegan_lite", True)])
def test_a_preset_whose_family_was_changed_names_the_family(preset, family, also_class):
    config_path = preset / presets.CONFIG_FILE
    config = json.loads(config_path.read_text())
    config["family"] = family
    if also_class:
        config["class_name"] = ganzoo.models.get(family).__name__
    config_path.write_text(json.dumps(config))
    _rewrite_manifest(preset)
    with pytest.raises(ValueError) as error:
        ganzoo.models.load(preset)
    message = str(error.value)
    assert _one_line(error) and message.startswith(str(config_path))
    assert message.endswith("was config.json edited?")
    if also_class:
        assert f"does not describe a {family!r} model (Unrecognized keyword" in message
    else:
        name = ganzoo.models.get(family).__name__
        assert f"says family {family!r} (class {name}) but its options were saved from a " \
               "DCGAN" in message
