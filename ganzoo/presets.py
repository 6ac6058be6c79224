"""Preset folders: save, find, verify and load trained ganzoo models.

A preset is a folder holding

- `config.json`: format version, family, the constructor arguments (`config`), image
  shape, latent size, class names, data range and free-form training metadata;
- `model.weights.h5`: the generator's and discriminator's weights (no optimizer state);
- `card.md`: what it was trained on, how, and what it measured;
- `sha256.txt`: `sha256sum`-style manifest of the files above.

Weights are verified against the manifest before loading. Loading never unpickles: the
model is rebuilt from the registered family class and its JSON arguments, and weights are
read from HDF5 by Keras.

Presets are found by name in the folders of the `GANZOO_PRESETS` environment variable
(separated by `os.pathsep`) and then in the project's `pretrained/` folder.
"""

import datetime
import hashlib
import json
import os
from pathlib import Path

from ganzoo import _atomic

PRESET_FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
CARD_FILE = "card.md"
MANIFEST_FILE = "sha256.txt"
RUN_PRESET_DIR = "preset"


def search_path():
    """Folders searched for preset names, in order."""
    folders = [Path(p) for p in os.environ.get("GANZOO_PRESETS", "").split(os.pathsep) if p]
    folders.append(Path(__file__).resolve().parent.parent / "pretrained")
    return folders


def is_preset(path):
    path = Path(path)
    return (path / CONFIG_FILE).is_file() and (path / WEIGHTS_FILE).is_file()


def list_presets():
    """Names of the presets found on the search path (first one of a name wins)."""
    names = []
    for folder in search_path():
        if not folder.is_dir():
            continue
        for child in sorted(folder.iterdir()):
            if is_preset(child) and child.name not in names:
                names.append(child.name)
    return names


def resolve(name_or_path):
    """The preset folder for a preset name, a preset folder or a run folder."""
    path = Path(os.fspath(name_or_path)).expanduser()
    if is_preset(path):
        return path
    if is_preset(path / RUN_PRESET_DIR):
        return path / RUN_PRESET_DIR
    if path.exists():
        raise ValueError(
            f"{name_or_path} is not a preset: expected a folder with {CONFIG_FILE} and "
            f"{WEIGHTS_FILE} (or a run folder with {RUN_PRESET_DIR}/)"
        )
    if os.sep not in str(name_or_path):
        for folder in search_path():
            if is_preset(folder / str(name_or_path)):
                return folder / str(name_or_path)
    known = ", ".join(list_presets()) or "none installed"
    raise ValueError(
        f"Unknown preset {name_or_path!r}: not a folder, and not a preset name ({known})"
    )


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
    (Path(folder) / MANIFEST_FILE).write_text("".join(lines), encoding="utf-8")


def verify_manifest(folder, required):
    """Check every file of `folder`'s sha256.txt; raise ValueError naming the first problem.

    Args:
        folder: path of a folder with a `sha256.txt` manifest.
        required: file names the manifest must list.
    """
    folder = Path(folder)
    manifest = folder / MANIFEST_FILE
    if not manifest.is_file():
        raise ValueError(f"{folder} has no {MANIFEST_FILE}: cannot verify its weights")
    listed = {}
    for line in manifest.read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, _, name = line.strip().partition("  ")
            listed[name] = digest
    for name in required:
        if name not in listed:
            raise ValueError(f"{manifest} does not list {name}")
    for name, digest in listed.items():
        if not (folder / name).is_file():
            raise ValueError(f"{folder / name} is listed in {MANIFEST_FILE} but missing")
        if sha256_of(folder / name) != digest:
            raise ValueError(
                f"Checksum mismatch for {folder / name}: the file differs from {MANIFEST_FILE}"
            )
    return folder


def verify(name_or_path):
    """Check a preset's files against its manifest; returns the preset folder."""
    return verify_manifest(resolve(name_or_path), required=(CONFIG_FILE, WEIGHTS_FILE))


def _lean_copy(model):
    """A fresh, uncompiled twin holding the same network weights (no optimizer state)."""
    twin = type(model).from_config(model.get_config())
    twin.generator.set_weights(model.generator.get_weights())
    twin.discriminator.set_weights(model.discriminator.get_weights())
    for name in model.extra_networks:
        getattr(twin, name).set_weights(getattr(model, name).get_weights())
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
        overwrite: bool. Replace an existing folder. Defaults to False.
        card: str or None. Markdown of `card.md`; a summary is written when None.
        preset_name: str or None. Name recorded in config.json; the folder's by default.
        **training: JSON-serialisable facts recorded in config.json under "training"
            (data, steps, batch size, ...).
    """
    import keras

    from ganzoo import __version__

    preset_dir = Path(os.fspath(preset_dir)).expanduser()
    if preset_dir.exists() and not overwrite:
        raise FileExistsError(
            f"{preset_dir} already exists; pass overwrite=True (--overwrite) to replace it"
        )
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
    with _atomic.staged_folder(preset_dir) as staging:
        staging = Path(staging)
        _lean_copy(model).save_weights(str(staging / WEIGHTS_FILE))
        with open(staging / CONFIG_FILE, "w", encoding="utf-8") as handle:
            json.dump(config, handle, indent=2)
            handle.write("\n")
        (staging / CARD_FILE).write_text(card or default_card(config), encoding="utf-8")
        write_manifest(staging, [CONFIG_FILE, WEIGHTS_FILE])
    return preset_dir


def load_model(name_or_path, load_weights=True, expected_class=None):
    """Rebuild a family from a preset (weights verified, then loaded)."""
    from ganzoo import models

    path = resolve(name_or_path)
    config = read_config(path)
    family_class = models.get(config["family"])
    if expected_class is not None and not issubclass(family_class, expected_class):
        raise ValueError(
            f"Preset {path} is a {config['family']!r} model, not a {expected_class.__name__}"
        )
    model = family_class.from_config(config["config"])
    if load_weights:
        verify(path)
        model.load_weights(str(path / WEIGHTS_FILE))
    model.preset_name = config.get("preset") or path.name
    if config.get("class_names") is not None:
        model.class_names = config["class_names"]
    return model


def load_generator(name_or_path):
    """The preset's generator: a plain Keras model, weights verified and loaded."""
    return load_model(name_or_path).generator
