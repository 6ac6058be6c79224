"""Mixed precision training: which Keras dtype policy the networks are built with.

Three precisions, by Keras' policy names:

- `"float32"` (the default): everything in float32.
- `"mixed_bfloat16"`: layers compute in bfloat16, variables stay float32.
- `"mixed_float16"`: layers compute in float16, variables stay float32; every optimizer is
  wrapped in `keras.optimizers.LossScaleOptimizer` (dynamic loss scale: a step whose
  gradients overflow is skipped on every replica alike, and the scale halves).

What the papers keep in float32 stays there in every family: the output images and logits
(float32 output layers), the losses, the gradient penalty and R1 (computed on float32
images), path-length regularisation, the tracked mean w; Keras keeps batch-normalisation
statistics in float32.

Presets are always written with float32 weights and configs that say nothing of precision,
so they load into either policy; exported graphs are float32 (`export --fp16` makes float16
bundles). Build a model under a policy with `policy`:

    with ganzoo.precision.policy("mixed_bfloat16"):
        gan = ganzoo.models.DCGAN(image_shape=(32, 32, 1))
    gan.compile()            # float16 would also wrap the optimizers for loss scaling

`ganzoo train --precision P` records the precision in run.json; `--resume` keeps it.
"""

import contextlib

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
DEFAULT = "float32"
# GPUs run bfloat16 from compute capability 8.0 (Ampere), float16 from 5.3.
_MIN_CAPABILITY = {"mixed_float16": (5, 3), "mixed_bfloat16": (8, 0)}


def check(precision):
    """`precision` if it is one of `PRECISIONS`; one ValueError line otherwise."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}. "
                         f"Received: precision={precision!r}")
    return precision


def check_devices(precision, gpus=None):
    """Refuse, in one line, a precision a visible GPU cannot run.

    Args:
        gpus: `[(name, (major, minor)), ...]` or None for TensorFlow's visible GPUs.
    """
    check(precision)
    needed = _MIN_CAPABILITY.get(precision)
    if needed is None:
        return
    if gpus is None:
        gpus = _visible_gpus()
    for name, capability in gpus:
        if capability is not None and tuple(capability) < needed:
            raise ValueError(
                f"{precision} needs a GPU of compute capability {needed[0]}.{needed[1]} or "
                f"more; {name} has {capability[0]}.{capability[1]}: train with "
                "--precision float32" + (" or mixed_float16" if precision ==
                                         "mixed_bfloat16" else ""))


def _visible_gpus():
    # Lazy: TensorFlow is loaded only when a run is about to build its model.
    import tensorflow as tf

    found = []
    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device)
        found.append((details.get("device_name", device.name),
                      details.get("compute_capability")))
    return found


def current():
    """The precision Keras builds layers with now (its global dtype policy's name)."""
    # Lazy: Keras loads TensorFlow, which `import ganzoo.precision` must not.
    import keras

    name = keras.config.dtype_policy().name
    return name if name in PRECISIONS else DEFAULT


@contextlib.contextmanager
def policy(precision):
    """Models built inside use `precision` (Keras' global dtype policy); restored after."""
    # Lazy: Keras loads TensorFlow, which `import ganzoo.precision` must not.
    import keras

    check(precision)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
