"""Triton Inference Server model repositories holding generators' ONNX graphs.

```
models/                       (out_dir: point tritonserver --model-repository here)
├── ganzoo.json               index of the repository + the last model version exported
├── dcgan/                    a model (the family name by default, or model_name)
│   ├── config.pbtxt          onnxruntime backend, batching, instance group, warm-up
│   ├── 1/                    version 1: an ONNX bundle of its own
│   │   ├── model.onnx        the portable graph, as in an ONNX bundle
│   │   └── ganzoo.json       its metadata, with the sha256 of model.onnx
│   └── 2/ ...                version 2 (added by a later export)
└── srgan/ ...                another model
```

Exporting into an existing repository adds a model or a version and never removes one;
`overwrite=True` replaces only the same model version. Triton skips files at the
repository root and files other than `model.onnx` in a version folder, so the ganzoo.json
files do not disturb it. Every version of a model shares its `config.pbtxt`, so a new
version must have the inputs and outputs (names, dtypes, sizes) of the versions already
there; the config declares `version_policy: all` so that a client pinned to version N
keeps being served when version N+1 arrives.

`config.pbtxt` is a text-format `inference.ModelConfig` (tritonclient ships the message as
`tritonclient.grpc.model_config_pb2.ModelConfig`); the tests parse it with that message.
It is not among the checksummed files: operators tune it by hand.
"""

import os
import shutil

from ganzoo import _atomic, _bundle
from ganzoo.export import bundle as bundle_lib
from ganzoo.export.options import INSTANCE_KINDS, TritonOptions, check_model_name

CONFIG_FILE = bundle_lib.TRITON_CONFIG_FILE
MODEL_FILE = "model.onnx"
# The `ExportOptions` that decide how a Keras model is converted: a bundle's graph is
# copied as it is, so none of them may be set when the source is a bundle.
CONVERSION_OPTIONS = ("fp16", "opset", "input_signature", "output_range", "input_range",
                      "generator", "parity_size", "force_output_range")

_TRITON_TYPES = {
    "bool": "TYPE_BOOL",
    "uint8": "TYPE_UINT8",
    "uint16": "TYPE_UINT16",
    "uint32": "TYPE_UINT32",
    "uint64": "TYPE_UINT64",
    "int8": "TYPE_INT8",
    "int16": "TYPE_INT16",
    "int32": "TYPE_INT32",
    "int64": "TYPE_INT64",
    "float16": "TYPE_FP16",
    "float32": "TYPE_FP32",
    "float64": "TYPE_FP64",
}
# What messages call the folder `out_dir` names.
REPOSITORY = "Triton model repository"


def to_triton(model, out_dir, options, serving, overwrite=False):
    """Add a generator to a Triton model repository; see `ganzoo.export.to_triton`.

    `options` is a checked `ExportOptions` (how a Keras model is converted), `serving` a
    checked `TritonOptions`.
    """
    repo = _check_repository(out_dir)
    source = _bundle_source(model)
    if source is not None:
        given = [name for name in CONVERSION_OPTIONS
                 if getattr(options, name) not in (None, False)]
        if given:
            raise ValueError(
                f"{source} is already an exported bundle: {', '.join(given)} apply when "
                "exporting a Keras model; export the preset or run folder instead"
            )
        graph = _BundleGraph(source)
    else:
        # Lazy: converting a Keras model imports TensorFlow; copying a bundle does not.
        from ganzoo.export import onnx_export

        graph = _KerasGraph(onnx_export.convert_checked(model, options))
    name = serving.model_name or graph.family or "generator"
    check_model_name(name, "model name")
    model_dir = os.path.join(repo, name)
    existing = _check_model_folder(model_dir, name, graph.inputs, graph.outputs)
    version = serving.version or (max(existing, default=0) + 1)
    version_dir = os.path.join(model_dir, str(version))
    if os.path.lexists(version_dir) and not overwrite:
        raise FileExistsError(
            f"{version_dir} already exists: version {version} of Triton model {name!r}. "
            f"Leave version unset to add version {max(existing) + 1}, or pass "
            "overwrite=True (--overwrite) to replace that version"
        )
    triton = {
        "model_name": name,
        "version": version,
        "max_batch_size": serving.max_batch_size,
        "instance_group": {"count": serving.instances,
                           "kind": INSTANCE_KINDS[serving.instance_kind]},
        "warmup": serving.warmup,
    }
    config = model_config(name, graph.inputs, graph.outputs, serving)

    def write_version(folder):
        metadata = graph.write(folder, triton)
        bundle_lib.write_metadata(folder, metadata)
        return metadata

    if not os.path.lexists(repo):
        with bundle_lib.staged_folder(repo) as staging:
            metadata = write_version(os.path.join(staging, name, str(version)))
            _write_config(os.path.join(staging, name, CONFIG_FILE), config)
            _write_index(staging, metadata)
        return _index(repo, metadata)
    if not os.path.lexists(model_dir):
        with _atomic.staged_folder(model_dir) as staging:
            metadata = write_version(os.path.join(staging, str(version)))
            _write_config(os.path.join(staging, CONFIG_FILE), config)
    else:
        added = not os.path.lexists(version_dir)
        with bundle_lib.staged_folder(version_dir, overwrite=overwrite) as staging:
            metadata = write_version(staging)
        try:
            _atomic.replace_file(os.path.join(model_dir, CONFIG_FILE),
                                 lambda tmp_path: _write_text(tmp_path, config))
        except OSError as error:
            if added:
                shutil.rmtree(version_dir, ignore_errors=True)
            raise _atomic.write_error(error, os.path.join(model_dir, CONFIG_FILE)) from None
    path = os.path.join(repo, _bundle.METADATA_FILE)
    index = _index(repo, metadata)
    with _atomic.writing(path):
        _atomic.replace_file(path, lambda tmp_path: _write_text(tmp_path,
                                                                _bundle.metadata_text(index)))
    return index


class _KerasGraph:
    """A generator converted from Keras, written with its parity check."""

    def __init__(self, exported):
        self.exported = exported
        self.family = exported.info["family"]
        self.inputs = [spec.to_json() for spec in exported.specs]
        self.outputs = exported.outputs

    def write(self, folder, triton):
        written = self.exported.write(folder, MODEL_FILE, optimize=False)
        written["extra"]["model"] = MODEL_FILE
        written["extra"]["triton"] = dict(triton)
        return bundle_lib.build_metadata(fmt="triton", **written)


class _BundleGraph:
    """The portable graph of an ONNX bundle (or a version of a Triton repository), copied.

    No TensorFlow: the bundle's files are verified against their checksums, its
    `ganzoo.json` against the graph's own metadata (`_bundle.check_stored_twice`), and its
    graph copied byte for byte, with the parity measured when it was exported.
    """

    def __init__(self, source):
        self.source = source
        self.metadata = _bundle.read_bundle(source)
        if self.metadata["format"] not in _bundle.ONNX_FORMATS:
            raise ValueError(
                f"{source} is a {self.metadata['format']} bundle; a Triton repository "
                "holds ONNX graphs: export the preset or run folder with --format triton, "
                "or an ONNX bundle of it"
            )
        self.model_path = _bundle.model_path(source, self.metadata)
        if not os.path.isfile(self.model_path):
            raise ValueError(f"{source} is not a complete bundle: {self.model_path} is missing")
        _bundle.verify_files(source, self.metadata)
        _bundle.check_stored_twice(
            source, self.metadata, _onnx_metadata(self.model_path),
            os.path.relpath(self.model_path, source).replace(os.sep, "/"),
        )
        self.family = self.metadata.get("family")
        self.inputs = self.metadata["inputs"]
        self.outputs = self.metadata["outputs"]

    def write(self, folder, triton):
        target = os.path.join(folder, MODEL_FILE)
        with _atomic.writing(target):
            os.makedirs(folder, exist_ok=True)
            shutil.copyfile(self.model_path, target)
        metadata = {
            key: value for key, value in self.metadata.items()
            if key not in ("files", "variants", "parts", "triton", "models", "card")
        }
        if isinstance(self.metadata.get("card"), str):
            card = os.path.join(folder, bundle_lib.CARD_FILE)
            with _atomic.writing(card):
                shutil.copyfile(_bundle.inside(self.source, self.metadata["card"], "card"), card)
            metadata["card"] = bundle_lib.CARD_FILE
        parity = dict(metadata.get("parity") or {})
        source_model = self.metadata.get("model") or MODEL_FILE
        models = parity.get("models")
        if isinstance(models, dict) and source_model in models:
            parity["models"] = {MODEL_FILE: models[source_model]}
            parity["max_abs_diff"] = models[source_model]
        metadata.update({"format": "triton", "model": MODEL_FILE, "parity": parity,
                         "triton": dict(triton)})
        return metadata


def _onnx_metadata(model_path):
    """`{key: value}` of the ONNX file's `metadata_props`."""
    import onnx

    try:
        model = onnx.load(model_path, load_external_data=False)
    except Exception as error:  # protobuf raises its own exception types
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ValueError(f"Cannot read {model_path} as an ONNX file: {reason}") from None
    return {entry.key: entry.value for entry in model.metadata_props}


def model_config(name, inputs, outputs, serving=None):
    """The text of `config.pbtxt` for ONNX inputs and outputs described as in ganzoo.json.

    `serving` is a `TritonOptions` (defaults to `TritonOptions()`). Dims leave out the
    batch axis (Triton adds it up to `max_batch_size`); dynamic axes are -1. An input
    with no axis besides the batch (a label per image) is declared `dims: [ 1 ]` with
    `reshape: { shape: [ ] }`, as Triton expects for it. With `warmup` (True or a batch
    size) Triton runs one batch of zeros through each instance before it reports the
    model ready; zeros are valid for every role (label 0, truncation 0). Images of
    dynamic size warm up at the smallest size the export checked (the input's
    `size_multiple`, at least 16).
    """
    serving = TritonOptions() if serving is None else serving
    lines = [
        f'name: "{name}"',
        'platform: "onnxruntime_onnx"',
        'backend: "onnxruntime"',
        f"max_batch_size: {serving.max_batch_size}",
        "version_policy: { all { } }",
        "input [",
        ",\n".join(_tensor_config(entry) for entry in inputs),
        "]",
        "output [",
        ",\n".join(_tensor_config(entry) for entry in outputs),
        "]",
        "dynamic_batching {",
        f"  max_queue_delay_microseconds: {serving.max_queue_delay_us}",
        "}",
        "instance_group [",
        "  {",
        f"    count: {serving.instances}",
        f"    kind: {INSTANCE_KINDS[serving.instance_kind]}",
        "  }",
        "]",
    ]
    if serving.warmup:
        lines += _warmup_config(inputs, 1 if serving.warmup is True else serving.warmup)
    return "\n".join(lines) + "\n"


def _tensor_config(entry):
    dtype = str(entry["dtype"])
    if dtype not in _TRITON_TYPES:
        raise ValueError(f"Triton has no data type for {entry['name']!r} ({dtype})")
    dims = _dims(entry)
    lines = [
        "  {",
        f'    name: "{entry["name"]}"',
        f"    data_type: {_TRITON_TYPES[dtype]}",
    ]
    if len(entry["shape"]) > 1:
        lines.append(f"    dims: [ {', '.join(str(dim) for dim in dims)} ]")
    else:
        lines.append("    dims: [ 1 ]")
        lines.append("    reshape: { shape: [ ] }")
    lines.append("  }")
    return "\n".join(lines)


def _dims(entry):
    return [-1 if dim is None else int(dim) for dim in entry["shape"][1:]] or [1]


def _warmup_config(inputs, batch_size):
    lines = ["model_warmup [", "  {", '    name: "zeros"', f"    batch_size: {batch_size}"]
    for entry in inputs:
        dims = _dims(entry)
        if len(dims) == 3 and entry.get("size_multiple"):
            # Dynamic height and width: the smallest size the parity check ran at.
            size = max(int(entry["size_multiple"]), 16)
            dims = [size if dim < 0 else dim for dim in dims[:2]] + dims[2:]
        if any(dim < 0 for dim in dims):
            raise ValueError(
                f"warmup needs a fixed size for every input; {entry['name']!r} has dynamic "
                f"axes {entry['shape']}. Export without warmup"
            )
        lines += [
            "    inputs {",
            f'      key: "{entry["name"]}"',
            "      value: {",
            f"        data_type: {_TRITON_TYPES[str(entry['dtype'])]}",
            f"        dims: [ {', '.join(str(dim) for dim in dims)} ]",
            "        zero_data: true",
            "      }",
            "    }",
        ]
    return lines + ["  }", "]"]


def _write_config(path, config):
    with _atomic.writing(path):
        _write_text(path, config)


def _write_text(path, text):
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def _index(repo, metadata):
    """The repository's ganzoo.json: the last version written, and every model and version."""
    name, version = metadata["triton"]["model_name"], metadata["triton"]["version"]
    prefix = f"{name}/{version}/"
    index = dict(metadata)
    index["model"] = prefix + MODEL_FILE
    index["triton"] = dict(metadata["triton"], config=f"{name}/{CONFIG_FILE}",
                           models=repository_models(repo))
    index["files"] = {prefix + path: digest for path, digest in metadata["files"].items()}
    if isinstance(metadata.get("card"), str):
        index["card"] = prefix + metadata["card"]
    return index


def _write_index(folder, metadata):
    index = _index(folder, metadata)
    path = os.path.join(folder, _bundle.METADATA_FILE)
    with _atomic.writing(path):
        _write_text(path, _bundle.metadata_text(index))


def repository_models(repo):
    """`{model name: [versions]}` of every model folder in the Triton repository `repo`."""
    models = {}
    for name in sorted(os.listdir(repo)):
        folder = os.path.join(repo, name)
        if name.startswith(".") or not os.path.isdir(folder):
            continue
        models[name] = sorted(_versions(folder))
    return models


def _versions(model_dir):
    if not os.path.isdir(model_dir):
        return []
    return [int(entry) for entry in os.listdir(model_dir)
            if entry.isdigit() and not entry.startswith("0")
            and os.path.isdir(os.path.join(model_dir, entry))]


def _check_repository(out_dir):
    """The absolute repository path; refuse a folder that is not a Triton repository.

    An absent or empty folder, a repository ganzoo wrote, and a folder whose entries are
    all model folders (a `config.pbtxt` or numbered version folders) are repositories.
    """
    repo = os.path.abspath(os.fspath(out_dir))
    if not os.path.lexists(repo):
        return repo
    if os.path.islink(repo) or not os.path.isdir(repo):
        raise _atomic.NotReplaceableError(
            f"{repo} is not a {REPOSITORY} (a {'symbolic link' if os.path.islink(repo) else 'file'}); "
            "choose another --out"
        )
    if _bundle.is_bundle(repo):
        metadata = _bundle.read_bundle(repo)
        if metadata["format"] != "triton" or metadata.get("model", "").count("/") != 2:
            raise _atomic.NotReplaceableError(
                f"{repo} is a ganzoo {metadata['format']} bundle, not a {REPOSITORY}; "
                "choose another --out"
            )
        return repo
    for name in os.listdir(repo):
        path = os.path.join(repo, name)
        if name.startswith("."):
            continue
        if not os.path.isdir(path) or not (
            os.path.isfile(os.path.join(path, CONFIG_FILE)) or _versions(path)
        ):
            raise _atomic.NotReplaceableError(
                f"{repo} is not a {REPOSITORY}: {name} is not a model folder (no "
                f"{CONFIG_FILE}, no version folders); choose another --out"
            )
    return repo


def _check_model_folder(model_dir, name, inputs, outputs):
    """Versions already in `model_dir`; refuse a model that is not ganzoo's or differs."""
    if not os.path.lexists(model_dir):
        return []
    versions = _versions(model_dir)
    ours = [v for v in versions if _bundle.is_bundle(os.path.join(model_dir, str(v)))]
    if not os.path.isdir(model_dir) or len(ours) != len(versions) or not ours:
        raise _atomic.NotReplaceableError(
            f"{model_dir} is a model ganzoo did not write; choose another model name "
            "(--model-name)"
        )
    newest = _bundle.read_bundle(os.path.join(model_dir, str(max(ours))))
    if _signature(newest["inputs"]) != _signature(inputs) or (
        _signature(newest["outputs"]) != _signature(outputs)
    ):
        raise ValueError(
            f"Triton model {name!r} has inputs {_describe(newest['inputs'])} and outputs "
            f"{_describe(newest['outputs'])}; this generator has {_describe(inputs)} and "
            f"{_describe(outputs)}. Versions of one model share its {CONFIG_FILE}: choose "
            "another model name (--model-name)"
        )
    return versions


def _signature(entries):
    return [(entry["name"], str(entry["dtype"]), list(entry["shape"])) for entry in entries]


def _describe(entries):
    return ", ".join(
        f"{entry['name']} {list(entry['shape'])} {entry['dtype']}" for entry in entries
    )


def _bundle_source(model):
    """The bundle folder when `model` is a path to an exported bundle, else None."""
    if isinstance(model, (str, os.PathLike)):
        path = os.fspath(model)
        if os.path.basename(path) == _bundle.METADATA_FILE:
            path = os.path.dirname(path) or "."
        if not _bundle.is_bundle(path):
            raise ValueError(
                f"{path} is not an export bundle; pass a model, or the folder of an ONNX "
                "bundle (one with ganzoo.json)"
            )
        return path
    return None
