"""Reading an export bundle's `ganzoo.json`: standard library only.

Shared by `ganzoo.export` (which writes bundles) and `ganzoo.runtime` (which runs them),
so it must never import NumPy or TensorFlow. docs/export.md describes every field.
"""

import json
import os
import re

METADATA_FILE = "ganzoo.json"
FORMAT_VERSION = 1
FORMATS = ("onnx", "savedmodel", "triton")
# Formats whose model is an ONNX file that ganzoo.runtime runs.
ONNX_FORMATS = ("onnx", "triton")
ROLES = ("latent", "label", "image", "noise", "truncation")
# A Triton repository names its model file in ganzoo.json ("<model_name>/1/model.onnx").
MODEL_FILES = {"onnx": "model.onnx", "savedmodel": "saved_model", "triton": None}

_REQUIRED_FIELDS = ("format_version", "format", "inputs", "outputs")


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
    """Path of the bundle's model file or folder (`model.onnx`, `saved_model/`)."""
    relative = metadata.get("model") or MODEL_FILES[metadata["format"]]
    if not relative:
        raise ValueError(f"{path}: ganzoo.json does not name the model file ('model')")
    return os.path.join(os.fspath(path), *relative.split("/"))


def variant_path(path, metadata, name):
    """Path of the bundle's model variant `name` ("cpu"), or None when it has none."""
    variant = (metadata.get("variants") or {}).get(name)
    if not isinstance(variant, dict) or not isinstance(variant.get("model"), str):
        return None
    return os.path.join(os.fspath(path), *variant["model"].split("/"))


def write_metadata(folder, metadata):
    """Write `ganzoo.json` into `folder` (a folder still being built)."""
    text = json.dumps(metadata, indent=2)
    # Keep short lists of numbers on one line: "shape": [null, 32, 32, 1].
    text = re.sub(
        r"\[\s+([^\[\]{}\"]*?)\s+\]",
        lambda match: "[" + re.sub(r",\s+", ", ", match.group(1)) + "]",
        text,
    )
    with open(os.path.join(folder, METADATA_FILE), "w", encoding="utf-8") as handle:
        handle.write(text + "\n")


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
