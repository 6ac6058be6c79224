"""Reading an export bundle's `ganzoo.json`: standard library only.

Shared by `ganzoo.export` (which writes bundles) and `ganzoo.runtime` (which runs them),
so it must never import NumPy or TensorFlow. docs/export.md describes every field.
"""

import hashlib
import json
import os
import re
import warnings

METADATA_FILE = "ganzoo.json"
FORMAT_VERSION = 1
FORMATS = ("onnx", "savedmodel", "triton")
# Formats whose model is an ONNX file that ganzoo.runtime runs.
ONNX_FORMATS = ("onnx", "triton")
ROLES = ("latent", "label", "image", "noise", "truncation")
# A Triton repository names its model file in ganzoo.json ("<model_name>/1/model.onnx").
MODEL_FILES = {"onnx": "model.onnx", "savedmodel": "saved_model", "triton": None}

_REQUIRED_FIELDS = ("format_version", "format", "inputs", "outputs")
# `ganzoo.json` lists every other file of the bundle under this field with its sha256 and
# size; `verify_files` checks them.
FILES_FIELD = "files"
_CHUNK = 1 << 20
# Prefix of the keys under which an ONNX file's `metadata_props` repeat the fields of
# `ganzoo.json` that describe the generator (`ganzoo.export.bundle.describe`).
ONNX_METADATA_PREFIX = "ganzoo."


def is_bundle(path):
    """True when `path` is a folder holding a `ganzoo.json`."""
    path = os.fspath(path)
    return os.path.isdir(path) and os.path.isfile(os.path.join(path, METADATA_FILE))


def read_bundle(path):
    """Read and check a bundle's `ganzoo.json`; returns the metadata dict.

    Args:
        path: str or path-like. The bundle folder (or its `ganzoo.json`).

    Raises:
        ValueError: `path` is not a ganzoo bundle, its metadata is malformed, or it was
            written by a newer ganzoo.
    """
    path = os.fspath(path)
    if os.path.basename(path) == METADATA_FILE and os.path.isfile(path):
        path = os.path.dirname(path) or "."
    metadata_path = os.path.join(path, METADATA_FILE)
    if not os.path.isdir(path):
        raise ValueError(f"{path} is not a ganzoo bundle: no such folder")
    if not os.path.isfile(metadata_path):
        raise ValueError(f"{path} is not a ganzoo bundle: it has no {METADATA_FILE}")
    try:
        with open(metadata_path, encoding="utf-8") as handle:
            metadata = json.load(handle)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"Cannot read {metadata_path}: {error}") from None
    _check_metadata(metadata, metadata_path)
    return metadata


def model_path(path, metadata):
    """Path of the bundle's model file or folder (`model.onnx`, `saved_model/`).

    Raises:
        ValueError: ganzoo.json names no model, or a path that leaves the bundle.
    """
    relative = metadata.get("model") or MODEL_FILES[metadata["format"]]
    if not relative:
        raise ValueError(f"{path}: ganzoo.json does not name the model file ('model')")
    return inside(path, relative, "model")


def variant_path(path, metadata, name):
    """Path of the bundle's model variant `name` ("cpu"), or None when it has none."""
    variant = (metadata.get("variants") or {}).get(name)
    if not isinstance(variant, dict) or not isinstance(variant.get("model"), str):
        return None
    return inside(path, variant["model"], f"variants.{name}.model")


def inside(path, relative, field):
    """`path/relative`, refusing a `relative` that leaves the bundle folder `path`.

    `relative` is a "/"-separated path as ganzoo.json stores it. Absolute paths, `..`
    parts and symbolic links that lead out of the folder are refused, so a bundle can
    only make ganzoo open its own files.

    Raises:
        ValueError: one line naming the field of ganzoo.json and the path.
    """
    root = os.fspath(path)
    refused = (
        f"{root}: ganzoo.json field {field} must name a file inside the bundle. "
        f"Received: {field}={relative!r}"
    )
    if not isinstance(relative, str) or not relative or "\\" in relative or "\0" in relative:
        raise ValueError(refused)
    parts = relative.split("/")
    if relative.startswith("/") or os.path.isabs(relative) or ".." in parts:
        raise ValueError(refused)
    joined = os.path.join(root, *parts)
    real_root = os.path.realpath(root)
    real = os.path.realpath(joined)
    if os.path.commonpath([real_root, real]) != real_root:
        raise ValueError(
            f"{root}: {relative} (ganzoo.json field {field}) is a link that leads out of the "
            f"bundle, to {real}; refusing to open it"
        )
    return joined


def file_digest(path):
    """`{"sha256": hex digest, "size": bytes}` of the file at `path`."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
    return {"sha256": digest.hexdigest(), "size": size}


def list_files(folder, relative_paths=None):
    """The `files` field for the bundle being written in `folder`.

    Args:
        folder: str. The (staged) bundle folder.
        relative_paths: iterable of "/"-separated paths, or None for every file under
            `folder` except `ganzoo.json`.

    Returns:
        `{relative path: {"sha256": ..., "size": ...}}`, sorted by path.
    """
    folder = os.fspath(folder)
    if relative_paths is None:
        relative_paths = []
        for root, dirs, names in os.walk(folder):
            dirs.sort()
            for name in names:
                relative = os.path.relpath(os.path.join(root, name), folder)
                relative = relative.replace(os.sep, "/")
                if relative != METADATA_FILE:
                    relative_paths.append(relative)
    return {
        relative: file_digest(os.path.join(folder, *relative.split("/")))
        for relative in sorted(relative_paths)
    }


def verify_files(path, metadata):
    """Check every file ganzoo.json lists against its sha256 and size; None if all match.

    A bundle without the `files` field (written by an older ganzoo) cannot be checked: it
    loads with a `RuntimeWarning` that says to re-export it. The model, its variants and
    the card must be among the listed files.

    Raises:
        ValueError: one line naming the first file that is missing, of the wrong size,
            different from its checksum, or outside the bundle.
    """
    root = os.fspath(path)
    files = metadata.get(FILES_FIELD)
    if files is None:
        warnings.warn(
            f"{root} has no checksums in ganzoo.json (it was exported by an older ganzoo), "
            "so its files cannot be verified; re-export it to add them",
            RuntimeWarning,
            stacklevel=3,
        )
        return
    if not isinstance(files, dict) or not all(
        isinstance(entry, dict) and isinstance(entry.get("sha256"), str)
        and isinstance(entry.get("size"), int) for entry in files.values()
    ):
        raise ValueError(
            f"{root}: ganzoo.json field {FILES_FIELD} must map each file to its sha256 and "
            "size; re-export the bundle"
        )
    named = [("model", metadata.get("model") or MODEL_FILES[metadata["format"]])]
    for name, variant in (metadata.get("variants") or {}).items():
        if isinstance(variant, dict):
            named.append((f"variants.{name}.model", variant.get("model")))
    named.append(("card", metadata.get("card")))
    for field, relative in named:
        if not isinstance(relative, str):
            continue
        inside(root, relative, field)
        if relative not in files and not any(key.startswith(relative + "/") for key in files):
            raise ValueError(
                f"{root}: ganzoo.json lists no checksum for {relative} (field {field}); "
                "re-export the bundle"
            )
    # The model first: a damaged model.onnx is named before any other file.
    for relative in sorted(files, key=lambda key: (key != named[0][1], key)):
        expected = files[relative]
        file_path = inside(root, relative, f"{FILES_FIELD}[{relative!r}]")
        if not os.path.isfile(file_path):
            raise ValueError(
                f"{file_path} is missing; the bundle is incomplete (ganzoo.json lists it). "
                "Copy the whole bundle folder again or re-export it"
            )
        size = os.path.getsize(file_path)
        if size < expected["size"]:
            raise ValueError(
                f"{file_path} is truncated: {size} bytes, ganzoo.json lists "
                f"{expected['size']}. Copy the bundle again or re-export it"
            )
        if size != expected["size"] or file_digest(file_path)["sha256"] != expected["sha256"]:
            raise ValueError(
                f"{file_path} does not match its sha256 in ganzoo.json: it was changed or "
                "damaged after export. Copy the bundle again or re-export it"
            )


def check_stored_twice(path, metadata, model_metadata, model_file):
    """Refuse a `ganzoo.json` that disagrees with the metadata inside its model file.

    Export writes the generator's description (family, preset, generator, inputs with
    their names, shapes, dtypes, roles and ranges, outputs with their ranges and layout,
    latent_dim, num_classes, image_shape ...) both into `ganzoo.json` and into the ONNX
    file's `metadata_props` (`ganzoo.<field>`). The checksums cover the model file but
    cannot cover `ganzoo.json`, so an edit there (a range changed from [-1, 1] to [0, 1])
    would pass them and shift every pixel: each field the model file records must have
    the same value in `ganzoo.json`. Fields the model file does not record (a file
    written by an older ganzoo) are not checked.

    Args:
        path: str. The bundle folder, for the message.
        metadata: dict. The bundle's `ganzoo.json`.
        model_metadata: dict of str to str. The model file's `metadata_props`.
        model_file: str. The model file, relative to the bundle, for the message.

    Raises:
        ValueError: one line naming the first field that differs, both values, and that
            the bundle was edited after export.
    """
    for key in sorted(model_metadata):
        if not key.startswith(ONNX_METADATA_PREFIX):
            continue
        field = key[len(ONNX_METADATA_PREFIX):]
        recorded = _stored_value(model_metadata[key], metadata.get(field))
        difference = _first_difference(field, metadata.get(field), recorded)
        if difference is not None:
            where, in_json, in_model = difference
            raise ValueError(
                f"{os.fspath(path)}: ganzoo.json says {where}={json.dumps(in_json)} but "
                f"{model_file} records {where}={json.dumps(in_model)}: the bundle was edited "
                "after export. Re-export it, or copy it again from where it was exported"
            )


def _stored_value(text, in_json):
    """The value `stamp_metadata` stored as `text`: a string as it is, else JSON."""
    if isinstance(in_json, str) and text == in_json:
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _first_difference(where, in_json, in_model):
    """`(field path, value in ganzoo.json, value in the model)` where they first differ.

    Lists of entries (inputs, outputs) are compared entry by entry and key by key, so the
    path names the fact (`outputs[0].range`); anything else is compared whole. None when
    they agree.
    """
    if isinstance(in_json, dict) and isinstance(in_model, dict):
        for key in sorted(set(in_json) | set(in_model)):
            found = _first_difference(f"{where}.{key}", in_json.get(key), in_model.get(key))
            if found is not None:
                return found
        return None
    if (isinstance(in_json, list) and isinstance(in_model, list)
            and len(in_json) == len(in_model)
            and any(isinstance(entry, dict) for entry in in_json + in_model)):
        for index, (left, right) in enumerate(zip(in_json, in_model)):
            found = _first_difference(f"{where}[{index}]", left, right)
            if found is not None:
                return found
        return None
    return None if in_json == in_model else (where, in_json, in_model)


def metadata_text(metadata):
    """The text of `ganzoo.json` for `metadata` (short lists of numbers on one line)."""
    text = json.dumps(metadata, indent=2)
    # Keep short lists of numbers on one line: "shape": [null, 32, 32, 1].
    text = re.sub(
        r"\[\s+([^\[\]{}\"]*?)\s+\]",
        lambda match: "[" + re.sub(r",\s+", ", ", match.group(1)) + "]",
        text,
    )
    return text + "\n"


def write_metadata(folder, metadata):
    """Write `ganzoo.json` into `folder` (a folder still being built)."""
    with open(os.path.join(folder, METADATA_FILE), "w", encoding="utf-8") as handle:
        handle.write(metadata_text(metadata))


def _check_metadata(metadata, metadata_path):
    if not isinstance(metadata, dict):
        raise ValueError(f"{metadata_path} is not a ganzoo bundle: expected a JSON object")
    missing = [field for field in _REQUIRED_FIELDS if field not in metadata]
    if missing:
        raise ValueError(
            f"{metadata_path} is not a ganzoo bundle: missing field(s) {', '.join(missing)}"
        )
    version = metadata["format_version"]
    if not isinstance(version, int) or version < 1:
        raise ValueError(
            f"{metadata_path}: format_version must be a positive integer. "
            f"Received: format_version={version!r}"
        )
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{metadata_path} has bundle format_version {version}, newer than this ganzoo "
            f"reads ({FORMAT_VERSION}); upgrade ganzoo"
        )
    if metadata["format"] not in FORMATS:
        raise ValueError(
            f"{metadata_path}: unknown bundle format {metadata['format']!r}; "
            f"expected one of {', '.join(FORMATS)}"
        )
    for kind in ("inputs", "outputs"):
        entries = metadata[kind]
        if not isinstance(entries, list) or not entries:
            raise ValueError(f"{metadata_path}: {kind} must be a non-empty list")
        for entry in entries:
            if not isinstance(entry, dict) or not {"name", "shape", "dtype"} <= set(entry):
                raise ValueError(
                    f"{metadata_path}: each of {kind} needs name, shape and dtype. "
                    f"Received: {entry!r}"
                )
    for entry in metadata["inputs"]:
        if entry.get("role") not in ROLES:
            raise ValueError(
                f"{metadata_path}: input {entry['name']!r} has unknown role "
                f"{entry.get('role')!r}; expected one of {', '.join(ROLES)}"
            )
