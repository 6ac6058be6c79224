"""Argument checks shared by the model families and layers (standard library only).

Each raises one `ValueError` line that names the argument and what was received, as
keras-hub does: "image_shape must be (height, width, channels). Received: ...". Integer
counts and seeds are checked by `ganzoo._sampling.check_count` / `check_seed`.
"""


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
