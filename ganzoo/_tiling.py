"""Tiled application of an image -> image function, with overlap and blending.

A super-resolution generator's activations grow with the image: SRGAN at x4 holds maps of
64 channels at 2x and 4x the input size, about 4 GB of float32 for a 512x512 input run
whole. `tiled_map` runs the function on overlapping tiles of a fixed size instead, so the
memory it needs is that of one tile plus the output, whatever the image size.

Seams: the tiles are spread evenly and neighbours share at least `overlap` input pixels.
Each tile's output is weighted by its distance to the edges where the image was cut for
it: 0 within `overlap / 4` input pixels of a cut edge, rising linearly to 1 at
`3 * overlap / 4`; the weighted results are summed and divided by the summed weights. The
weights are continuous, so the result moves smoothly from one tile to the next, and every
output pixel only comes from tiles in which it lies at least `overlap / 4` input pixels
away from any cut edge: for a network whose receptive field reaches no further than that,
the tiled result equals the untiled one (up to float rounding); beyond that the blend
hides the small differences zero padding at a cut makes. Edges of the image itself are not
cut and get full weight.

NumPy only (the TensorFlow-free runtime uses it too): `ganzoo.models.SRGAN.upscale` and
`ganzoo.runtime.SuperResolver.upscale` both call it, so a model and its exported bundle
tile the same way.
"""

import numpy as np

# Input pixels per tile side and between neighbouring tiles, by default.
DEFAULT_TILE_SIZE = 128
DEFAULT_OVERLAP = 32


def check_tiling(tile_size, overlap):
    """(tile_size, overlap) as ints, defaults filled in, or one ValueError."""
    tile_size = DEFAULT_TILE_SIZE if tile_size is None else tile_size
    overlap = DEFAULT_OVERLAP if overlap is None else overlap
    for name, value in (("tile_size", tile_size), ("overlap", overlap)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"{name} must be an int. Received: {name}={value!r}")
    if tile_size < 1 or overlap < 0 or overlap >= tile_size:
        raise ValueError(
            "tile_size must be positive and overlap in [0, tile_size). "
            f"Received: tile_size={tile_size}, overlap={overlap}"
        )
    return int(tile_size), int(overlap)


def tile_starts(length, tile_size, overlap):
    """Start offsets of the fewest tiles of `tile_size` (at most `length`) that cover
    [0, length) with neighbours sharing at least `overlap` pixels, evenly spread: the
    first starts at 0, the last ends at `length`."""
    size = min(tile_size, length)
    if size == length:
        return [0]
    count = -(-(length - overlap) // (tile_size - overlap))
    count = max(count, 2)
    return [int(round(i * (length - size) / (count - 1))) for i in range(count)]


def _edge_weights(size, scale, overlap, cut_low, cut_high):
    """1-D weights of a tile's `size * scale` output pixels: 0 within overlap/4 input
    pixels of a cut edge, rising linearly to 1 at 3/4 overlap from it."""
    position = (np.arange(size * scale, dtype=np.float32) + 0.5) / scale
    weights = np.ones(size * scale, np.float32)
    if overlap == 0:
        return weights
    ramp = lambda distance: np.clip((distance - overlap / 4) / (overlap / 2), 0.0, 1.0)
    if cut_low:
        weights = np.minimum(weights, ramp(position))
    if cut_high:
        weights = np.minimum(weights, ramp(size - position))
    return weights


def tiled_map(function, image, scale, tile_size=None, overlap=None):
    """Apply `function` to overlapping tiles of `image` and blend the results.

    Args:
        function: callable. (1, h, w, C) float32 -> (1, h*scale, w*scale, C_out) array.
        image: float array (H, W, C).
        scale: int. How much `function` enlarges (1 for same-size maps).
        tile_size: int or None. Input pixels per tile side; an image no larger than one
            tile is run whole. Defaults to `DEFAULT_TILE_SIZE` (128).
        overlap: int or None. Input pixels shared by neighbouring tiles. Defaults to
            `DEFAULT_OVERLAP` (32).

    Returns:
        float32 array (H*scale, W*scale, C_out).
    """
    tile_size, overlap = check_tiling(tile_size, overlap)
    image = np.asarray(image, np.float32)
    if image.ndim != 3:
        raise ValueError(f"tiled_map takes one (H, W, C) image. Received: shape={image.shape}")
    height, width = image.shape[:2]
    rows, cols = tile_starts(height, tile_size, overlap), tile_starts(width, tile_size, overlap)
    tile_h, tile_w = min(tile_size, height), min(tile_size, width)
    if len(rows) == 1 and len(cols) == 1:
        return np.asarray(function(image[None]), np.float32)[0]
    out, total = None, np.zeros((height * scale, width * scale, 1), np.float32)
    for row, top in enumerate(rows):
        row_weight = _edge_weights(tile_h, scale, overlap, row > 0, row < len(rows) - 1)
        for col, left in enumerate(cols):
            col_weight = _edge_weights(tile_w, scale, overlap, col > 0, col < len(cols) - 1)
            tile = image[top:top + tile_h, left:left + tile_w][None]
            result = np.asarray(function(tile), np.float32)[0]
            if result.shape[:2] != (tile_h * scale, tile_w * scale):
                raise ValueError(
                    f"The tiled function must return {scale}x its input size: "
                    f"{tile.shape[1:3]} gave {result.shape[:2]}"
                )
            if out is None:
                out = np.zeros((height * scale, width * scale, result.shape[-1]), np.float32)
            weight = (row_weight[:, None] * col_weight[None, :])[..., None]
            y, x = top * scale, left * scale
            out[y:y + tile_h * scale, x:x + tile_w * scale] += result * weight
            total[y:y + tile_h * scale, x:x + tile_w * scale] += weight
    out /= total
    return out
