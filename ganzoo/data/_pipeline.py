"""The `tf.data` pipeline all data goes through: scale, convert, resize, cache,
shuffle, repeat, batch, prefetch."""

import tensorflow as tf

from ganzoo.data._common import VALID_CHANNELS, data_error

# Datasets whose preprocessed images fit in this many bytes are cached in memory.
CACHE_LIMIT_BYTES = 2 * 1024**3
# Shuffle buffer for streamed (TensorFlow Datasets) data; in-memory data is shuffled
# over every example.
STREAM_SHUFFLE_BUFFER = 10_000


def from_arrays(data, arrays, labels, **options):
    """Build the training dataset of an in-memory `ImageArrays`.

    Args:
        data: what the user passed as `data`, for error messages.
        arrays: an `ImageArrays`.
        labels: bool. Whether to yield `(images, labels)` pairs.
        **options: the `finish` options (image_size, channels, batch_size, shuffle, seed,
            cache, repeat).
    """
    if labels and arrays.labels is None:
        raise data_error(data, "has no labels; load it with labels=False")
    if labels:
        elements = tf.data.Dataset.from_tensor_slices((arrays.images, arrays.labels))
    else:
        elements = tf.data.Dataset.from_tensor_slices((arrays.images,))
    return finish(
        data, elements, num_examples=len(arrays.images), in_memory=True, **options
    )


def finish(
    data,
    elements,
    *,
    num_examples,
    in_memory,
    image_size,
    channels,
    batch_size,
    shuffle,
    seed,
    cache,
    repeat,
):
    """Turn a dataset of `(image,)` or `(image, label)` tuples into training batches.

    Args:
        data: what the user passed as `data`, for error messages.
        elements: `tf.data.Dataset` of 1-tuples `(image,)` or pairs `(image, label)`; images
            HWC uint8 in [0, 255] or float in [-1, 1].
        num_examples: int or None (unknown).
        in_memory: bool. Whether the data is held in memory (shuffled over all of it).
        image_size: (height, width) or None.
        channels: 1, 3 or None.
        batch_size: int.
        shuffle: bool.
        seed: int or None.
        cache: bool.
        repeat: bool.

    Returns:
        A batched, prefetched `tf.data.Dataset` of float32 images in [-1, 1] (or
        `(images, int32 labels)` pairs).
    """
    if num_examples is not None and num_examples < batch_size:
        raise data_error(
            data,
            f"has {num_examples} examples, fewer than batch_size={batch_size} (the last "
            f"incomplete batch is dropped, so nothing would be yielded); use a smaller "
            f"batch_size",
        )
    image_spec = elements.element_spec[0]
    out_shape = _output_shape(data, image_spec.shape, image_size, channels)
    preprocess = _make_preprocess(image_spec.shape[-1], out_shape)
    dataset = elements.map(
        lambda image, *label: _pack(preprocess(image), label),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    if cache and _fits_in_cache(num_examples, out_shape):
        dataset = dataset.cache()
    if shuffle:
        buffer = _shuffle_buffer(num_examples, in_memory)
        dataset = dataset.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()
    dataset = dataset.batch(batch_size, drop_remainder=True)
    return dataset.prefetch(tf.data.AUTOTUNE)


def _output_shape(data, shape, image_size, channels):
    """Static (H, W, C) of the preprocessed images; checks what cannot work."""
    in_channels = shape[-1]
    if in_channels not in VALID_CHANNELS:
        raise data_error(
            data, f"has images with {in_channels} channels; expected 1 (grayscale) or 3 (RGB)"
        )
    if image_size is None and (shape[0] is None or shape[1] is None):
        raise data_error(
            data, "has images of varying sizes; pass image_size to resize them to one size"
        )
    height, width = image_size or (shape[0], shape[1])
    return (height, width, channels or in_channels)


def _make_preprocess(in_channels, out_shape):
    height, width, out_channels = out_shape

    def preprocess(image):
        if image.dtype == tf.uint8:
            image = tf.cast(image, tf.float32) / 127.5 - 1.0
        else:
            image = tf.cast(image, tf.float32)
        # A weighted mean of the channels stays in [-1, 1].
        if in_channels == 3 and out_channels == 1:
            image = tf.image.rgb_to_grayscale(image)
        elif in_channels == 1 and out_channels == 3:
            image = tf.image.grayscale_to_rgb(image)
        if image.shape[0] != height or image.shape[1] != width:
            image = tf.image.resize(image, (height, width), method="bilinear", antialias=True)
            image = tf.clip_by_value(image, -1.0, 1.0)
        return tf.ensure_shape(image, out_shape)

    return preprocess


def _shuffle_buffer(num_examples, in_memory):
    if in_memory:
        return num_examples
    return min(num_examples or STREAM_SHUFFLE_BUFFER, STREAM_SHUFFLE_BUFFER)


def _fits_in_cache(num_examples, out_shape):
    if num_examples is None:
        return False
    height, width, channels = out_shape
    return num_examples * height * width * channels * 4 <= CACHE_LIMIT_BYTES


def _pack(image, label):
    """An image alone, or `(image, int32 label)` when the element carries a label."""
    if not label:
        return image
    return image, tf.cast(label[0], tf.int32)
