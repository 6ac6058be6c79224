"""Pictures in and out: uint8 conversion, sample grids and PNG files, for apps and scripts.

The functions ganzoo itself uses (sample grids of runs, `ganzoo sample`, the recipes):

```python
images = model.sample(64, seed=0)                  # uint8 NHWC
ganzoo.images.save_png(ganzoo.images.grid(images), "grid.png")
floats = ganzoo.images.from_uint8(images)          # float32 in [-1, 1]
```
"""

from ganzoo._imaging import from_uint8, grid, save_png, to_uint8

__all__ = ["from_uint8", "grid", "save_png", "to_uint8"]
