"""Triton Inference Server model repository holding a generator's ONNX graph.

```
repo/                         (out_dir: point tritonserver --model-repository here)
├── ganzoo.json               ganzoo's bundle metadata; Triton skips files at the root
└── dcgan/                    the model name (the family by default)
    ├── config.pbtxt          onnxruntime backend, max batch size, dynamic batching, GPU
    └── 1/model.onnx          version 1: the portable ONNX graph, as in an ONNX bundle
```

`config.pbtxt` is a text-format `inference.ModelConfig` (tritonclient ships the message as
`tritonclient.grpc.model_config_pb2.ModelConfig`); the tests parse it with that message.
"""

import os
import re

from ganzoo import _atomic
from ganzoo.export import bundle as bundle_lib
from ganzoo.export import onnx_export

CONFIG_FILE = "config.pbtxt"
VERSION = 1
DEFAULT_MAX_BATCH_SIZE = 64
DEFAULT_QUEUE_DELAY_US = 100

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
_MODEL_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def to_triton(
    model,
    out_dir,
    *,
    model_name=None,
    max_batch_size=DEFAULT_MAX_BATCH_SIZE,
    instance_count=1,
    max_queue_delay_us=DEFAULT_QUEUE_DELAY_US,
    fp16=False,
    opset=None,
    overwrite=False,
    input_signature=None,
    parity_samples=8,
    seed=0,
):
    """Export a generator as a Triton model repository; see `ganzoo.export.to_triton`."""
    name = _check_triton_arguments(model_name, max_batch_size, instance_count,
                                   max_queue_delay_us)
    onnx_export.check_arguments(opset, fp16, parity_samples, seed)
    bundle_lib.check_target(out_dir, overwrite)
    exported = onnx_export.convert_checked(
        model, opset=opset, fp16=fp16, input_signature=input_signature,
        parity_samples=parity_samples, seed=seed,
    )
    name = name or exported.info["family"] or "generator"
    model_file = f"{name}/{VERSION}/model.onnx"
    with bundle_lib.staged_folder(out_dir, overwrite) as staging:
        written = exported.write(staging, model_file, optimize=False)
        written["extra"]["model"] = model_file
        written["extra"]["triton"] = {
            "model_name": name,
            "config": f"{name}/{CONFIG_FILE}",
            "max_batch_size": max_batch_size,
            "instance_group": {"count": instance_count, "kind": "KIND_GPU"},
        }
        metadata = bundle_lib.build_metadata(fmt="triton", **written)
        config = model_config(
            name, metadata["inputs"], metadata["outputs"], max_batch_size=max_batch_size,
            instance_count=instance_count, max_queue_delay_us=max_queue_delay_us,
        )
        config_path = os.path.join(staging, name, CONFIG_FILE)
        with _atomic.writing(config_path):
            with open(config_path, "w", encoding="utf-8") as handle:
                handle.write(config)
        bundle_lib.write_metadata(staging, metadata)
    return metadata


def model_config(name, inputs, outputs, *, max_batch_size=DEFAULT_MAX_BATCH_SIZE,
                 instance_count=1, max_queue_delay_us=DEFAULT_QUEUE_DELAY_US):
    """The text of `config.pbtxt` for ONNX inputs and outputs described as in ganzoo.json.

    Dims leave out the batch axis (Triton adds it up to `max_batch_size`); dynamic axes
    are -1. An input with no axis besides the batch (a label per image) is declared
    `dims: [ 1 ]` with `reshape: { shape: [ ] }`, as Triton expects for it.
    """
    lines = [
        f'name: "{name}"',
        'platform: "onnxruntime_onnx"',
        'backend: "onnxruntime"',
        f"max_batch_size: {int(max_batch_size)}",
        "input [",
        ",\n".join(_tensor_config(entry) for entry in inputs),
        "]",
        "output [",
        ",\n".join(_tensor_config(entry) for entry in outputs),
        "]",
        "dynamic_batching {",
        f"  max_queue_delay_microseconds: {int(max_queue_delay_us)}",
        "}",
        "instance_group [",
        "  {",
        f"    count: {int(instance_count)}",
        "    kind: KIND_GPU",
        "  }",
        "]",
    ]
    return "\n".join(lines) + "\n"


def _tensor_config(entry):
    dtype = str(entry["dtype"])
    if dtype not in _TRITON_TYPES:
        raise ValueError(f"Triton has no data type for {entry['name']!r} ({dtype})")
    dims = [-1 if dim is None else int(dim) for dim in entry["shape"][1:]]
    lines = [
        "  {",
        f'    name: "{entry["name"]}"',
        f"    data_type: {_TRITON_TYPES[dtype]}",
    ]
    if dims:
        lines.append(f"    dims: [ {', '.join(str(dim) for dim in dims)} ]")
    else:
        lines.append("    dims: [ 1 ]")
        lines.append("    reshape: { shape: [ ] }")
    lines.append("  }")
    return "\n".join(lines)


def _check_triton_arguments(model_name, max_batch_size, instance_count, max_queue_delay_us):
    if model_name is not None and (
        not isinstance(model_name, str) or not _MODEL_NAME.match(model_name)
    ):
        raise ValueError(
            "model_name must be letters, digits, '_', '-' or '.' (a folder name Triton "
            f"serves). Received: model_name={model_name!r}"
        )
    for label, value, low in (
        ("max_batch_size", max_batch_size, 1),
        ("instance_count", instance_count, 1),
        ("max_queue_delay_us", max_queue_delay_us, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{label} must be an integer >= {low}. Received: {label}={value!r}")
    return model_name
