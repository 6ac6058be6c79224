"""SavedModel export with a `serving_default` signature, through `keras.export.ExportArchive`.

The signature takes the generator's named inputs and returns `{"images": ...}`; it loads
with `tf.saved_model.load` (and TF Serving) without ganzoo or Keras.
"""

import errno
import os

import keras
import tensorflow as tf

from ganzoo import _atomic, _bundle
from ganzoo.export import _signature
from ganzoo.export import bundle as bundle_lib

SIGNATURE_KEY = "serving_default"


def to_saved_model(model, out_dir, options, overwrite=False):
    """Export a generator to a SavedModel bundle; see `ganzoo.export.to_saved_model`.

    `options` is a checked `ExportOptions` (its `opset`, `fp16` and `optimize` are for
    ONNX and not read here).
    """
    bundle_lib.check_target(out_dir, overwrite)
    prepared = _signature.prepare(model, options)
    specs = prepared.specs
    tolerance = bundle_lib.TOLERANCE_FP32

    with bundle_lib.staged_folder(out_dir, overwrite) as staging:
        model_path = os.path.join(staging, _bundle.MODEL_FILES["savedmodel"])
        _write_saved_model(prepared.generator, prepared.function, model_path)
        diff = max(
            bundle_lib.max_abs_diff(reference, run_saved_model(model_path, specs, feeds))
            for _, feeds, reference in prepared.checks
        )
        bundle_lib.check_parity(diff, tolerance, "The SavedModel export")
        bundle_lib.copy_card(prepared.info, staging)
        metadata = bundle_lib.build_metadata(
            fmt="savedmodel",
            info=prepared.info,
            specs=specs,
            outputs=prepared.outputs,
            fp16=False,
            opset=None,
            parity=prepared.parity_entry(diff, tolerance, "tensorflow-savedmodel"),
            extra={"signature": SIGNATURE_KEY},
        )
        bundle_lib.write_metadata(staging, metadata)
    return metadata


def run_saved_model(model_path, specs, feeds):
    """Outputs of a reloaded SavedModel's serving signature, as a list of arrays."""
    loaded = tf.saved_model.load(model_path)
    signature = loaded.signatures[SIGNATURE_KEY]
    results = signature(**{spec.name: tf.constant(array) for spec, array in zip(specs, feeds)})
    names = _signature.output_names(len(results))
    return [results[name].numpy() for name in names]


# TensorFlow reports failed writes as its own errors, often with no message at all
# (a full disk is a bare ResourceExhaustedError): the OS errors they stand for.
_TF_WRITE_ERRORS = {
    "ResourceExhaustedError": (OSError, errno.ENOSPC),
    "PermissionDeniedError": (PermissionError, errno.EACCES),
    "NotFoundError": (FileNotFoundError, errno.ENOENT),
}


def _write_saved_model(generator, function, model_path):
    archive = keras.export.ExportArchive()
    if isinstance(generator, (keras.Layer, tf.Module)):
        archive.track(generator)
    archive.add_endpoint(name=SIGNATURE_KEY, fn=function)
    try:
        archive.write_out(model_path, verbose=False)
    except tf.errors.OpError as error:
        kind, code = _TF_WRITE_ERRORS.get(type(error).__name__, (OSError, None))
        if code is not None:
            os_error = kind(code, os.strerror(code))
        else:
            message = (error.message or "").strip().splitlines()
            os_error = OSError(f"TensorFlow could not write it ({type(error).__name__}"
                               f"{': ' + message[0] if message else ''})")
        raise _atomic.write_error(os_error, model_path) from None
