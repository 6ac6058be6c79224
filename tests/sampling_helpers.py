"""Tiny generators whose pictures differ by latent (a DCGAN, a StyleGAN-lite) and their
exported bundles, for the tests of latents in and out, latent walks and style mixing."""

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


def varied_stylegan_and_bundle(folder):
    """(StyleGANLite, its runtime) whose noise shows (strengths 0.5: they start at zero)
    and whose w_avg is not zero, so that noise and truncation are seen in every picture;
    its bundle holds the mapping and synthesis graphs."""
    gan = models.StyleGANLite(image_shape=(16, 16, 1), latent_dim=8, style_dim=8,
                              mapping_layers=2, channel_base=64, channel_max=8, seed=0)
    for weight in gan.generator_ema.weights:
        if "noise" in weight.path:
            weight.assign(np.full(weight.shape, 0.5, "float32"))
    gan.parts(gan.generator_ema)[1].w_avg.assign(np.full(8, 0.3, "float32"))
    export.to_onnx(gan, folder, optimize=False, parity_samples=4)
    return gan, runtime.load(folder)
