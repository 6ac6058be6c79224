"""Recipe of the `sagan-digits` preset: a small unconditional SAGAN on scikit-learn's digits.

    .venv/bin/python pretrained/recipes/sagan_digits.py [--out pretrained/sagan-digits]

Trains on the `train` split (1,437 images) at 32x32 grey with latent size 64, widths
generator_filters=12 and discriminator_filters=8 and self-attention at 16x16 in both
networks, for 2,024 steps of batch 32 with the paper's settings (hinge loss, spectral norm
on both networks, Adam 1e-4 for G and 4e-4 for D with betas (0, 0.9)), then writes the
preset (weights, config, card, manifest) and its sample grid. About 20 to 30 minutes on 2
busy CPU cores.
"""

import sys

import _recipe  # first: it quiets TensorFlow's C++ logging before Keras loads
import ganzoo
import keras

STEPS = 2000
BATCH_SIZE = 32
SETTINGS = dict(image_shape=(32, 32, 1), latent_dim=64, generator_filters=12,
                discriminator_filters=8, attention_resolution=16, seed=0)

CARD = """# sagan-digits

A self-attention GAN (Zhang et al. 2018) trained on scikit-learn's handwritten digits,
unconditional.

![samples](samples.png)

| | |
| --- | --- |
| family | `sagan` |
| images | 32x32, 1 channel, values in [-1, 1] |
| latent | 64, standard normal |
| networks | residual generator and discriminator, generator_filters=12 (widths 48, 48, 24, 12 from 4x4 to 32x32), discriminator_filters=8 (widths 8, 16, 32 from 16x16 to 4x4), self-attention at 16x16 in both, spectral norm on every convolution and dense layer of both |
| data | `ganzoo.data.load("digits", image_size=32)`: the `train` split, 1,437 images of 8x8 digits upscaled to 32x32 (bilinear) |
| recipe | `pretrained/recipes/sagan_digits.py`: {steps} steps of batch {batch_size}, hinge loss, Adam(1e-4) for the generator and Adam(4e-4) for the discriminator, betas (0, 0.9), seed 0 |
| training time | {minutes:.1f} minutes on {cores} CPU cores shared with other trainings |
| final losses | d_loss {d_loss:.3f}, g_loss {g_loss:.3f} (mean over the last epoch) |
| attention gamma after training | generator {g_gamma:.3f}, discriminator {d_gamma:.3f} (0 at the start) |

## Measured

{measured}

## Limits

Trained for minutes on a CPU with small widths: digits are recognisable but some are
ambiguous or malformed. The images are 8x8 scans upscaled to 32x32, so samples are smooth;
do not expect detail beyond that. Unconditional: `ganzoo sample` cannot choose the digit.
"""


def attention_gamma(network):
    layer = next(layer for layer in network.layers
                 if isinstance(layer, ganzoo.layers.SelfAttention))
    return float(keras.ops.convert_to_numpy(layer.gamma))


def main(argv=None):
    args = _recipe.parse_args(__doc__, "sagan-digits", STEPS, argv)
    gan, trained = _recipe.train_digits(lambda: ganzoo.models.SAGAN(**SETTINGS),
                                        args.steps, BATCH_SIZE)
    measured, _ = _recipe.measure_digits(gan, "sagan-digits")
    card = _recipe.card(CARD, trained, batch_size=BATCH_SIZE, measured=measured,
                        g_gamma=attention_gamma(gan.generator),
                        d_gamma=attention_gamma(gan.discriminator))
    _recipe.save_digits(gan, args, card, "pretrained/recipes/sagan_digits.py", trained,
                        BATCH_SIZE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
