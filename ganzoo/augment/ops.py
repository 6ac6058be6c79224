"""Pure, differentiable image operations behind ganzoo's augmentations.

Every function takes a batch of float images `(B, H, W, C)` and explicit per-image
parameters (no randomness here), and is differentiable with respect to the images, so a
generator can be trained through it. `DiffAugment` and `ADA` only draw the parameters.

Coordinates: `x` is the column, `y` the row, both in pixels. Geometric matrices act on
*centred* pixel coordinates `(x - (W - 1) / 2, y - (H - 1) / 2, 1)`, as in Karras et al.
2020 ("Training Generative Adversarial Networks with Limited Data", reference code
NVlabs/stylegan2-ada-pytorch `training/augment.py`). Colour matrices act on `(r, g, b, 1)`.
"""

import math

import numpy as np
import tensorflow as tf

# The luma axis of the colour ops: the grey diagonal of RGB space, normalised.
LUMA_AXIS = np.array([1.0, 1.0, 1.0, 0.0]) / math.sqrt(3.0)


def _per_image(values, images, dtype=tf.float32):
    """`values` (a scalar or `(B,)`) shaped `(B, 1, 1, 1)` for broadcasting over images."""
    values = tf.cast(values, dtype)
    return tf.reshape(values, [-1, 1, 1, 1]) * tf.ones([tf.shape(images)[0], 1, 1, 1], dtype)


# -- DiffAugment's ops (Zhao et al. 2020) ----------------------------------------------


def brightness(images, magnitudes):
    """Add `magnitudes[b]` to every value of image `b`."""
    return images + _per_image(magnitudes, images)


def saturation(images, factors):
    """Scale each pixel's channels around that pixel's channel mean by `factors[b]`."""
    mean = tf.reduce_mean(images, axis=3, keepdims=True)
    return (images - mean) * _per_image(factors, images) + mean


def contrast(images, factors):
    """Scale every value of image `b` around the image's mean by `factors[b]`."""
    mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
    return (images - mean) * _per_image(factors, images) + mean


def _shift_axis(images, shifts, axis):
    """Move the content of each image by `shifts[b]` pixels along `axis` (1: rows, 2:
    columns), zeros entering."""
    size = tf.shape(images)[axis]
    positions = tf.range(size)[tf.newaxis, :]
    sources = positions - tf.reshape(tf.cast(shifts, tf.int32), [-1, 1])  # (B, size)
    inside = (sources >= 0) & (sources < size)
    moved = tf.gather(images, tf.clip_by_value(sources, 0, size - 1), axis=axis, batch_dims=1)
    mask_shape = [-1, 1, 1, 1]
    mask_shape[axis] = size
    return moved * tf.reshape(tf.cast(inside, images.dtype), mask_shape)


def translate(images, dx, dy):
    """Move image `b`'s content right by `dx[b]` and down by `dy[b]` whole pixels (ints,
    negative moves left / up), filling what enters with zeros:
    `out[b, y, x] = images[b, y - dy[b], x - dx[b]]`, or 0 outside the image."""
    images = _shift_axis(images, dx, axis=2)
    return _shift_axis(images, dy, axis=1)


def cutout(images, cx, cy, size):
    """Zero a `size` square (int, or `(height, width)`) of image `b` centred at column
    `cx[b]`, row `cy[b]`: rows `[cy - h // 2, cy - h // 2 + h)` and columns likewise,
    clipped at the borders (DiffAugment's convention)."""
    if isinstance(size, (tuple, list)):
        height, width = size
    else:
        height = width = size
    rows = tf.range(tf.shape(images)[1])[tf.newaxis, :]
    cols = tf.range(tf.shape(images)[2])[tf.newaxis, :]
    top = tf.reshape(tf.cast(cy, tf.int32), [-1, 1]) - height // 2
    left = tf.reshape(tf.cast(cx, tf.int32), [-1, 1]) - width // 2
    in_rows = (rows >= top) & (rows < top + height)  # (B, H)
    in_cols = (cols >= left) & (cols < left + width)  # (B, W)
    hole = in_rows[:, :, tf.newaxis] & in_cols[:, tf.newaxis, :]
    return images * tf.cast(~hole, images.dtype)[..., tf.newaxis]


# -- geometric matrices (3x3, centred pixel coordinates) --------------------------------


def _matrix(rows, batch):
    """Stack a nested list of scalars / `(B,)` tensors into `(B, n, n)` matrices."""
    entries = [
        tf.broadcast_to(tf.cast(entry, tf.float32), [batch]) for row in rows for entry in row
    ]
    return tf.reshape(tf.stack(entries, axis=-1), [batch, len(rows), len(rows)])


def _batch_of(*values):
    for value in values:
        value = tf.convert_to_tensor(value)
        if value.shape.rank:
            return tf.shape(value)[0]
    return 1


def translate2d(tx, ty):
    """`(B, 3, 3)` matrices translating by `(tx, ty)`."""
    batch = _batch_of(tx, ty)
    return _matrix([[1, 0, tx], [0, 1, ty], [0, 0, 1]], batch)


def scale2d(sx, sy):
    """`(B, 3, 3)` matrices scaling x by `sx` and y by `sy`."""
    batch = _batch_of(sx, sy)
    return _matrix([[sx, 0, 0], [0, sy, 0], [0, 0, 1]], batch)


def rotate2d(theta):
    """`(B, 3, 3)` matrices rotating by `theta` radians (from +x towards +y)."""
    theta = tf.cast(theta, tf.float32)
    cos, sin = tf.cos(theta), tf.sin(theta)
    return _matrix([[cos, -sin, 0], [sin, cos, 0], [0, 0, 1]], _batch_of(theta))


def rotate90_2d(quarters):
    """`rotate2d(quarters * pi / 2)` with exact entries (0, 1, -1) for integer `quarters`,
    so 90-degree rotations resample without any interpolation."""
    quarters = tf.math.floormod(tf.cast(tf.round(tf.cast(quarters, tf.float32)), tf.int32), 4)
    cos = tf.gather(tf.constant([1.0, 0.0, -1.0, 0.0]), quarters)
    sin = tf.gather(tf.constant([0.0, 1.0, 0.0, -1.0]), quarters)
    return _matrix([[cos, -sin, 0], [sin, cos, 0], [0, 0, 1]], _batch_of(quarters))


# -- colour matrices (4x4 on (r, g, b, 1)) ----------------------------------------------


def translate3d(tx, ty, tz):
    """`(B, 4, 4)` matrices adding `(tx, ty, tz)` to (r, g, b)."""
    batch = _batch_of(tx, ty, tz)
    return _matrix([[1, 0, 0, tx], [0, 1, 0, ty], [0, 0, 1, tz], [0, 0, 0, 1]], batch)


def scale3d(sx, sy, sz):
    """`(B, 4, 4)` matrices scaling (r, g, b) by `(sx, sy, sz)`."""
    batch = _batch_of(sx, sy, sz)
    return _matrix([[sx, 0, 0, 0], [0, sy, 0, 0], [0, 0, sz, 0], [0, 0, 0, 1]], batch)


def _luma_outer():
    return tf.constant(np.outer(LUMA_AXIS, LUMA_AXIS), tf.float32)


def luma_flip3d(flips):
    """`(B, 4, 4)` Householder reflections through the plane orthogonal to the luma axis
    where `flips[b]` is 1, the identity where it is 0: `I - 2 v v^T flips`."""
    flips = tf.reshape(tf.cast(flips, tf.float32), [-1, 1, 1])
    return tf.eye(4) - 2.0 * _luma_outer() * flips


def rotate3d(theta, axis=LUMA_AXIS):
    """`(B, 4, 4)` rotations of (r, g, b) by `theta` radians about the unit `axis`
    (the luma axis by default): the hue rotation."""
    theta = tf.cast(theta, tf.float32)
    vx, vy, vz = (float(axis[i]) for i in range(3))
    s, c = tf.sin(theta), tf.cos(theta)
    cc = 1.0 - c
    rows = [
        [vx * vx * cc + c, vx * vy * cc - vz * s, vx * vz * cc + vy * s, 0],
        [vy * vx * cc + vz * s, vy * vy * cc + c, vy * vz * cc - vx * s, 0],
        [vz * vx * cc - vy * s, vz * vy * cc + vx * s, vz * vz * cc + c, 0],
        [0, 0, 0, 1],
    ]
    return _matrix(rows, _batch_of(theta))


def saturate3d(factors):
    """`(B, 4, 4)` matrices scaling the chroma (the component orthogonal to the luma
    axis) by `factors[b]`: `v v^T + (I - v v^T) s`, written `I + (s - 1)(I - v v^T)` so
    that `s = 1` gives exactly the identity."""
    factors = tf.reshape(tf.cast(factors, tf.float32), [-1, 1, 1])
    return tf.eye(4) + (factors - 1.0) * (tf.eye(4) - _luma_outer())


# -- applying the matrices ---------------------------------------------------------------


def _reflect(index, size):
    """Map integer pixel indices onto [0, size) by reflection about the edge pixels
    (numpy's and PyTorch's "reflect": ... c b | a b c d | c b ...)."""
    period = tf.maximum(2 * (size - 1), 1)
    index = tf.math.floormod(index, period)
    return tf.where(index >= size, period - index, index)


def warp(images, matrices):
    """Resample each image through its `(3, 3)` affine matrix, bilinearly, with
    reflection outside the image.

    `matrices[b]` maps an *output* pixel's centred coordinates `(x - (W-1)/2,
    y - (H-1)/2, 1)` to the centred input position it samples (the inverse of the
    transformation applied to the content; its last row must be `0 0 1`). The sampling is
    written with `gather`, so TensorFlow's gradient is the exact adjoint of the
    resampling (the registered gradient of `ImageProjectiveTransformV3` instead warps the
    output gradient by the inverse matrix, which is not the adjoint of bilinear sampling
    with reflection). Identity matrices return the images exactly, as do integer
    translations, flips and 90-degree rotations (every sample lands on a pixel centre).

    Args:
        images: float `(B, H, W, C)`.
        matrices: float `(B, 3, 3)`.
    """
    shape = tf.shape(images)
    batch, height, width, channels = shape[0], shape[1], shape[2], shape[3]
    centre_x = (tf.cast(width, tf.float32) - 1.0) / 2.0
    centre_y = (tf.cast(height, tf.float32) - 1.0) / 2.0
    rows, cols = tf.meshgrid(tf.range(height), tf.range(width), indexing="ij")
    points = tf.stack([
        tf.reshape(tf.cast(cols, tf.float32) - centre_x, [-1]),
        tf.reshape(tf.cast(rows, tf.float32) - centre_y, [-1]),
        tf.ones([height * width]),
    ])  # (3, H*W)
    sources = tf.einsum("bij,jn->bin", tf.cast(matrices, tf.float32)[:, :2, :], points)
    source_x = sources[:, 0] + centre_x  # (B, H*W)
    source_y = sources[:, 1] + centre_y
    x0 = tf.floor(source_x)
    y0 = tf.floor(source_y)
    weight_x = (source_x - x0)[..., tf.newaxis]
    weight_y = (source_y - y0)[..., tf.newaxis]
    x0 = tf.cast(x0, tf.int32)
    y0 = tf.cast(y0, tf.int32)
    flat = tf.reshape(images, [batch, height * width, channels])

    def sample(y, x):
        index = _reflect(y, height) * width + _reflect(x, width)
        return tf.gather(flat, index, axis=1, batch_dims=1)

    top = sample(y0, x0) * (1.0 - weight_x) + sample(y0, x0 + 1) * weight_x
    bottom = sample(y0 + 1, x0) * (1.0 - weight_x) + sample(y0 + 1, x0 + 1) * weight_x
    out = top * (1.0 - weight_y) + bottom * weight_y
    return tf.reshape(out, shape)


def color_transform(images, matrices):
    """Apply `(B, 4, 4)` colour matrices to `(B, H, W, C)` images, C in {1, 3}.

    RGB: `out = M[:3, :3] @ rgb + M[:3, 3]` per pixel. One channel, as the reference code
    does: the matrix is first averaged over its three colour rows, so a grey value `l`
    (standing for `(l, l, l)`) becomes `l * mean_r sum_c M[r, c] + mean_r M[r, 3]`.
    """
    matrices = tf.cast(matrices, tf.float32)
    channels = images.shape[-1]
    if channels == 3:
        linear = matrices[:, :3, :3]
        offset = matrices[:, :3, 3]
        return tf.einsum("bij,bhwj->bhwi", linear, images) + offset[:, tf.newaxis, tf.newaxis, :]
    if channels == 1:
        gain = tf.reduce_mean(tf.reduce_sum(matrices[:, :3, :3], axis=2), axis=1)
        offset = tf.reduce_mean(matrices[:, :3, 3], axis=1)
        return images * _per_image(gain, images) + _per_image(offset, images)
    raise ValueError(f"Colour transforms take 1 or 3 channels. Received: {channels} channels")
