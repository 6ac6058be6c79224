"""The options of an export as frozen values, checked once when they are made.

`ExportOptions` holds what decides the exported graph and its parity check (opset, fp16,
the input signature, the value ranges, which generator, the parity inputs);
`TritonOptions` what a Triton model repository adds (model name, version, instances,
batching, warm-up). The exporters take them whole and pass them down, so each option has
one name, one default and one check. Making them needs neither TensorFlow nor NumPy: a bad
value is refused in one line before any work starts. What depends on the installed
converter (the newest opset tf2onnx writes, whether onnxconverter-common is there) is
checked by `ganzoo.export.onnx_export` when it converts.
"""

import dataclasses
import math
import re

DEFAULT_OPSET = 17
MIN_OPSET = 17
DEFAULT_MAX_BATCH_SIZE = 64
DEFAULT_QUEUE_DELAY_US = 100
# Triton's instance kinds: KIND_AUTO places instances on the server's GPUs when it has
# any and on its CPU otherwise, so one repository serves on both.
INSTANCE_KINDS = {"auto": "KIND_AUTO", "gpu": "KIND_GPU", "cpu": "KIND_CPU"}
DEFAULT_INSTANCE_KIND = "auto"
_MODEL_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


@dataclasses.dataclass(frozen=True)
class ExportOptions:
    """How a generator is converted and checked against Keras; checked when made.

    The keyword options of `ganzoo.export.to_onnx`, which describes each of them; pass one
    as `options=` to `to_onnx`, `to_saved_model` or `to_triton` instead of the keywords.
    `dataclasses.replace(options, seed=1)` gives a changed copy, checked again.

    Args:
        opset: int. ONNX opset, 17 or newer. Defaults to None (17).
        fp16: bool. float16 weights and arithmetic (ONNX only). Defaults to False.
        input_signature: list (stored as a tuple) or dict of `tf.TensorSpec`. Defaults
            to None (the generator's own inputs).
        parity_samples: int. Seeded inputs in the parity check. Defaults to 8.
        seed: int. Seed of the parity inputs. Defaults to 0.
        optimize: bool. Add the CPU-optimised `model.cpu.onnx` (`to_onnx` only).
            Defaults to True.
        output_range: (low, high), stored as floats. Defaults to None.
        input_range: (low, high), stored as floats. Defaults to None.
        generator: str. Which of the model's generators. Defaults to None.
        parity_size: int. Parity size for dynamic height and width. Defaults to None.
        force_output_range: bool. Keep a refused `output_range`. Defaults to False.

    Raises:
        ValueError: one line naming the bad value (`Received: name=value`).

    Examples:

    ```python
    options = ganzoo.export.ExportOptions(parity_samples=16, seed=1)
    ganzoo.export.to_onnx(gan, "run/onnx", options=options)
    ganzoo.export.to_saved_model(gan, "run/savedmodel", options=options)
    ```
    """

    opset: int = None
    fp16: bool = False
    input_signature: object = None
    parity_samples: int = 8
    seed: int = 0
    optimize: bool = True
    output_range: tuple = None
    input_range: tuple = None
    generator: str = None
    parity_size: int = None
    force_output_range: bool = False

    def __post_init__(self):
        _check_opset(self.opset)
        _check_int("parity_samples", self.parity_samples, 1, "a positive integer")
        _check_int("seed", self.seed, 0, "a non-negative integer")
        _check_force_output_range(self.force_output_range, self.output_range)
        if self.generator is not None and not isinstance(self.generator, str):
            raise ValueError(
                f"generator must be a name (str) or None. Received: generator={self.generator!r}"
            )
        for name in ("output_range", "input_range"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, check_range(getattr(self, name), name))
        if self.parity_size is not None:
            _check_int("parity_size", self.parity_size, 1, "a positive integer")
        if isinstance(self.input_signature, list):
            object.__setattr__(self, "input_signature", tuple(self.input_signature))

    @property
    def onnx_opset(self):
        """The opset the ONNX graph is written in: `opset`, or `DEFAULT_OPSET`."""
        return DEFAULT_OPSET if self.opset is None else self.opset


@dataclasses.dataclass(frozen=True)
class TritonOptions:
    """How Triton serves an exported model; checked when made.

    The serving keywords of `ganzoo.export.to_triton`, which describes each of them; pass
    one as `triton_options=` instead of the keywords.

    Args:
        model_name: str. Name Triton serves the model under. Defaults to None (the
            family name, or "generator").
        version: int. The model version to write. Defaults to None (the next free one).
        instance_kind: "auto", "gpu" or "cpu". Defaults to "auto".
        instances: int. Model instances. Defaults to 1.
        warmup: bool or int. Warm-up batch (True: 1). Defaults to False.
        max_batch_size: int. Largest batch Triton forms. Defaults to 64.
        max_queue_delay_us: int. Dynamic batching delay in microseconds. Defaults to 100.

    Raises:
        ValueError: one line naming the bad value (`Received: name=value`).
    """

    model_name: str = None
    version: int = None
    instance_kind: str = DEFAULT_INSTANCE_KIND
    instances: int = 1
    warmup: object = False
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE
    max_queue_delay_us: int = DEFAULT_QUEUE_DELAY_US

    def __post_init__(self):
        if self.model_name is not None:
            check_model_name(self.model_name)
        if self.instance_kind not in INSTANCE_KINDS:
            raise ValueError(
                f"instance_kind must be one of {', '.join(INSTANCE_KINDS)}. "
                f"Received: instance_kind={self.instance_kind!r}"
            )
        _check_int("max_batch_size", self.max_batch_size, 1)
        _check_int("instances", self.instances, 1)
        _check_int("max_queue_delay_us", self.max_queue_delay_us, 0)
        if self.version is not None:
            _check_int("version", self.version, 1)
        if self.warmup is not True and self.warmup is not False:
            _check_int("warmup", self.warmup, 1)
            if self.warmup > self.max_batch_size:
                raise ValueError(
                    f"warmup batch size must be at most max_batch_size ({self.max_batch_size}). "
                    f"Received: warmup={self.warmup!r}"
                )


EXPORT_FIELDS = tuple(field.name for field in dataclasses.fields(ExportOptions))
TRITON_FIELDS = tuple(field.name for field in dataclasses.fields(TritonOptions))


def resolve(function, accepted, values, options=None, triton_options=None):
    """The `(ExportOptions, TritonOptions)` of a call to an exporter of `ganzoo.export`.

    `values` are the option keywords the call got, `accepted` the names `function` takes;
    `options` / `triton_options` ready values, which the same call may not also give as
    keywords. Raises ValueError in one line for an unknown keyword or such a mix.
    """
    unknown = sorted(set(values) - set(accepted))
    if unknown:
        ready = "options=ExportOptions(...)" + (
            ", triton_options=TritonOptions(...)"
            if any(name in TRITON_FIELDS for name in accepted) else "")
        raise ValueError(
            f"{function}() got an unknown option {', '.join(map(repr, unknown))}; it takes "
            f"{', '.join(accepted)}, overwrite, {ready}"
        )
    export_values = {name: value for name, value in values.items() if name in EXPORT_FIELDS}
    triton_values = {name: value for name, value in values.items() if name in TRITON_FIELDS}
    serving = _one(TritonOptions, "triton_options", triton_options, triton_values)
    return _one(ExportOptions, "options", options, export_values), serving


def _one(kind, keyword, given, values):
    if given is None:
        return kind(**values)
    if not isinstance(given, kind):
        raise ValueError(
            f"{keyword} must be a ganzoo.export.{kind.__name__}. "
            f"Received: {keyword}={given!r}"
        )
    if values:
        raise ValueError(
            f"Give the options as keywords or as {keyword}={kind.__name__}(...), not both. "
            f"Received: {keyword} with the keywords {', '.join(sorted(values))}"
        )
    return given


def check_range(value_range, what):
    """`value_range` as a `(low, high)` pair of floats with low < high; one line otherwise."""
    try:
        low, high = (float(bound) for bound in value_range)
    except (TypeError, ValueError):
        raise ValueError(
            f"{what} must be a pair (low, high) of numbers, e.g. {what}=(0, 1). "
            f"Received: {what}={value_range!r}"
        ) from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(
            f"{what} must be (low, high) with finite low < high. Received: {what}={value_range!r}"
        )
    return (low, high)


def check_model_name(name, label="model_name"):
    """Refuse a Triton model name that is not a plain folder name."""
    if not isinstance(name, str) or not _MODEL_NAME.match(name):
        raise ValueError(
            f"{label} must be letters, digits, '_', '-' or '.' (a folder name Triton "
            f"serves). Received: {label}={name!r}"
        )


def _check_opset(opset):
    """The pure part of the opset check; the newest opset is tf2onnx's, checked there."""
    if opset is None:
        return
    if isinstance(opset, bool) or not isinstance(opset, int):
        raise ValueError(f"opset must be an integer. Received: opset={opset!r}")
    if opset < MIN_OPSET:
        raise ValueError(
            f"opset must lie in [{MIN_OPSET}, the newest opset tf2onnx writes]. "
            f"Received: opset={opset}"
        )


def _check_force_output_range(force_output_range, output_range):
    """Refuse a `force_output_range` that is not a bool, or given without `output_range`."""
    if not isinstance(force_output_range, bool):
        raise ValueError(
            "force_output_range must be True or False. "
            f"Received: force_output_range={force_output_range!r}"
        )
    if force_output_range and output_range is None:
        raise ValueError(
            "force_output_range keeps a declared output_range; pass output_range=(low, high) "
            "(--output-range LO,HI) with it. Received: output_range=None"
        )


def _check_int(label, value, low, what=None):
    """Refuse a `value` that is not an int (bools are not) of at least `low`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(
            f"{label} must be {what or f'an integer >= {low}'}. Received: {label}={value!r}"
        )
