"""Preset folders: save, find, verify and read trained ganzoo models.

A preset is a folder holding

- `config.json`: format version, family, the constructor arguments (`config`), image
  shape, latent size, class names, data range and free-form training metadata;
- `model.weights.h5`: the generator's and discriminator's weights (no optimizer state);
- `card.md`: what it was trained on, how, and what it measured;
- `sha256.txt`: `sha256sum`-style manifest of the files above.

Weights are verified against the manifest before loading. Loading (`ganzoo.models.load`,
`Family.from_preset`, which build on this module) never unpickles: the model is rebuilt
from the registered family class and its JSON arguments, and `load_weights` reads the
weights from HDF5 through Keras.

Presets are found by name in the folders of the `GANZOO_PRESETS` environment variable
(separated by `os.pathsep`) and then among the presets shipped with ganzoo (`SHIPPED_DIR`);
`ganzoo.sources` knows what a preset folder holds and where names are looked up, and this
module exports the same names.
"""

import datetime
import hashlib
import io
import json
import ntpath
import os
import re
import warnings
from pathlib import Path

from ganzoo import _atomic, _finite, sources
from ganzoo._finite import check_finite
from ganzoo._version import __version__
from ganzoo.sources import (CONFIG_FILE, RUN_PRESET_DIR, SHIPPED_DIR, WEIGHTS_FILE,  # noqa: F401
                            is_preset, list_presets, search_path)

PRESET_FORMAT_VERSION = 1
CARD_FILE = "card.md"
MANIFEST_FILE = "sha256.txt"
# The sample grid that recipes put beside the card (`card.md` shows it).
SAMPLES_FILE = "samples.png"
# What ganzoo writes in a preset folder, beside the files its manifest lists.
PRESET_FILES = (CONFIG_FILE, WEIGHTS_FILE, CARD_FILE, MANIFEST_FILE, SAMPLES_FILE)
PRESET = "ganzoo preset"
# A manifest lists a handful of files; anything this large is not one.
MAX_MANIFEST_BYTES = 1 << 20
_DIGEST = re.compile(r"^[0-9a-fA-F]{64}$")


def owned_files(path):
    """A test of the "/"-separated paths in preset folder `path`: True for ganzoo's files.

    Those are `PRESET_FILES` and whatever its `sha256.txt` lists; `save_to_preset(...,
    overwrite=True)` refuses a preset that holds anything else (`_atomic.check_replaceable`).
    """
    try:
        listed = set(read_manifest(path))
    except (OSError, ValueError):
        listed = set()
    return lambda relative: relative in PRESET_FILES or relative in listed


def resolve(name_or_path):
    """The preset folder for a preset name, a preset folder or a finished run folder.

    `ganzoo.sources.resolve` decides what `name_or_path` is (or takes the `Source` it
    already decided); an export bundle, a run that has not finished or anything else is
    one ValueError.
    """
    if isinstance(name_or_path, sources.Source):
        name_or_path.require(sources.MODEL_KINDS)
        return name_or_path.preset_path
    return sources.resolve(name_or_path, accept=sources.MODEL_KINDS).preset_path


def read_config(name_or_path):
    path = resolve(name_or_path)
    try:
        with open(path / CONFIG_FILE, encoding="utf-8") as handle:
            config = json.load(handle)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path / CONFIG_FILE} is not valid JSON: {error}") from None
    for key in ("family", "config"):
        if key not in config:
            raise ValueError(f"{path / CONFIG_FILE} has no {key!r} entry")
    version = config.get("format_version", PRESET_FORMAT_VERSION)
    if version > PRESET_FORMAT_VERSION:
        raise ValueError(
            f"{path} has preset format {version}; this ganzoo reads up to "
            f"{PRESET_FORMAT_VERSION}: upgrade ganzoo"
        )
    return config


def sha256_of(path, chunk_size=1 << 20):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(folder, files):
    lines = [f"{sha256_of(Path(folder) / name)}  {name}\n" for name in files]
    path = Path(folder) / MANIFEST_FILE
    with _atomic.writing(path):
        path.write_text("".join(lines), encoding="utf-8")


def read_manifest(folder):
    """The entries of `folder`'s sha256.txt as `{relative name: digest}`, every name checked.

    Nothing listed is opened: each name must be a relative path inside `folder` (no
    absolute path, drive, backslash or `..`, and not a link leading out), listed once, on
    a `<64 hex digits>  <name>` line. Raises ValueError naming the first bad line.
    """
    folder = Path(folder)
    manifest = folder / MANIFEST_FILE
    if not manifest.is_file():
        raise ValueError(f"{folder} has no {MANIFEST_FILE}: cannot verify its weights")
    if manifest.stat().st_size > MAX_MANIFEST_BYTES:
        raise ValueError(
            f"{manifest} is {manifest.stat().st_size} bytes: not a manifest (expected a few "
            "'<sha256>  <file name>' lines)"
        )
    try:
        text = manifest.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{manifest} is not UTF-8 text: not a manifest") from None
    root = folder.resolve()
    listed = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{manifest} line {number}"
        digest, separator, name = line.partition("  ")
        if not separator or not _DIGEST.match(digest) or not name:
            raise ValueError(
                f"{where} is malformed: expected '<64 hex digits>  <file name>'. "
                f"Received: {_shorten(line)}"
            )
        problem = _unsafe_name(name, root)
        if problem:
            raise ValueError(
                f"{where} names {_shorten(name)}, {problem}: a manifest may only list files "
                "inside its folder, by relative name"
            )
        if name in listed:
            raise ValueError(f"{where} lists {_shorten(name)} a second time")
        listed[name] = digest.lower()
    return listed


def _unsafe_name(name, root):
    """Why `name` is not a plain relative name of a file under `root`, or None."""
    if "\\" in name:
        return "which has a backslash"
    if any(ord(char) < 32 for char in name):
        return "which has a control character"
    if name.startswith("/") or os.path.isabs(name):
        return "an absolute path"
    if ntpath.splitdrive(name)[0]:
        return "which has a drive letter"
    if ".." in name.split("/"):
        return "which climbs out with '..'"
    try:
        resolved = (root / name).resolve()
    except (OSError, RuntimeError):  # a symbolic-link loop
        return "which cannot be resolved (a link loop)"
    if resolved == root or root not in resolved.parents:
        return "which leads outside the folder"
    return None


def _shorten(text, limit=80):
    text = repr(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def verify_manifest(folder, required):
    """Check every file of `folder`'s sha256.txt; raise ValueError naming the first problem.

    Every line is checked (`read_manifest`) before any listed file is opened.

    Args:
        folder: path of a folder with a `sha256.txt` manifest.
        required: file names the manifest must list.
    """
    folder = Path(folder)
    manifest = folder / MANIFEST_FILE
    listed = read_manifest(folder)
    for name in required:
        if name not in listed:
            raise ValueError(f"{manifest} does not list {name}")
    for name, digest in listed.items():
        path = folder / name
        if not path.exists():
            raise ValueError(f"{path} is listed in {MANIFEST_FILE} but missing")
        if not path.is_file():
            raise ValueError(f"{path} is listed in {MANIFEST_FILE} but is not a regular file")
        if sha256_of(path) != digest:
            raise ValueError(
                f"Checksum mismatch for {path}: the file differs from {MANIFEST_FILE}"
            )
    return folder


def verify(name_or_path):
    """Check a preset's files against its manifest; returns the preset folder."""
    return verify_manifest(resolve(name_or_path), required=(CONFIG_FILE, WEIGHTS_FILE))


def _lean_copy(model):
    """A fresh, uncompiled twin holding the same network weights and training state
    (`training_state`: step counts, running means), without optimizer state."""
    twin = type(model).from_config(model.get_config())
    twins = twin.saved_networks()
    for name, network in model.saved_networks().items():
        twins[name].set_weights(network.get_weights())
    twin_state = twin.training_state()
    for name, variable in model.training_state().items():
        if name in twin_state:
            twin_state[name].assign(variable.value)
    return twin


def default_card(config):
    training = config.get("training") or {}
    lines = [
        f"# {config.get('preset') or config['family']}",
        "",
        f"Family: `{config['family']}`. Image shape: {tuple(config['image_shape'])}. "
        f"Latent size: {config['latent_dim']}.",
        "",
        "## Training",
        "",
    ]
    if training:
        lines += [f"- {key}: {value}" for key, value in sorted(training.items())]
    else:
        lines.append("Not recorded.")
    lines += ["", "## Measured", "", "Nothing measured yet.", ""]
    return "\n".join(lines)


def save_to_preset(model, preset_dir, overwrite=False, card=None, preset_name=None,
                   **training):
    """Write `model` as a preset folder, atomically; returns its path.

    Args:
        model: a ganzoo family model.
        preset_dir: path of the folder to create.
        overwrite: bool. Replace an existing preset folder (or an empty folder); any
            other folder or file, and a preset holding files ganzoo did not write (notes,
            pictures added by hand), is refused. The old preset stays untouched until the
            new one is complete. Defaults to False.
        card: str or None. Markdown of `card.md`; a summary is written when None.
        preset_name: str or None. Name recorded in config.json; the folder's by default.
        **training: JSON-serialisable facts recorded in config.json under "training"
            (data, steps, batch size, ...).

    Raises:
        FileExistsError: `preset_dir` exists and `overwrite` is False, or it is not a
            preset (`ganzoo._atomic.NotReplaceableError`, also a ValueError).
        ValueError: a weight is NaN or Inf (the model diverged).
        OSError: a write failed (one line naming the file and the reason); nothing is
            left behind.
    """
    import keras

    preset_dir = Path(os.fspath(preset_dir)).expanduser()
    _atomic.check_replaceable(preset_dir, is_preset, PRESET, overwrite=overwrite,
                              owns=owned_files)
    check_finite(model)
    config = {
        "format_version": PRESET_FORMAT_VERSION,
        "family": model.family,
        "class_name": type(model).__name__,
        "preset": preset_name or preset_dir.name,
        "config": model.get_config(),
        "image_shape": list(model.image_shape),
        "latent_dim": model.latent_dim,
        "num_classes": model.num_classes,
        "class_names": getattr(model, "class_names", None),
        "data_range": [-1.0, 1.0],
        "ganzoo_version": __version__,
        "keras_version": keras.__version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "training": training,
    }
    with _atomic.staged_folder(
        preset_dir, overwrite=overwrite, is_ours=is_preset, what=PRESET, owns=owned_files
    ) as staging:
        staging = Path(staging)
        save_weights(_lean_copy(model), staging / WEIGHTS_FILE)
        with _atomic.writing(staging / CONFIG_FILE):
            with open(staging / CONFIG_FILE, "w", encoding="utf-8") as handle:
                json.dump(config, handle, indent=2)
                handle.write("\n")
        with _atomic.writing(staging / CARD_FILE):
            (staging / CARD_FILE).write_text(card or default_card(config), encoding="utf-8")
        write_manifest(staging, [CONFIG_FILE, WEIGHTS_FILE])
    return preset_dir


class _WeightsBuffer(io.BytesIO):
    """An in-memory file that Keras' `save_weights` takes for a `.weights.h5` path."""

    def __str__(self):
        return WEIGHTS_FILE


def save_weights(model, path):
    """Write `model.save_weights` to `path` through memory; a failed write is one line.

    HDF5 writing straight to a disk that fills up crashes the process (a segmentation
    fault, seen with h5py here). Keras builds the HDF5 image in memory instead, and plain
    Python I/O writes it, failing with `OSError` ("No space left on device") like any other
    write.
    """
    buffer = _WeightsBuffer()
    model.save_weights(buffer)
    with _atomic.writing(path):
        with open(path, "wb") as handle:
            handle.write(buffer.getbuffer())


def load_weights(model, weights_path):
    """`model.load_weights`, with a weights file that does not fit said in one line.

    Keras' own message ("A total of N objects could not be loaded ...") neither names the
    file nor the variable that does not fit; `weights_mismatch` finds the first one.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.load_weights(str(weights_path))
        except OSError as error:  # h5py: not HDF5, truncated, unreadable
            raise ValueError(
                f"{weights_path} cannot be read as a weights file (HDF5: "
                f"{_hdf5_reason(error)}); its checksum matches sha256.txt, so the manifest "
                "was written after the damage: get the preset again"
            ) from None
        except ValueError as error:
            detail = weights_mismatch(model, weights_path) or f"Keras: {first_line(error)}"
            raise ValueError(
                f"{weights_path} does not fit the model described by {CONFIG_FILE} "
                f"({detail}): was {CONFIG_FILE} edited?"
            ) from None
    for warning in caught:
        warnings.warn_explicit(warning.message, warning.category, warning.filename,
                               warning.lineno)


def weights_mismatch(model, weights_path):
    """The first difference between `model`'s weight layout and a `.weights.h5` file, or None.

    Both files are laid out by Keras, so `model` is saved (to memory) and the datasets of
    the two HDF5 files are compared by path and shape, in the order of the model's layers.
    """
    import h5py

    buffer = _WeightsBuffer()
    model.save_weights(buffer)
    buffer.seek(0)
    try:
        with h5py.File(buffer, "r") as expected_file, \
                h5py.File(weights_path, "r") as stored_file:
            expected = _weight_shapes(model, expected_file)
            stored = _weight_shapes(model, stored_file)
    except (OSError, KeyError, ValueError):  # not an HDF5 file Keras wrote
        return None
    for key, (label, shape) in expected.items():
        if key not in stored:
            return f"{label}: expected shape {shape}, not in the file"
        if stored[key][1] != shape:
            return f"{label}: expected shape {shape}, stored {stored[key][1]}"
    for key, (label, shape) in stored.items():
        if key not in expected:
            return f"{label}: stored with shape {shape}, not in the model"
    return None


def _weight_shapes(model, h5_file):
    """`{dataset path: (readable label, shape)}` of a Keras weights file, in layer order.

    Keras stores variable k of a layer as `<network>/layers/<class name>/vars/<k>`, with
    the layer's own name in an attribute; the label names the variable as the model does
    (`generator weight project/kernel`) where the model has that layer.
    """
    entries = []

    def visit(key, item):
        if hasattr(item, "shape"):
            entries.append((key, tuple(item.shape)))

    h5_file.visititems(visit)
    rank = {name: number for number, (name, _) in enumerate(_finite.networks_of(model))}
    shapes = {}
    for key, shape in entries:
        parts = key.split("/")
        network, layer, variable = parts[0], None, None
        position = (rank.get(network, len(rank)), float("inf"), key)
        if len(parts) >= 3 and parts[-2] == "vars" and parts[-1].isdigit():
            layer_name = h5_file["/".join(parts[:-1])].attrs.get("name") or parts[-3]
            layer, index = _find_layer(model, network, layer_name)
            if layer is not None:
                weights = layer.weights
                if int(parts[-1]) < len(weights):
                    variable = weights[int(parts[-1])]
                position = (rank.get(network, len(rank)), index, key)
            label = f"{network}/{layer_name} variable {parts[-1]}"
        else:
            label = key
        if variable is not None:
            label = f"{network} weight {variable.path}"
        shapes[key] = (position, label, shape)
    ordered = sorted(shapes.items(), key=lambda item: item[1][0])
    return {key: (label, shape) for key, (_, label, shape) in ordered}


def _find_layer(model, network_name, layer_name):
    """`(layer, position in its network)` or `(None, None)`."""
    network = getattr(model, network_name, None)
    for index, layer in enumerate(getattr(network, "layers", None) or []):
        if layer.name == layer_name:
            return layer, index
    return None, None


def _hdf5_reason(error):
    """The reason inside h5py's "Unable to synchronously open file (REASON)" text."""
    text = first_line(error)
    inner = re.search(r"\(([^()]*)", text)
    return inner.group(1).split(",")[0].split(":")[0].strip() if inner else text


def first_line(error):
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
