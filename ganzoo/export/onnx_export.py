"""ONNX export through `tf2onnx.convert.from_function` on an explicit signature.

`tf2onnx.convert.from_keras` is unreliable on Keras 3 (DESIGN.md); converting a
`tf.function` that calls `generator(inputs, training=False)` is not, and lets us name the
output `images` and keep the batch axis dynamic.
"""

import contextlib
import logging
import os

import onnx
import tensorflow as tf

from ganzoo import _bundle
from ganzoo.export import _signature
from ganzoo.export import bundle as bundle_lib

DEFAULT_OPSET = 17
MIN_OPSET = 17


def to_onnx(
    model,
    out_dir,
    *,
    opset=None,
    fp16=False,
    overwrite=False,
    input_signature=None,
    parity_samples=8,
    seed=0,
):
    """Export a generator to an ONNX bundle; see `ganzoo.export.to_onnx`."""
    opset = _check_opset(opset)
    bundle_lib.check_parity_args(parity_samples, seed)
    float16 = _float16_converter() if fp16 else None
    bundle_lib.check_target(out_dir, overwrite)

    generator, info = _signature.resolve_generator(model)
    specs = _signature.input_specs(generator, input_signature)
    function = _signature.serving_function(generator, specs)
    outputs = _signature.output_specs(function)
    onnx_model = _convert(function, specs, opset)
    if float16 is not None:
        onnx_model = float16.convert_float_to_float16(onnx_model, keep_io_types=True)

    feeds = _signature.seeded_inputs(specs, parity_samples, seed, info["num_classes"])
    reference = _keras_outputs(generator, feeds)
    tolerance = bundle_lib.TOLERANCE_FP16 if fp16 else bundle_lib.TOLERANCE_FP32

    with bundle_lib.staged_folder(out_dir, overwrite) as staging:
        model_path = os.path.join(staging, _bundle.MODEL_FILES["onnx"])
        onnx.save(onnx_model, model_path)
        exported = run_onnx(model_path, specs, feeds)
        diff = bundle_lib.max_abs_diff(reference, exported)
        bundle_lib.check_parity(diff, tolerance, "The ONNX export")
        metadata = bundle_lib.build_metadata(
            fmt="onnx",
            info=info,
            specs=specs,
            outputs=outputs,
            fp16=fp16,
            opset=opset,
            parity={
                "max_abs_diff": diff,
                "samples": parity_samples,
                "seed": seed,
                "tolerance": tolerance,
                "backend": "onnxruntime-cpu",
            },
            extra={"converter": f"tf2onnx {_tf2onnx().__version__}"},
        )
        _bundle.write_metadata(staging, metadata)
    return metadata


def run_onnx(model_path, specs, feeds):
    """Outputs of an ONNX file on onnxruntime's CPU provider, as a list of arrays."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(
            model_path, options, providers=["CPUExecutionProvider"]
        )
    except Exception as error:  # onnxruntime raises its own exception types
        raise ValueError(
            f"The exported ONNX graph does not load in onnxruntime: {_first_line(error)}"
        ) from None
    return session.run(None, {spec.name: array for spec, array in zip(specs, feeds)})


def _keras_outputs(generator, feeds):
    outputs = _signature.as_output_dict(_signature.call_generator(generator, feeds))
    return [tf.convert_to_tensor(output).numpy() for output in outputs.values()]


def _convert(function, specs, opset):
    tf2onnx = _tf2onnx()
    tensor_specs = [spec.tensor_spec() for spec in specs]
    with _quiet_tf2onnx():
        try:
            onnx_model, _ = tf2onnx.convert.from_function(
                function, input_signature=tensor_specs, opset=opset
            )
        except Exception as error:  # tf2onnx raises many exception types
            raise ValueError(
                f"Could not convert the generator to ONNX: {_first_line(error)}"
            ) from error
    _name_batch_axes(onnx_model)
    return onnx_model


def _name_batch_axes(onnx_model):
    """Call every dynamic leading axis `batch` (tf2onnx names them `unk__N`)."""
    for value in list(onnx_model.graph.input) + list(onnx_model.graph.output):
        dims = value.type.tensor_type.shape.dim
        if dims and not dims[0].HasField("dim_value"):
            dims[0].dim_param = "batch"


def _check_opset(opset):
    opset = DEFAULT_OPSET if opset is None else opset
    if isinstance(opset, bool) or not isinstance(opset, int):
        raise ValueError(f"opset must be an integer. Received: opset={opset!r}")
    from tf2onnx import constants

    newest = max(constants.OPSET_TO_IR_VERSION)
    if not MIN_OPSET <= opset <= newest:
        raise ValueError(
            f"opset must lie in [{MIN_OPSET}, {newest}] (tf2onnx {_tf2onnx().__version__}). "
            f"Received: opset={opset}"
        )
    return opset


def _float16_converter():
    try:
        from onnxconverter_common import float16
    except ImportError:
        raise ValueError(
            "fp16 export needs the onnxconverter-common package "
            "(pip install onnxconverter-common); export without fp16 or install it"
        ) from None
    return float16


def _tf2onnx():
    import tf2onnx

    return tf2onnx


@contextlib.contextmanager
def _quiet_tf2onnx():
    """tf2onnx logs every conversion step at INFO; keep only its warnings."""
    logger = logging.getLogger("tf2onnx")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _first_line(error):
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
