"""What a SOURCE is: one answer for every command and function that takes one.

A SOURCE is a preset name, a preset folder, a run folder or an export bundle; `evaluate`
also takes a dataset (`NAME[:SPLIT]`). `resolve` decides which, once, for `ganzoo sample`,
`export`, `evaluate` and `bench`, for `ganzoo.presets` and `ganzoo.models.load`
(`load_generator`, `Family.from_preset`) and for `ganzoo.metrics.evaluate`. It also knows
what each kind of folder holds (`is_preset`, `is_run_folder`, `ganzoo.json` for bundles)
and where preset names are looked up (`search_path`):

```python
source = ganzoo.sources.resolve("dcgan-digits")   # or "runs/digits", "export/onnx"
source.kind                                        # "preset", "run" or "bundle"
model = ganzoo.models.load(source)                 # presets and runs (TensorFlow)
gen = ganzoo.sources.resolve("export/onnx").load_runtime(providers="cpu")  # bundles
```

Anything else is one `ValueError`: "Unknown preset 'x': not a preset name, preset folder,
run folder or export bundle (known presets: ...)". A run folder whose preset is not
written yet says that the run has not finished and how to continue it.

No TensorFlow (the standard library and NumPy, through `ganzoo.data`'s light top),
near the bottom of ganzoo's layers: `ganzoo.presets` and
`ganzoo.models` build on it, so `ganzoo.runtime` users and the command line can resolve a
SOURCE before anything heavy starts (`load_runtime` imports onnxruntime when called).
"""

import dataclasses
import json
import os
import re
from pathlib import Path
from typing import Optional

from ganzoo import _bundle
from ganzoo import data as data_lib

PRESET, RUN, BUNDLE, DATA = "preset", "run", "bundle", "data"
KINDS = (PRESET, RUN, BUNDLE, DATA)
# Kinds that hold a Keras model (`ganzoo.models.load`); a bundle holds an exported graph.
MODEL_KINDS = (PRESET, RUN)
WHAT = "a preset name, preset folder, run folder or export bundle"

# NAME:SPLIT, e.g. "digits:test" or "mnist:train[:10%]". The split must start with a letter,
# so a TFDS version ("mnist:3.0.1") stays part of the name.
_SPLIT_SUFFIX = re.compile(r"^(?P<name>.+?):(?P<split>[A-Za-z][\w\-]*(\[[^\]]*\])?)$")


# What a folder holds, by kind: a preset (`ganzoo.presets` writes it), a finished run
# (`ganzoo.training` writes it, its preset in `RUN/preset`), a bundle (`ganzoo.json`).
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
RUN_FILE = "run.json"
RUN_PRESET_DIR = "preset"


def _shipped_dir():
    package = Path(__file__).resolve().parent
    packaged = package / "_pretrained"
    if packaged.is_dir():
        return packaged.resolve()
    # A checkout whose git did not create the symlink (core.symlinks=false).
    return package.parent / "pretrained"


# The presets (and the digits classifier) shipped with ganzoo. `pretrained/` at the top of
# the repository is the source of truth: `ganzoo/_pretrained` is a symlink to it in a
# checkout or editable install, and a wheel holds a copy of its folders there
# (setup.cfg, `[options.package_data]`; tests/test_wheel.py installs one and checks).
SHIPPED_DIR = _shipped_dir()


def search_path():
    """Folders searched for preset names, in order: `GANZOO_PRESETS`, then `SHIPPED_DIR`."""
    folders = [Path(p) for p in os.environ.get("GANZOO_PRESETS", "").split(os.pathsep) if p]
    folders.append(SHIPPED_DIR)
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


def is_run_folder(path):
    """True when `path` is a folder written by a ganzoo run (it holds `run.json`)."""
    run_file = Path(path) / RUN_FILE
    if not run_file.is_file():
        return False
    try:
        return "family" in json.loads(run_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False


@dataclasses.dataclass
class Source:
    """A resolved SOURCE: what it is (`kind`), where it is (`path`) and how to load it.

    Attributes:
        source: str. What was given, as text (for messages).
        kind: "preset", "run", "bundle" or "data".
        path: Path or None. The preset, run or bundle folder; for data, the folder when
            the dataset is one, else None.
        preset_path: Path or None. The folder holding `config.json` for a preset or a
            finished run (`RUN/preset`), else None.
        data, split: for kind "data", the `ganzoo.data` source and its split; else None.
    """

    source: str
    kind: str
    path: Optional[Path] = None
    preset_path: Optional[Path] = None
    data: Optional[str] = None
    split: Optional[str] = None
    _metadata: Optional[dict] = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def metadata(self):
        """A bundle's checked `ganzoo.json` (`ganzoo._bundle.read_bundle`), read once."""
        self.require((BUNDLE,))
        if self._metadata is None:
            self._metadata = _bundle.read_bundle(self.path)
        return self._metadata

    def load_runtime(self, **options):
        """An ONNX bundle's runtime task object (`ganzoo.runtime.load(path, **options)`)."""
        self.require((BUNDLE,))
        # Lazy: onnxruntime loads only when a bundle is run.
        from ganzoo import runtime

        return runtime.load(self.path, **options)

    def require(self, kinds):
        """Raise one ValueError saying what this is and what is needed, unless of `kinds`."""
        if self.kind not in kinds:
            raise ValueError(_wrong_kind(self, kinds))


def resolve(source, *, allow_data=False, split="train", check_data=True, accept=None):
    """What `source` is: a preset, a finished run or an export bundle (or a dataset).

    In order: an existing path is a bundle (a folder with `ganzoo.json`), a preset folder
    (`config.json` + `model.weights.h5`) or a run folder (`run.json`, or a `preset/`
    sub-folder); a text with no path separator that is no existing path is a preset name
    looked up on `search_path()`; with `allow_data`, anything else is a
    dataset.

    Args:
        source: str or path-like. What the user gave.
        allow_data: bool. Also accept a dataset (any `ganzoo.data.load` source, a string
            may end in `:SPLIT`), as `evaluate` does. Defaults to False.
        split: str. The dataset's split when it has no `:SPLIT` suffix. Defaults to
            "train".
        check_data: bool. With `allow_data`, check the dataset now (`ganzoo.data.describe`)
            and fail with the one error naming why it is not one; False leaves that to the
            data loader. Defaults to True.
        accept: tuple of kinds or None. The kinds the caller can use; another kind is one
            ValueError saying what was given and what is needed. Defaults to all.

    Returns:
        A `Source`.

    Raises:
        ValueError: `source` is none of these, a run that has not finished, or a kind not
            in `accept`. One line, e.g. "Unknown preset 'x': not a preset name, preset
            folder, run folder or export bundle (known presets: dcgan-digits, ...)".

    Examples:
    >>> resolve("dcgan-digits").kind  # doctest: +SKIP
    'preset'
    """
    if not isinstance(source, (str, os.PathLike)):
        raise ValueError(
            f"Expected {WHAT} (a str or path). Received: {type(source).__name__}"
        )
    text = os.fspath(source)
    found = _model_source(text) if text else None
    if found is None and allow_data:
        found = _data_source(text, split, check_data)
    if found is None:
        raise ValueError(unknown_source_message(text))
    if accept is not None and found.kind not in accept:
        raise ValueError(_wrong_kind(found, tuple(accept)))
    return found


def parse_data_spec(spec, default_split="train"):
    """(name, split) of a dataset string: `"digits:test"` -> ("digits", "test").

    A string that names an existing path is taken whole, so folders may contain colons.
    """
    if isinstance(spec, str) and not os.path.exists(spec):
        match = _SPLIT_SUFFIX.match(spec)
        if match:
            return match.group("name"), match.group("split")
    return spec, default_split


def unknown_source_message(text, data_problem=None):
    """The one error for a SOURCE that is none of the kinds (and, given, why no dataset)."""
    known = ", ".join(list_presets()) or "none installed"
    message = f"Unknown preset {text!r}: not {WHAT} (known presets: {known})"
    if data_problem:
        message += f", nor a dataset: {data_problem}"
    return message


def _model_source(text):
    """A preset, run or bundle `Source` for `text`, or None when it is none of them."""
    path = Path(text).expanduser()
    if path.exists():
        if _bundle.is_bundle(path):
            return Source(text, BUNDLE, path)
        if is_preset(path):
            return Source(text, PRESET, path, preset_path=path)
        finished = path / RUN_PRESET_DIR
        if is_preset(finished):
            return Source(text, RUN, path, preset_path=finished)
        if is_run_folder(path):
            raise ValueError(
                f"{text} is a run that has not finished (it has no {RUN_PRESET_DIR}/ "
                f"yet): continue it with `ganzoo train --out {text} --resume`"
            )
        if _is_name(text) and _named_preset(text):
            raise ValueError(
                f"{text!r} is a path here ({path.resolve()}) that is not a preset, run folder "
                f"or export bundle, and it hides the preset named {text!r}: run from another "
                "folder or rename that one to use the preset"
            )
        return None
    if _is_name(text):
        found = _named_preset(text)
        if found is not None:
            return Source(text, PRESET, found, preset_path=found)
    return None


def _named_preset(name):
    """The folder of the preset called `name` on `presets.search_path()`, or None."""
    for folder in search_path():
        if is_preset(folder / name):
            return folder / name
    return None


def _is_name(text):
    separators = [os.sep] + ([os.altsep] if os.altsep else [])
    return bool(text) and not any(separator in text for separator in separators)


def _data_source(text, split, check):
    name, split = parse_data_spec(text, split)
    if check:
        try:
            data_lib.describe(name, split=split)
        except ValueError as error:
            reason = str(error).strip().splitlines()
            raise ValueError(unknown_source_message(text, reason[0] if reason else None)) from None
    folder = Path(name).expanduser() if os.path.isdir(name) else None
    return Source(text, DATA, folder, data=name, split=split)


_NAMES = {PRESET: "a preset", RUN: "a run folder", BUNDLE: "an export bundle",
          DATA: "a dataset"}
_WANTED = {MODEL_KINDS: "a preset name, preset folder or run folder"}


def _wrong_kind(found, kinds):
    """`found` is of a kind the caller cannot use: say what it is and what is needed."""
    wanted = _WANTED.get(kinds) or " or ".join(_NAMES[kind] for kind in kinds)
    if found.kind == BUNDLE:
        hint = " (a bundle runs with ganzoo.runtime.load or `ganzoo sample`)"
    elif BUNDLE in kinds and found.kind in MODEL_KINDS:
        hint = f" (export it first: ganzoo export {found.source} --out DIR)"
    else:
        hint = ""
    return f"{found.source} is {_NAMES[found.kind]}; expected {wanted}{hint}"
