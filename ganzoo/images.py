"""Pictures in and out: uint8 conversion, sample grids and PNG files, for apps and scripts.

The functions ganzoo itself uses (sample grids of runs, `ganzoo sample`, `ganzoo mix`,
the recipes):

```python
images = model.sample(64, seed=0)                  # uint8 NHWC
ganzoo.images.save_png(ganzoo.images.grid(images), "grid.png")
floats = ganzoo.images.from_uint8(images)          # float32 in [-1, 1]
mix = stylegan.mix(rows=[1, 2, 3], columns=[4, 5, 6])   # a ganzoo._walks.StyleMix
ganzoo.images.save_png(ganzoo.images.mixing_grid(mix), "mixing.png")
```
"""

import numpy as np

from ganzoo._imaging import from_uint8, grid, save_png, to_uint8

__all__ = ["from_uint8", "grid", "mixing_grid", "save_png", "to_uint8"]


def mixing_grid(mix, padding=2, pad_value=0):
    """Lay a style-mixing figure out as Karras et al. (2019, figure 3) do: one HWC picture.

    The top row holds the column sources (after an empty corner), the left column the
    row sources, and cell (i, j) the picture with row i's coarse styles and column j's
    fine ones.

    Args:
        mix: `StyleMix` (from `mix(...)` on a stylegan_lite model or bundle), or any
            `(rows, columns, mixed)`: uint8 `(R, H, W, C)`, `(K, H, W, C)` and
            `(R, K, H, W, C)`.
        padding: int. Pixels between pictures. Defaults to 2.
        pad_value: int. Value of the padding (and of the corner). Defaults to 0.

    Returns:
        uint8 array `(H', W', C)`, for `save_png`.
    """
    rows, columns, mixed = (np.asarray(part) for part in mix)
    if rows.ndim != 4 or columns.ndim != 4 or mixed.shape != (
            (len(rows), len(columns)) + rows.shape[1:]) or columns.shape[1:] != rows.shape[1:]:
        raise ValueError(
            "mixing_grid takes rows (R, H, W, C), columns (K, H, W, C) and mixed "
            f"(R, K, H, W, C). Received: shapes {rows.shape}, {columns.shape}, {mixed.shape}")
    corner = np.full((1,) + rows.shape[1:], pad_value, rows.dtype)
    tiles = [corner, columns]
    for source, cells in zip(rows, mixed):
        tiles += [source[None], cells]
    return grid(np.concatenate(tiles), columns=len(columns) + 1, padding=padding,
                pad_value=pad_value)
