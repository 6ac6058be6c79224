"""Callbacks that show what a GAN is learning."""

import os

import keras
import numpy as np
import tensorflow as tf

from ganzoo import _imaging


class SampleGrid(keras.callbacks.Callback):
    """Write a PNG grid of samples for fixed seeded latents after every N epochs.

    The same seed gives the same latents at every epoch, so the grids show one set of
    samples evolving. Files are `epoch_0001.png`, ... in `folder`.

    Args:
        folder: str. Folder the grids are written to (created when missing).
        n: int. Number of samples per grid. Defaults to 64.
        seed: int. Seed of the latents. Defaults to 0.
        every_n_epochs: int. Write a grid every this many epochs. Defaults to 1.
    """

    def __init__(self, folder, n=64, seed=0, every_n_epochs=1):
        super().__init__()
        if n < 1 or every_n_epochs < 1:
            raise ValueError(
                f"n and every_n_epochs must be positive. Received: n={n}, "
                f"every_n_epochs={every_n_epochs}"
            )
        self.folder = os.fspath(folder)
        self.n = n
        self.seed = seed
        self.every_n_epochs = every_n_epochs

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs == 0:
            self.write(os.path.join(self.folder, f"epoch_{epoch + 1:04d}.png"))

    def write(self, path):
        images = self.model.sample(self.n, seed=self.seed)
        return _imaging.save_png(_imaging.grid(images), path)


class TensorBoardImages(keras.callbacks.Callback):
    """Log a grid of samples for fixed seeded latents to TensorBoard each epoch.

    Args:
        log_dir: str. TensorBoard log folder (the images go to `log_dir/samples`).
        n: int. Number of samples. Defaults to 16.
        seed: int. Seed of the latents. Defaults to 0.
    """

    def __init__(self, log_dir, n=16, seed=0):
        super().__init__()
        self.log_dir = os.fspath(log_dir)
        self.n = n
        self.seed = seed
        self._writer = None

    def on_train_begin(self, logs=None):
        self._writer = tf.summary.create_file_writer(os.path.join(self.log_dir, "samples"))

    def on_epoch_end(self, epoch, logs=None):
        picture = _imaging.grid(self.model.sample(self.n, seed=self.seed))
        with self._writer.as_default():
            tf.summary.image("samples", picture[np.newaxis], step=epoch + 1)
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
