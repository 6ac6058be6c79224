"""Recipe of the `dcgan-digits` preset: a small DCGAN on scikit-learn's digits.

    .venv/bin/python pretrained/recipes/dcgan_digits.py [--out pretrained/dcgan-digits]

Trains on the `train` split (1,437 images) at 32x32 grey with latent size 64 and widths 32
for 1,500 steps of batch 64, then writes the preset (weights, config, card, manifest) and
its sample grid. About 7 minutes on 2 CPU cores.
"""

import sys

import _recipe  # first: it quiets TensorFlow's C++ logging before Keras loads
import ganzoo

STEPS = 1500
BATCH_SIZE = 64
SETTINGS = dict(image_shape=(32, 32, 1), latent_dim=64, generator_filters=32,
                discriminator_filters=32, seed=0)

CARD = """# dcgan-digits

A DCGAN (Radford et al. 2015) trained on scikit-learn's handwritten digits.

![samples](samples.png)

| | |
| --- | --- |
| family | `dcgan` |
| images | 32x32, 1 channel, values in [-1, 1] |
| latent | 64, standard normal |
| widths | generator_filters=32, discriminator_filters=32 |
| data | `ganzoo.data.load("digits", image_size=32)`: the `train` split, 1,437 images of 8x8 digits upscaled to 32x32 (bilinear) |
| recipe | `pretrained/recipes/dcgan_digits.py`: {steps} steps of batch {batch_size}, Adam(2e-4, beta_1=0.5) for both networks, non-saturating loss, seed 0 |
| training time | {minutes:.1f} minutes on {cores} CPU cores |
| final losses | d_loss {d_loss:.3f}, g_loss {g_loss:.3f} (mean over the last epoch) |

## Measured

{measured}

## Limits

Trained for minutes on a CPU: digits are recognisable but blurry and some are
ambiguous. The images are 8x8 scans upscaled to 32x32, so samples are smooth; do not expect
detail beyond that.
"""


def main(argv=None):
    args = _recipe.parse_args(__doc__, "dcgan-digits", STEPS, argv)
    gan, trained = _recipe.train_digits(lambda: ganzoo.models.DCGAN(**SETTINGS),
                                        args.steps, BATCH_SIZE)
    measured, _ = _recipe.measure_digits(gan, "dcgan-digits")
    card = _recipe.card(CARD, trained, batch_size=BATCH_SIZE, measured=measured)
    _recipe.save_digits(gan, args, card, "pretrained/recipes/dcgan_digits.py", trained,
                        BATCH_SIZE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
