"""Callbacks that show what a GAN is learning."""

import os
import warnings

import keras
import numpy as np
import tensorflow as tf

from ganzoo import _imaging, _tasks
from ganzoo.schedules import (  # noqa: F401  (public here too)
    LearningRateScheduler, LinearDecay, StepDecay,
)


class SampleGrid(keras.callbacks.Callback):
    """Write a PNG grid of samples for fixed seeded latents after every N epochs.

    The same seed gives the same latents at every epoch, so the grids show one set of
    samples evolving. Files are `epoch_0001.png`, ... in `folder`. The grid shows
    `model.preview(n, seed)`: samples, or for image-to-image families (cyclegan, srgan)
    fixed training images beside what the model makes of them.

    Args:
        folder: str. Folder the grids are written to (created when missing).
        n: int. Number of samples per grid. Defaults to 64.
        seed: int. Seed of the latents. Defaults to 0.
        every_n_epochs: int. Write a grid every this many epochs. Defaults to 1.
        data: `tf.data.Dataset` or None. Training data whose first batch image-to-image
            families preview (`model.remember_preview`). Defaults to None.
    """

    def __init__(self, folder, n=64, seed=0, every_n_epochs=1, data=None):
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
        self.data = data

    def on_train_begin(self, logs=None):
        if (self.data is not None and getattr(self.model, "task", None) == _tasks.IMAGE_TO_IMAGE
                and getattr(self.model, "preview_batch", None) is None):
            self.model.remember_preview(next(iter(self.data)))

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs == 0:
            self.write(os.path.join(self.folder, f"epoch_{epoch + 1:04d}.png"))

    def write(self, path):
        images = self.model.preview(self.n, seed=self.seed)
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
        picture = _imaging.grid(self.model.preview(self.n, seed=self.seed))
        with self._writer.as_default():
            tf.summary.image("samples", picture[np.newaxis], step=epoch + 1)
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()


class ProgressiveGrowing(keras.callbacks.Callback):
    """Progressive growing's schedule (Karras et al. 2018) for a model built with
    `progressive=True` (stylegan_lite): sets the model's level of detail `lod` from the
    training images seen so far.

    Training starts at `start_resolution`; each resolution is trained alone for
    `stable_images` images, then the next one is faded in linearly over `fade_images`
    images, up to the final resolution, which then stays (lod 0). The lod is set after
    every step from the discriminator's step count times the global batch, and is a
    weight of the networks: a run resumed from a checkpoint goes on at the level it
    stopped at, also in the middle of a fade.

    Args:
        fade_images: int. Images over which a new resolution fades in (> 0).
        stable_images: int. Images each resolution below the final one trains alone (>= 0).
        start_resolution: int. 4 or more, a power of two below the final size.
            Defaults to 4.
    """

    def __init__(self, fade_images, stable_images, start_resolution=4):
        super().__init__()
        for name, value, low in (("fade_images", fade_images, 1),
                                 ("stable_images", stable_images, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}. Received: "
                                 f"{name}={value!r}")
        if (isinstance(start_resolution, bool) or not isinstance(start_resolution, int)
                or start_resolution < 4 or start_resolution & (start_resolution - 1)):
            raise ValueError("start_resolution must be a power of two, 4 or more. Received: "
                             f"start_resolution={start_resolution!r}")
        self.fade_images = fade_images
        self.stable_images = stable_images
        self.start_resolution = start_resolution

    @classmethod
    def spread_over(cls, images, final_resolution, start_resolution=4):
        """The schedule `ganzoo train` gives a `progressive=True` model: growing from
        `start_resolution` to `final_resolution` over the first half of a run of `images`
        training images, each new resolution trained alone for as many images as it fades
        in over (PGGAN's equal stable and fade periods), the final one for the second half.
        None when there is nothing to grow."""
        levels = int(np.log2(final_resolution)) - int(np.log2(start_resolution))
        if levels <= 0:
            return None
        period = max(2, int(images) // 2 // levels)
        fade = max(1, period // 2)
        return cls(fade_images=fade, stable_images=period - fade,
                   start_resolution=start_resolution)

    def start_lod(self, final_resolution):
        """The lod training starts at for `final_resolution` images."""
        lod = int(np.log2(final_resolution)) - int(np.log2(self.start_resolution))
        if lod < 0:
            raise ValueError(
                f"start_resolution must not exceed the image size {final_resolution}. "
                f"Received: start_resolution={self.start_resolution}")
        return lod

    def lod_at(self, images, final_resolution):
        """The level of detail after `images` training images."""
        period = self.stable_images + self.fade_images
        grown, into = divmod(int(images), period)
        fading = min(max(into - self.stable_images, 0) / self.fade_images, 1.0)
        return max(0.0, float(self.start_lod(final_resolution) - grown) - fading)

    def _set(self):
        self.model.set_lod(self.lod_at(self.model.images_seen(), self.model.image_shape[0]))

    def on_train_begin(self, logs=None):
        if not getattr(self.model, "progressive", False):
            raise ValueError("ProgressiveGrowing needs a model built with progressive=True. "
                             f"Received: a {type(self.model).__name__} without it")
        # A resumed run or a fine-tuned preset goes on at the images it had seen.
        self._set()

    def on_train_batch_end(self, batch, logs=None):
        self._set()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["lod"] = self.model.lod

    def on_train_end(self, logs=None):
        lod = self.model.lod
        if lod > 0:
            size = self.model.image_shape[0]
            warnings.warn(
                f"Training ended before growing to {size}x{size} (lod {lod:g}); sampling and "
                "export give this level's images until training reaches lod 0 (or "
                "model.set_lod(0) is called).", stacklevel=2)
