"""VanillaGAN as the authors' code trains it: dropout on the discriminator's pixels too."""

import numpy as np
import pytest

from ganzoo import models

TINY = dict(image_shape=(8, 8, 1), latent_dim=4, generator_units=(8,),
            discriminator_units=(8,), maxout_pieces=2, seed=0)


def test_the_discriminator_drops_a_fifth_of_the_pixels_in_training_only():
    gan = models.VanillaGAN(**TINY)
    names = [layer.name for layer in gan.discriminator.layers]
    assert names.index("input_dropout") == names.index("flatten") + 1
    assert gan.discriminator.get_layer("input_dropout").rate == pytest.approx(0.2)
    assert gan.get_config()["input_dropout"] == 0.2
    images = np.random.default_rng(0).uniform(-1, 1, (64, 8, 8, 1)).astype("float32")
    plain = models.VanillaGAN(**TINY, input_dropout=0.0, dropout=0.0)
    plain.discriminator.set_weights(gan.discriminator.get_weights())
    # Inference sees every pixel; training drops some (the maxout dropout is off here).
    no_maxout_dropout = models.VanillaGAN(**TINY, dropout=0.0)
    no_maxout_dropout.discriminator.set_weights(gan.discriminator.get_weights())
    np.testing.assert_allclose(no_maxout_dropout.discriminator(images, training=False),
                               plain.discriminator(images, training=False), atol=1e-6)
    assert not np.allclose(no_maxout_dropout.discriminator(images, training=True),
                           plain.discriminator(images, training=True))
    with pytest.raises(ValueError, match="input_dropout must be in"):
        models.VanillaGAN(**TINY, input_dropout=1.0)
