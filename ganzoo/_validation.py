"""Argument checks shared by the families, layers, sampling and the runtime.

NumPy and the standard library only. Each raises one `ValueError` line that names the
argument and what was received, as keras-hub does: "image_shape must be (height, width,
channels). Received: ...", "n must be a positive integer. Received: n=2.7".
"""

import numpy as np


def check_image_shape(image_shape, min_size=1, channels=(1, 3)):
    """`(height, width, channels)` as a tuple of ints, or one clear error.

    Args:
        image_shape: sequence of three positive ints.
        min_size: int. Smallest allowed height and width. Defaults to 1.
        channels: tuple of int or None. Allowed channel counts; None allows any.
            Defaults to (1, 3).
    """
    try:
        values = tuple(image_shape)
        if any(isinstance(v, bool) or int(v) != v for v in values):
            raise TypeError
        values = tuple(int(v) for v in values)
    except (TypeError, ValueError):
        raise ValueError(
            f"image_shape must be (height, width, channels). Received: image_shape={image_shape!r}"
        ) from None
    if len(values) != 3 or min(values) < 1:
        raise ValueError(
            f"image_shape must be (height, width, channels). Received: image_shape={image_shape!r}"
        )
    if channels is not None and values[2] not in channels:
        raise ValueError(
            f"image_shape must have {' or '.join(map(str, channels))} channels. "
            f"Received: image_shape={values}"
        )
    if min(values[:2]) < min_size:
        raise ValueError(
            f"Images must be at least {min_size}x{min_size}. Received: image_shape={values}"
        )
    return values


def is_integer(value):
    """True for Python and NumPy integers, never for bools."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_seed(seed, name="seed"):
    """`seed` as a Python int, or None; refuses anything else in one line.

    Accepts None, Python ints and NumPy integer scalars >= 0. Refuses bools, floats
    (even 2.0), strings and negative numbers, which NumPy would reject (or accept) with a
    message that does not name the argument.

    Args:
        seed: the value to check.
        name: str. The argument's name in the message. Defaults to "seed".

    Returns:
        int or None.

    Raises:
        ValueError: "seed must be a non-negative integer or None. Received: seed='abc'".
    """
    if seed is None:
        return None
    if not is_integer(seed) or seed < 0:
        raise ValueError(
            f"{name} must be a non-negative integer or None. Received: {name}={seed!r}"
        )
    return int(seed)


def check_count(n, name="n"):
    """`n` as a positive Python int; refuses bools, floats (2.7 or 3.0), strings and n < 1.

    Args:
        n: the value to check.
        name: str. The argument's name in the message. Defaults to "n".

    Returns:
        int >= 1.

    Raises:
        ValueError: "n must be a positive integer. Received: n=2.7".
    """
    if not is_integer(n) or n < 1:
        raise ValueError(f"{name} must be a positive integer. Received: {name}={n!r}")
    return int(n)


def check_float_values(values, name="latent", role=None):
    """Refuse bool and integer arrays where float values are expected (latents, noise).

    NumPy would cast uint8 pixels or booleans to float silently, and the generator would
    turn them into pictures without a word; say so in one line instead.

    Args:
        values: array-like. The values given for the input.
        name: str. The input's name in the message. Defaults to "latent".
        role: str or None. The input's role, for the message.

    Returns:
        The values as a NumPy array (unchanged when they are floats).

    Raises:
        ValueError: "Input 'latent' (latent) takes floating-point values; uint8 is not
            one (cast explicitly if you mean it). Received: dtype=uint8".
    """
    array = np.asarray(values)
    if array.dtype.kind in "biu":
        what = f"{name!r}" + (f" ({role})" if role and role != name else "")
        hint = (
            "; pass uint8 images only to image inputs, which scale them"
            if array.dtype == np.uint8 else "; cast explicitly if you mean it"
        )
        raise ValueError(
            f"Input {what} takes floating-point values, not {array.dtype}{hint}. "
            f"Received: dtype={array.dtype}, shape={array.shape}"
        )
    return array


def check_shape(shape, name):
    """`shape` as a tuple of positive Python ints; one line naming `name` otherwise."""
    try:
        dims = tuple(shape)
    except TypeError:
        dims = (shape,)
    for dim in dims:
        if not is_integer(dim) or dim < 1:
            raise ValueError(
                f"{name} must be a tuple of positive integers. Received: {name}={shape!r}"
            )
    return tuple(int(dim) for dim in dims)
