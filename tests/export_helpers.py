"""Small generators, a stand-in family and a small disk shared by the export, preset and
runtime tests."""

import contextlib
import os
import shutil
import subprocess

import keras
import numpy as np
import pytest
from keras import layers

LATENT_DIM = 16


class StandIn:
    """The attributes a ganzoo family model offers the exporter."""

    def __init__(self, generator, family="dcgan", num_classes=None, preset_name="tiny"):
        self.generator = generator
        self.family = family
        self.latent_dim = generator.inputs[0].shape[-1]
        self.image_shape = tuple(generator.outputs[0].shape[1:])
        self.num_classes = num_classes
        self.preset_name = preset_name


def tiny_generator(latent_dim=LATENT_DIM, channels=1, name="latent"):
    """Dense -> Reshape -> Conv2DTranspose -> BatchNorm -> LeakyReLU -> Conv2D tanh."""
    latent = keras.Input((latent_dim,), name=name)
    x = layers.Dense(4 * 4 * 8, name="project")(latent)
    x = layers.Reshape((4, 4, 8), name="reshape")(x)
    x = layers.Conv2DTranspose(8, 4, strides=2, padding="same", name="up_1")(x)
    x = layers.BatchNormalization(name="norm_1")(x)
    x = layers.LeakyReLU(0.2, name="act_1")(x)
    x = layers.Conv2DTranspose(8, 4, strides=2, padding="same", name="up_2")(x)
    images = layers.Conv2D(channels, 3, padding="same", activation="tanh", name="to_image")(x)
    generator = keras.Model(latent, images, name="generator")
    randomize_batch_norm(generator)
    return generator


def randomize_batch_norm(model):
    """Give batch norm non-trivial moving statistics so inference mode matters."""
    rng = np.random.default_rng(1)
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            layer.moving_mean.assign(rng.normal(0, 0.1, layer.moving_mean.shape))
            layer.moving_variance.assign(rng.uniform(0.5, 1.5, layer.moving_variance.shape))


def snapshot(folder):
    """`{relative path: bytes}` of every file under `folder`, to compare byte for byte."""
    files = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as handle:
                files[os.path.relpath(path, folder)] = handle.read()
    return files


@contextlib.contextmanager
def _tmpfs(folder, options):
    """Mount a tmpfs at `folder`; skip the test where that is not allowed.

    Only root with mount rights (a container with CAP_SYS_ADMIN) can mount; elsewhere the
    test is skipped and the monkeypatched tests stand in for it.
    """
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    os.makedirs(folder, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", os.fspath(folder)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield folder
    finally:
        subprocess.run(["umount", os.fspath(folder)], capture_output=True)


@contextlib.contextmanager
def small_disk(folder, free_bytes):
    """A 256 KiB disk at `folder`, filled to leave about `free_bytes` free."""
    with _tmpfs(folder, "size=256k"):
        free = shutil.disk_usage(folder).free
        with open(os.path.join(folder, "filler"), "wb") as handle:
            handle.write(b"\0" * max(0, free - free_bytes))
        yield folder


@contextlib.contextmanager
def read_only_disk(folder):
    """An empty read-only file system at `folder`: even root cannot write there."""
    with _tmpfs(folder, "size=64k,ro"):
        yield folder
