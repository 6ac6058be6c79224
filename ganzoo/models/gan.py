"""The original GAN (Goodfellow et al. 2014, https://arxiv.org/abs/1406.2661).

Multilayer perceptrons on flattened images: a ReLU generator and a maxout discriminator
with dropout, trained with the non-saturating loss the paper recommends (section 3). The
generator ends in tanh so that samples share ganzoo's [-1, 1] data range (the paper's
MNIST model used a sigmoid on [0, 1]). The paper used SGD with momentum; the default here
is Adam(2e-4, beta_1=0.5), which trains these MLPs far faster at small batch sizes: pass
`keras.optimizers.SGD(0.1, momentum=0.5)` to `compile` for the paper's setting.
"""

import math

import keras

from ganzoo import _validation
from ganzoo.layers import Maxout
from ganzoo.models.base import register_family
from ganzoo.models.tasks import NoiseToImage


def _validate_units(name, units):
    try:
        units = tuple(units)
    except TypeError:
        units = ()
    if not units:
        raise ValueError(f"{name} must be a non-empty list of positive sizes. Received: {name}={units}")
    return tuple(_validation.check_count(size, f"{name}[{index}]") for index, size in enumerate(units))


def build_mlp_generator(image_shape, latent_dim, units, name="generator"):
    """latent (B, latent_dim) -> images (B, H, W, C) in [-1, 1]."""
    latent = keras.Input((latent_dim,), name="latent")
    x = latent
    for index, width in enumerate(units):
        x = keras.layers.Dense(width, activation="relu", name=f"hidden{index}")(x)
    x = keras.layers.Dense(math.prod(image_shape), name="to_pixels")(x)
    x = keras.layers.Activation("tanh", dtype="float32", name="tanh")(x)
    images = keras.layers.Reshape(image_shape, dtype="float32", name="images")(x)
    return keras.Model(latent, images, name=name)


def build_maxout_discriminator(image_shape, units, pieces, dropout, input_dropout=0.0,
                               name="discriminator"):
    """images (B, H, W, C) -> one logit per image (B, 1)."""
    images = keras.Input(image_shape, name="images")
    x = keras.layers.Flatten(name="flatten")(images)
    if input_dropout:
        # On the pixels, as the authors' code does (keeping 0.8 of them).
        x = keras.layers.Dropout(input_dropout, name="input_dropout")(x)
    for index, width in enumerate(units):
        x = Maxout(width, pieces=pieces, name=f"maxout{index}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout{index}")(x)
    logits = keras.layers.Dense(1, dtype="float32", name="logit")(x)
    return keras.Model(images, logits, name=name)


@register_family("gan")
class VanillaGAN(NoiseToImage):
    """Goodfellow et al. 2014: MLP generator, maxout discriminator, non-saturating loss.

    Args:
        image_shape: tuple. `(height, width, channels)`, 1 or 3 channels. Defaults to
            `(28, 28, 1)`.
        latent_dim: int. Latent size. Defaults to 100.
        generator_units: tuple of int. Hidden ReLU layer sizes. Defaults to (1200, 1200).
        discriminator_units: tuple of int. Hidden maxout layer sizes. Defaults to (240, 240).
        maxout_pieces: int. Linear pieces per maxout unit. Defaults to 5.
        dropout: float. Dropout after each maxout layer. Defaults to 0.5.
        input_dropout: float. Dropout on the discriminator's input pixels. Defaults to
            0.2, as in the authors' code (it keeps 0.8 of the pixels).
        seed: int or None. Seed of the training noise.
        name: str or None. Model name.

    Examples:
    ```python
    data = ganzoo.data.load("digits", image_size=16, batch_size=64)
    gan = ganzoo.models.VanillaGAN(image_shape=(16, 16, 1), latent_dim=32)
    gan.compile()
    gan.fit(data, epochs=5)
    ```
    """

    def __init__(self, image_shape=(28, 28, 1), latent_dim=100, generator_units=(1200, 1200),
                 discriminator_units=(240, 240), maxout_pieces=5, dropout=0.5,
                 input_dropout=0.2, seed=None, name=None, **kwargs):
        super().__init__(image_shape=image_shape, latent_dim=latent_dim, seed=seed,
                         name=name, **kwargs)
        self.generator_units = _validate_units("generator_units", generator_units)
        self.discriminator_units = _validate_units("discriminator_units", discriminator_units)
        if int(maxout_pieces) < 1:
            raise ValueError(f"maxout_pieces must be positive. Received: maxout_pieces={maxout_pieces}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1). Received: dropout={dropout}")
        if not 0.0 <= float(input_dropout) < 1.0:
            raise ValueError(
                f"input_dropout must be in [0, 1). Received: input_dropout={input_dropout}")
        self.maxout_pieces = int(maxout_pieces)
        self.dropout = float(dropout)
        self.input_dropout = float(input_dropout)

    def build_generator(self):
        return build_mlp_generator(self.image_shape, self.latent_dim, self.generator_units)

    def build_discriminator(self):
        return build_maxout_discriminator(
            self.image_shape, self.discriminator_units, self.maxout_pieces, self.dropout,
            self.input_dropout)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "generator_units": list(self.generator_units),
                "discriminator_units": list(self.discriminator_units),
                "maxout_pieces": self.maxout_pieces,
                "dropout": self.dropout,
                "input_dropout": self.input_dropout,
            }
        )
        return config
