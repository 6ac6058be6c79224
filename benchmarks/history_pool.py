"""CycleGAN's history pool: the in-place update against the whole-pool copy it replaced.

    .venv/bin/python benchmarks/history_pool.py [--repeats 50]

Times `ImageHistoryPool.query` (one slot read and written in place per image) and the
earlier update, which read the whole pool and wrote a copy of it with the image put in
(`tf.tensor_scatter_nd_update`) for every image, side by side in one process: a full pool
of 50 images, under `tf.function`, median of repeated queries. Prints milliseconds per
query and the ratio. Both return the same images for the same seed (checked first).
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from ganzoo.models.cyclegan import ImageHistoryPool  # noqa: E402


class CopyingPool(ImageHistoryPool):
    """The update before: the whole pool read and written back for every image."""

    def query(self, images, seed):
        images = tf.stop_gradient(tf.cast(images, tf.float32))
        batch = tf.shape(images)[0]
        coins = tf.random.stateless_uniform([batch], seed=seed)
        slots = tf.random.stateless_uniform([batch], seed=seed + tf.constant([0, 1], seed.dtype),
                                            maxval=self.size, dtype=tf.int32)

        def step(index, returned):
            image = images[index]
            count = self.count.read_value()
            stored = self.images.read_value()
            filling = count < self.size
            swap = tf.logical_and(tf.logical_not(filling), coins[index] > 0.5)
            slot = tf.where(filling, count, slots[index])
            old = stored[slot]
            kept = tf.where(tf.logical_or(filling, swap), image, old)
            self.images.assign(tf.tensor_scatter_nd_update(stored, [[slot]], [kept]))
            self.count.assign(tf.minimum(count + 1, self.size))
            return index + 1, returned.write(index, tf.where(swap, old, image))

        _, returned = tf.while_loop(
            lambda index, _: index < batch, step,
            (tf.constant(0),
             tf.TensorArray(tf.float32, size=batch, element_shape=images.shape[1:])),
        )
        return tf.ensure_shape(returned.stack(), images.shape)


def full_pool(cls, shape, rng):
    pool = cls(50, shape)
    pool.images.assign(rng.uniform(-1, 1, (50, *shape)).astype("float32"))
    pool.count.assign(50)
    return pool


def timed(query, images, repeats):
    seed = tf.constant([0, 1], tf.int64)
    query(images, seed)  # trace
    times = []
    for index in range(repeats):
        start = time.perf_counter()
        query(images, seed + index).numpy()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    print("| images | batch | whole-pool copy (ms) | in place (ms) | speed-up |")
    print("| --- | --- | --- | --- | --- |")
    for size in (32, 128, 256):
        for batch in (1, 4):
            shape = (size, size, 3)
            rng = np.random.default_rng(0)
            images = tf.constant(rng.uniform(-1, 1, (batch, *shape)).astype("float32"))
            new, old = full_pool(ImageHistoryPool, shape, rng), full_pool(CopyingPool, shape, rng)
            old.images.assign(new.images)
            seed = tf.constant([5, 6], tf.int64)
            same = np.array_equal(tf.function(new.query)(images, seed).numpy(),
                                  tf.function(old.query)(images, seed).numpy())
            assert same and np.array_equal(new.images.numpy(), old.images.numpy())
            copy_ms = timed(tf.function(old.query), images, args.repeats)
            place_ms = timed(tf.function(new.query), images, args.repeats)
            print(f"| {size}x{size}x3 | {batch} | {copy_ms:.3f} | {place_ms:.3f} | "
                  f"{copy_ms / place_ms:.1f}x |")


if __name__ == "__main__":
    main()
