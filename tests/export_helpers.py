"""Small generators and a stand-in family shared by the export and runtime tests."""

import keras
import numpy as np
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
