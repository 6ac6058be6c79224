"""A tiny DCGAN whose pictures differ by latent, and its exported bundle, for the tests of
latents in and out and of latent walks."""

import numpy as np

from ganzoo import export, models, runtime


def varied_dcgan_and_bundle(folder):
    """(DCGAN, its runtime) with weights far from their tiny start: a fresh generator draws
    the same grey for every latent, which would let a test pass on a wrong latent."""
    gan = models.DCGAN(image_shape=(16, 16, 1), latent_dim=8, generator_filters=4,
                       discriminator_filters=4, seed=0)
    rng = np.random.default_rng(0)
    for weight in gan.generator.trainable_weights:
        weight.assign(rng.normal(0, 0.5, weight.shape).astype("float32"))
    export.to_onnx(gan, folder, optimize=False)
    return gan, runtime.load(folder)
