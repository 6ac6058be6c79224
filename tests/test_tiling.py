"""ganzoo._tiling: tiled application of image -> image functions (NumPy only).

Hand computations: nearest-neighbour enlargement and box filters, whose values at every
pixel are known, run tiled and whole.
"""

import subprocess
import sys

import numpy as np
import pytest

from ganzoo import _tiling


def enlarge(scale):
    """Nearest-neighbour enlargement of (1, H, W, C) batches: every pixel its own value."""
    return lambda tiles: np.repeat(np.repeat(tiles, scale, axis=1), scale, axis=2)


def box_filter(radius):
    """Mean over a (2r+1)^2 window with zero padding: reaches `radius` pixels."""

    def apply(tiles):
        padded = np.pad(tiles, ((0, 0), (radius, radius), (radius, radius), (0, 0)))
        height, width = tiles.shape[1:3]
        total = np.zeros_like(tiles)
        for dy in range(2 * radius + 1):
            for dx in range(2 * radius + 1):
                total += padded[:, dy:dy + height, dx:dx + width]
        return total / (2 * radius + 1) ** 2

    return apply


def image(height, width, channels=3, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (height, width, channels)).astype("float32")


def test_tiles_cover_the_axis_evenly_and_share_at_least_the_overlap():
    for length in (1, 40, 128, 129, 200, 257, 512, 1000):
        starts = _tiling.tile_starts(length, 128, 32)
        size = min(128, length)
        assert starts[0] == 0 and starts[-1] + size == length
        shared = [a + size - b for a, b in zip(starts, starts[1:])]
        assert all(s >= 32 for s in shared), (length, starts)
    assert _tiling.tile_starts(512, 128, 32) == [0, 96, 192, 288, 384]


@pytest.mark.parametrize("scale", [1, 4])
def test_a_pointwise_function_gives_the_untiled_result_exactly(scale):
    picture = image(150, 97)
    tiled = _tiling.tiled_map(enlarge(scale), picture, scale, tile_size=40, overlap=12)
    np.testing.assert_allclose(tiled, enlarge(scale)(picture[None])[0], atol=1e-6)


def test_a_filter_within_a_quarter_of_the_overlap_gives_the_untiled_result():
    picture = image(120, 90)
    whole = box_filter(3)(picture[None])[0]
    tiled = _tiling.tiled_map(box_filter(3), picture, 1, tile_size=40, overlap=16)
    np.testing.assert_allclose(tiled, whole, atol=1e-5)
    # Reaching beyond overlap / 4 the cut edges show, a little, blended.
    wider = _tiling.tiled_map(box_filter(3), picture, 1, tile_size=40, overlap=8)
    assert 1e-3 < np.abs(wider - whole).max() < 0.2


def test_a_filter_reaching_exactly_a_quarter_of_the_overlap_gives_the_untiled_result():
    # The limit itself: a pixel gets weight only from tiles in which its window of
    # radius overlap / 4 lies whole, so no zero padding at a cut edge reaches it.
    picture = image(90, 70)
    whole = box_filter(4)(picture[None])[0]
    tiled = _tiling.tiled_map(box_filter(4), picture, 1, tile_size=40, overlap=16)
    np.testing.assert_allclose(tiled, whole, atol=1e-5)


# Two tiles of 16 pixels sharing 8 (starts 0 and 8 on an axis of 24): in the shared
# pixels 8..15 each tile's weight is clip((d - 8/4) / (8/2), 0, 1) at the distance d from
# its cut edge to the pixel's centre (pixel k's centre is k + 0.5): the first tile's far
# edge is at 16, the second tile's near edge at 8. So at pixels 8..15 the first tile
# weighs 1, 1, 7/8, 5/8, 3/8, 1/8, 0, 0 and the second 0, 0, 1/8, 3/8, 5/8, 7/8, 1, 1.
_SECOND_TILE_SHARE = [0.0] * 8 + [0, 0, 1 / 8, 3 / 8, 5 / 8, 7 / 8, 1, 1] + [1.0] * 8


@pytest.mark.parametrize("axis", [0, 1])
def test_the_blend_weights_across_a_cut_are_the_hand_computed_ramps(axis):
    # Each tile returns its first pixel's value everywhere: 0 for the first tile, 8 for
    # the second, so the result / 8 is the second tile's share of the blend per pixel.
    positions = np.arange(24, dtype=np.float32)
    picture = np.broadcast_to(positions[:, None] if axis == 0 else positions[None, :],
                              (24, 24))[..., None]

    def first_pixel(tiles):
        return np.full_like(tiles, tiles[0, 0, 0, 0])

    result = _tiling.tiled_map(first_pixel, picture, 1, tile_size=16, overlap=8)
    share = result[:, 0, 0] if axis == 0 else result[0, :, 0]
    np.testing.assert_allclose(share / 8, _SECOND_TILE_SHARE, atol=1e-6)
    # The same in every row (or column) across the cut.
    np.testing.assert_allclose(result, np.broadcast_to(
        share[:, None, None] if axis == 0 else share[None, :, None], result.shape))


def test_no_seam_a_function_that_sees_cut_edges_is_blended_smoothly():
    # A function that marks every tile's border: without blending the border rows would
    # show as lines; with it each output pixel comes from a tile in which it is far from
    # the cut, so no border mark reaches the result except at the image's own edges.
    def marks_border(tiles):
        out = np.zeros_like(tiles)
        out[:, :2], out[:, -2:], out[:, :, :2], out[:, :, -2:] = 1, 1, 1, 1
        return out

    result = _tiling.tiled_map(marks_border, image(100, 100), 1, tile_size=40, overlap=16)
    assert np.all(result[2:-2, 2:-2] == 0)


def test_a_small_image_runs_whole_in_one_call():
    calls = []

    def record(tiles):
        calls.append(tiles.shape)
        return tiles

    _tiling.tiled_map(record, image(30, 50), 1, tile_size=64)
    assert calls == [(1, 30, 50, 3)]


def test_bad_tiling_arguments_are_one_line_errors():
    for kwargs, name in [(dict(tile_size=0), "tile_size"), (dict(overlap=-1), "overlap"),
                         (dict(tile_size=16, overlap=16), "overlap"),
                         (dict(tile_size=2.5), "tile_size")]:
        with pytest.raises(ValueError, match=name) as error:
            _tiling.tiled_map(enlarge(2), image(8, 8), 2, **kwargs)
        assert "\n" not in str(error.value)


def test_a_function_of_the_wrong_size_is_refused():
    with pytest.raises(ValueError, match="4x its input size"):
        _tiling.tiled_map(enlarge(2), image(100, 100), 4, tile_size=40, overlap=8)


def test_tiling_imports_no_tensorflow():
    code = "import ganzoo._tiling, sys; print('tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"
