"""Training data for ganzoo: one `load` for bundled datasets, TensorFlow Datasets, image
folders and NumPy arrays, all yielding float32 NHWC images in [-1, 1].

Kinds of data:

- bundled datasets that work offline (see `ganzoo.data.bundled`): `"digits"`,
  `"faces"`, `"textures/grass"`, `"textures/gravel"`, `"textures/brick"`, `"photos"`;
- a TensorFlow Datasets name: `"mnist"`, `"cifar10"`, `"celeb_a"`,
  `"cycle_gan/horse2zebra"`, `"div2k/bicubic_x4"`, ... (downloaded on first use; offline,
  one clear `ValueError`; see `ganzoo.data.tfds_source`);
- a path to a folder of images, flat or with one sub-folder per class (see
  `ganzoo.data.folders`);
- NumPy arrays: `images` or `(images, labels)`, uint8 in [0, 255] or float in [-1, 1]
  (other ranges with `value_range=`; see `ganzoo.data.arrays`).

Example:

```python
import ganzoo

data = ganzoo.data.load("digits", image_size=32, batch_size=64)
images = next(iter(data))                       # (64, 32, 32, 1) float32 in [-1, 1]
pairs = ganzoo.data.load("digits", labels=True)  # (images, int32 labels)
ganzoo.data.describe("digits")["num_examples"]   # 1437
```
"""

from ganzoo.data.bundled import BUNDLED_NAMES, digits_arrays
from ganzoo.data.loading import SOURCES, describe, load
from ganzoo.data.super_resolution import describe_super_resolution, load_super_resolution
from ganzoo.data.unpaired import describe_unpaired, load_unpaired

__all__ = ["load", "describe", "load_unpaired", "describe_unpaired", "load_super_resolution",
           "describe_super_resolution", "digits_arrays",
           "BUNDLED_NAMES", "SOURCES"]
