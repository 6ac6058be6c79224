"""Writing a bundle folder: metadata, the parity bar, and the atomic move into place."""

import contextlib
import datetime
import os
import shutil

import numpy as np

from ganzoo import _atomic, _bundle
from ganzoo._version import __version__

# Largest max-abs difference against Keras that an export accepts.
TOLERANCE_FP32 = 1e-4
TOLERANCE_FP16 = 1e-2
# What `check_target` calls a folder that overwrite may replace, in messages.
BUNDLE = "ganzoo bundle"
# The source preset's card, copied into the bundle.
CARD_FILE = "card.md"
# A Triton model's configuration (ganzoo.export.triton writes it beside the versions).
TRITON_CONFIG_FILE = "config.pbtxt"


def check_target(out_dir, overwrite):
    """Refuse to write where something exists, unless it may be replaced; returns the path.

    With `overwrite=True` only a ganzoo bundle (a folder with `ganzoo.json`: ONNX,
    SavedModel and Triton repositories all have one) or an empty folder is replaced, so a
    mistyped `--out` cannot wipe an unrelated folder (`_atomic.check_replaceable`), and
    only when it holds nothing but what ganzoo wrote (`owned_files`).
    """
    return _atomic.check_replaceable(out_dir, _bundle.is_bundle, BUNDLE, overwrite=overwrite,
                                     owns=owned_files)


def _listed_files(folder):
    """The paths the `ganzoo.json` of `folder` lists, or none when it cannot be read."""
    try:
        return set(_bundle.read_bundle(folder).get(_bundle.FILES_FIELD) or {})
    except ValueError:
        return set()


def owned_files(path):
    """A test of the "/"-separated paths in bundle `path`: True for the files ganzoo wrote.

    Those are `ganzoo.json` and the files it lists; in a Triton repository also each
    model's `config.pbtxt` and, in each version folder, that version's `ganzoo.json` and
    the files it lists. Anything else (notes, a sub-folder added by hand) is the user's,
    and `--overwrite` refuses to replace a bundle holding it.
    """
    path = os.fspath(path)
    listed = _listed_files(path)
    versions = {}

    def owns(relative):
        if relative == _bundle.METADATA_FILE or relative in listed:
            return True
        parts = relative.split("/")
        if len(parts) == 2 and parts[1] == TRITON_CONFIG_FILE:
            return os.path.isdir(os.path.join(path, parts[0]))
        if len(parts) < 3 or not parts[1].isdigit():
            return False
        version = os.path.join(path, parts[0], parts[1])
        if version not in versions:
            versions[version] = _listed_files(version) | {_bundle.METADATA_FILE}
        return "/".join(parts[2:]) in versions[version]

    return owns


@contextlib.contextmanager
def staged_folder(out_dir, overwrite=False):
    """Yield a temporary folder beside `out_dir`; move it into place if the block succeeds.

    Refuses an existing `out_dir` unless it may be replaced (`check_target`); see
    `ganzoo._atomic.staged_folder` for the guarantees. Before the move, every file that
    the staged `ganzoo.json` names must exist.
    """
    with _atomic.staged_folder(
        out_dir, overwrite=overwrite, is_ours=_bundle.is_bundle, what=BUNDLE, owns=owned_files
    ) as staging:
        yield staging
        check_named_files(staging)


def write_metadata(folder, metadata, files=None):
    """Write `ganzoo.json` into the staged `folder`; a failed write names the file.

    Lists the bundle's files with their sha256 and size first (`metadata["files"]`, set
    in place so that the exporter returns it too): every file under `folder`, or the
    "/"-separated paths `files`. Write it last, once every other file is written.
    """
    metadata[_bundle.FILES_FIELD] = _bundle.list_files(folder, files)
    with _atomic.writing(os.path.join(folder, _bundle.METADATA_FILE)):
        _bundle.write_metadata(folder, metadata)


def check_named_files(folder):
    """Raise RuntimeError if the staged bundle's `ganzoo.json` names a file it lacks."""
    metadata = _bundle.read_bundle(folder)
    named = [_bundle.model_path(folder, metadata)]
    for variant in metadata.get("variants") or {}:
        named.append(_bundle.variant_path(folder, metadata, variant))
    for name, part in (metadata.get("parts") or {}).items():
        named.append(_bundle.inside(folder, part["model"], f"parts.{name}.model"))
    triton = metadata.get("triton") or {}
    if triton.get("config"):
        named.append(os.path.join(folder, *triton["config"].split("/")))
    for path in named:
        if path is not None and not os.path.exists(path):
            raise RuntimeError(
                f"ganzoo.json names {os.path.relpath(path, folder)}, which was not written; "
                "nothing was exported"
            )


def max_abs_diff(reference, exported):
    """Largest absolute difference over lists of output arrays."""
    worst = 0.0
    for expected, actual in zip(reference, exported):
        expected = np.asarray(expected, dtype=np.float64)
        actual = np.asarray(actual, dtype=np.float64)
        if expected.shape != actual.shape:
            raise ValueError(
                f"Exported output has shape {actual.shape}, Keras gives {expected.shape}"
            )
        if not np.all(np.isfinite(actual)):
            return float("inf")
        worst = max(worst, float(np.max(np.abs(expected - actual))) if expected.size else 0.0)
    return worst


def check_parity(diff, tolerance, what):
    """Raise ValueError when the export is further from Keras than `tolerance`."""
    if not diff <= tolerance:
        raise ValueError(
            f"{what} does not match Keras: max abs difference {diff:.3g} > {tolerance:g}. "
            "Nothing was written. If the generator draws random numbers in call(), make "
            "that noise an explicit input"
        )


def describe(info, specs, outputs):
    """What a bundle's generator is: the fields `ganzoo.json` and the ONNX metadata share.

    family, preset, generator (its name in the family), ganzoo_version, inputs (name,
    shape, dtype, role, range of image inputs), outputs (with their value range),
    latent_dim, num_classes and image_shape.
    """
    latent_dim = info["latent_dim"]
    if latent_dim is None:
        latent_dim = next(
            (spec.shape[-1] for spec in specs if spec.role == "latent" and len(spec.shape) == 2),
            None,
        )
    image_shape = info["image_shape"]
    if image_shape is None:
        image_shape = outputs[0]["shape"][1:]
    has_label = any(spec.role == "label" for spec in specs)
    return {
        "family": info["family"],
        "preset": info["preset"],
        "generator": info.get("generator"),
        "ganzoo_version": __version__,
        "inputs": [spec.to_json() for spec in specs],
        "outputs": outputs,
        "latent_dim": None if latent_dim is None else int(latent_dim),
        "num_classes": int(info["num_classes"]) if has_label and info["num_classes"] else None,
        "image_shape": [None if dim is None else int(dim) for dim in image_shape],
    }


def copy_card(info, folder):
    """Copy the source preset's `card.md` into the staged bundle, when there is one."""
    card = info.get("card")
    if not card:
        return
    target = os.path.join(folder, CARD_FILE)
    with _atomic.writing(target):
        shutil.copyfile(card, target)


def build_metadata(*, fmt, info, specs, outputs, fp16, opset, parity, extra=None):
    """The `ganzoo.json` content of a bundle (docs/export.md describes each field)."""
    metadata = {
        "format_version": _bundle.FORMAT_VERSION,
        "format": fmt,
        "model": _bundle.MODEL_FILES[fmt],
    }
    metadata.update(describe(info, specs, outputs))
    metadata.update({
        "opset": opset,
        "fp16": bool(fp16),
        "parity": parity,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    })
    if info.get("card"):
        metadata["card"] = CARD_FILE
    metadata.update(extra or {})
    return metadata

