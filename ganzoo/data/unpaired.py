"""Unpaired image-to-image data: batches `(a, b)` of two domains, drawn independently.

`load_unpaired(data_a, data_b, ...)` is what CycleGAN trains on: each batch holds
`batch_size` images of domain A and `batch_size` images of domain B with nothing pairing
them. Each domain is shuffled on its own (seeds `seed` and `seed + 1`), so which A image
meets which B image changes every epoch.

Data, per domain:

- a bundled texture (`"textures/grass"`, `"textures/gravel"`, `"textures/brick"`):
  random `image_size` crops of the whole 512x512 picture, each flipped left-right and
  upside down with probability 1/2 (the textures are photographed from above, so every
  flip is another plausible patch). An epoch is as many crops as the picture holds
  non-overlapping tiles (64 at 64x64); every crop is new, so the model never sees the
  same 64 tiles again and again. With `augment=False`: the fixed tiles of
  `ganzoo.data.load`.
- a folder of images, another bundled dataset or a TensorFlow Datasets name, loaded by
  `ganzoo.data.load` (same checks, same one-line errors). With `augment=True` (the
  default) the authors' "resize and crop" jitter is applied: images are resized to
  286/256 of `image_size` and a random `image_size` crop is taken, flipped left-right
  with probability 1/2 (Zhu et al. 2017, appendix 7.1).
- `cycle_gan/*` TensorFlow Datasets names (`cycle_gan/horse2zebra`, ...) hold both
  domains: `split="train"` reads `trainA` for domain A and `trainB` for domain B
  (`"test"`: `testA`, `testB`), so `load_unpaired("cycle_gan/horse2zebra")` is
  horses and zebras. `split` may also be a pair `(split_a, split_b)`.

One epoch (without `repeat`) is one pass over the larger domain; the smaller one cycles,
as in the authors' loader. Both domains are converted to the same channel count: the
given `channels`, else RGB when either domain is RGB, else grayscale.

Example:

```python
data = ganzoo.data.load_unpaired("textures/grass", "textures/gravel", image_size=64,
                                 batch_size=4, seed=0)
grass, gravel = next(iter(data))   # two (4, 64, 64, 1) float32 batches in [-1, 1]
```
"""

import numpy as np

from ganzoo.data import bundled as _bundled
from ganzoo.data import loading
from ganzoo.data._common import data_error, normalize_image_size

# The authors' jitter: resize 256x256 training images to 286x286, crop 256x256 back.
JITTER_RATIO = 286 / 256
_DOMAIN_SPLITS = {"train": ("trainA", "trainB"), "test": ("testA", "testB")}


def load_unpaired(data_a, data_b=None, *, image_size=256, batch_size=1, seed=None,
                  repeat=False, split="train", channels=None, shuffle=True, augment=True,
                  cache=True):
    """Batches `(a, b)` of images of two domains, unpaired, scaled to [-1, 1].

    Args:
        data_a: str or path. Domain A: a bundled texture, another bundled dataset, a
            folder of images or a TensorFlow Datasets name (see the module docstring).
        data_b: str, path or None. Domain B, the same kinds. None only for `cycle_gan/*`
            names: domain B is then the B half of `data_a`.
        image_size: int or (height, width). Size of the yielded images. Defaults to 256
            as in the paper.
        batch_size: int. Images per domain and batch; incomplete last batches are dropped.
            Defaults to 1 as in the paper.
        seed: int or None. Seeds the shuffles, crops and flips (domain B uses `seed + 1`).
        repeat: bool. Repeat forever, for step-based training. Defaults to False.
        split: str or (str, str). `"train"` or `"test"` (for `cycle_gan/*` names the A and
            B halves), any split either domain's data knows, or one split per domain.
        channels: 1, 3 or None. Channels of both domains; None: RGB if either domain is
            RGB, else grayscale.
        shuffle: bool. Shuffle each domain, anew each epoch. Defaults to True.
        augment: bool. Random crops and flips (see the module docstring). Defaults to True.
        cache: bool. Cache the decoded images in memory where they fit. Defaults to True.

    Returns:
        A `tf.data.Dataset` of `(a, b)` pairs of float32 NHWC batches in [-1, 1].

    Raises:
        ValueError: one line naming the data, for the errors of `ganzoo.data.load`, a
            missing domain B, a texture crop larger than the texture, or fewer images
            than `batch_size` in the larger domain.
    """
    import tensorflow as tf

    size = normalize_image_size(image_size)
    if size is None:
        raise ValueError("load_unpaired needs an image_size. Received: image_size=None")
    domain_data, splits = _domains(data_a, data_b, split)
    if channels is None:
        native = [_native_channels(side_data, side_split)
                  for side_data, side_split in zip(domain_data, splits)]
        channels = 3 if 3 in native else 1
    elif channels not in (1, 3):
        raise data_error(data_a, f"channels must be 1, 3 or None; received {channels!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise data_error(data_a, f"batch_size must be a positive int; received {batch_size!r}")
    seeds = (seed, None if seed is None else seed + 1)
    domains = []
    for side_data, side_split, side_seed in zip(domain_data, splits, seeds):
        domains.append(_domain(tf, side_data, side_split, size, channels, side_seed,
                               shuffle, augment, cache))
    (images_a, count_a), (images_b, count_b) = domains
    known = [count for count in (count_a, count_b) if count is not None]
    if known and max(known) < batch_size:
        raise data_error(
            domain_data[0] if count_a == max(known) else domain_data[1],
            f"has {max(known)} images, fewer than batch_size={batch_size} (the larger "
            f"domain sets the epoch and incomplete batches are dropped); use a smaller "
            f"batch_size",
        )
    if repeat:
        images_a, images_b = images_a.repeat(), images_b.repeat()
    elif count_a is not None and count_b is not None:
        # One epoch is one pass over the larger domain; the smaller one cycles.
        if count_a < count_b:
            images_a = images_a.repeat()
        elif count_b < count_a:
            images_b = images_b.repeat()
    pairs = tf.data.Dataset.zip((images_a, images_b))
    return pairs.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def describe_unpaired(data_a, data_b=None, split="train", image_size=None):
    """How many `(a, b)` pairs one epoch holds, and the channels, without loading images.

    Args:
        data_a, data_b, split: as in `load_unpaired`.
        image_size: int, (height, width) or None: the crop size, which sets how many crops
            an epoch of a texture holds. Defaults to 64.

    Returns:
        A dict: `num_examples` (pairs per epoch: the larger domain's count, or None when
        a count is unknown), `num_examples_a`, `num_examples_b`, `channels` (RGB when
        either domain is RGB, else 1).
    """
    size = normalize_image_size(image_size) or _bundled.TEXTURE_PATCH
    domain_data, splits = _domains(data_a, data_b, split)
    counts, native = [], []
    for side_data, side_split in zip(domain_data, splits):
        if _is_texture(side_data):
            counts.append(_texture_epoch(side_data, size))
            native.append(1)
        else:
            description = loading.describe(side_data, side_split)
            counts.append(description["num_examples"])
            native.append(description["channels"])
    return {
        "num_examples": None if None in counts else max(counts),
        "num_examples_a": counts[0],
        "num_examples_b": counts[1],
        "channels": 3 if 3 in native else 1,
    }


def _is_texture(data):
    return isinstance(data, str) and data in _bundled.BUNDLED_NAMES \
        and data.startswith("textures/")


def _is_cycle_gan(data):
    return isinstance(data, str) and data.split(":")[0].startswith("cycle_gan/")


def _domains(data_a, data_b, split):
    """((data_a, data_b), (split_a, split_b)) with the cycle_gan halves resolved."""
    if data_b is None:
        if not _is_cycle_gan(data_a):
            raise data_error(
                data_a,
                "is one domain; give the other as data_b (--data-b), or use a "
                "cycle_gan/* TensorFlow Datasets name, which holds both",
            )
        data_b = data_a
    if isinstance(split, (tuple, list)):
        if len(split) != 2 or not all(isinstance(part, str) for part in split):
            raise data_error(data_a,
                             f"split must be a str or a pair of str; received {split!r}")
        return (data_a, data_b), tuple(split)
    if not isinstance(split, str):
        raise data_error(data_a, f"split must be a str or a pair of str; received {split!r}")
    splits = []
    for index, side_data in enumerate((data_a, data_b)):
        if _is_cycle_gan(side_data) and split in _DOMAIN_SPLITS:
            splits.append(_DOMAIN_SPLITS[split][index])
        else:
            splits.append(split)
    return (data_a, data_b), tuple(splits)


def _native_channels(data, split):
    if _is_texture(data):
        return 1
    return loading.describe(data, split)["channels"]


def _texture_epoch(data, size):
    picture = _bundled.texture_picture(data)
    return (picture.shape[0] // size[0]) * (picture.shape[1] // size[1])


def _domain(tf, data, split, size, channels, seed, shuffle, augment, cache):
    """(unbatched dataset of one epoch of float32 HWC images, images per epoch or None)."""
    if _is_texture(data) and augment:
        if split not in _bundled.SINGLE_SPLITS:
            raise data_error(
                data, f"unknown split {split!r}; expected one of {list(_bundled.SINGLE_SPLITS)}"
            )
        return _texture_crops(tf, data, size, channels, seed), _texture_epoch(data, size)
    load_size = size
    if augment:
        load_size = tuple(int(round(side * JITTER_RATIO)) for side in size)
    images = loading.load(data, image_size=load_size, batch_size=1, split=split,
                           channels=channels, shuffle=shuffle, seed=seed, cache=cache)
    count = int(images.cardinality())
    images = images.unbatch()
    if augment:
        images = _random_crops(tf, images, size, channels, seed, vertical_flips=False)
    return images, (count if count >= 0 else None)


def _seed_pairs(tf, seed):
    """An endless dataset of stateless seeds (2,), drawn anew each epoch."""
    return tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)


def _crop_and_flip(tf, image, crop_shape, seed, vertical_flips):
    image = tf.image.stateless_random_crop(image, crop_shape, seed=seed)
    image = tf.image.stateless_random_flip_left_right(image, seed=seed + [0, 1])
    if vertical_flips:
        image = tf.image.stateless_random_flip_up_down(image, seed=seed + [0, 2])
    return image


def _random_crops(tf, images, size, channels, seed, vertical_flips):
    crop_shape = (size[0], size[1], channels)
    pairs = tf.data.Dataset.zip((images, _seed_pairs(tf, seed)))
    return pairs.map(
        lambda image, pair: _crop_and_flip(tf, image, crop_shape, pair, vertical_flips),
        num_parallel_calls=tf.data.AUTOTUNE,
    )


def _texture_crops(tf, data, size, channels, seed):
    """One epoch of random crops (with flips both ways) of a bundled texture."""
    picture = _bundled.texture_picture(data)
    if size[0] > picture.shape[0] or size[1] > picture.shape[1]:
        raise data_error(
            data,
            f"image_size={size} is larger than its {picture.shape[0]}x{picture.shape[1]} "
            f"picture; use a smaller image_size",
        )
    whole = tf.constant(picture, tf.float32) / 127.5 - 1.0
    if channels == 3:
        whole = tf.image.grayscale_to_rgb(whole)
    crop_shape = (size[0], size[1], channels)
    crops = _seed_pairs(tf, seed).take(_texture_epoch(data, size))
    return crops.map(lambda pair: _crop_and_flip(tf, whole, crop_shape, pair, True),
                     num_parallel_calls=tf.data.AUTOTUNE)
