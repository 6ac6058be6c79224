"""Recipe of the `wgan_gp-digits` preset: a small WGAN-GP on scikit-learn's digits.

    .venv/bin/python pretrained/recipes/wgan_gp_digits.py [--out pretrained/wgan_gp-digits]

Trains on the `train` split (1,437 images) at 32x32 grey with latent size 64, generator
width 32 and critic width 16 for 2,000 generator steps. Each `fit` batch of 160 images is
5 critic steps of 32 real images each (the paper's n_critic = 5) and one generator step of
32; Adam(1e-4, beta_1=0, beta_2=0.9) for both networks, gradient penalty lambda = 10, as
in Gulrajani et al. 2017, Algorithm 1. Then it writes the preset (weights, config, card,
manifest) and its sample grid. 25 minutes of training on 2 CPU cores shared with other
trainings (load average about 8 to 12), then about a minute of measuring.
"""

import sys

import _recipe  # first: it quiets TensorFlow's C++ logging before Keras loads
import ganzoo

STEPS = 2000
N_CRITIC = 5
# One fit batch feeds the 5 critic steps: 5 chunks of 32.
BATCH_SIZE = 32 * N_CRITIC
SETTINGS = dict(image_shape=(32, 32, 1), latent_dim=64, generator_filters=32,
                discriminator_filters=16, n_critic=N_CRITIC, layer_norm=True, seed=0)

CARD = """# wgan_gp-digits

A WGAN-GP (Gulrajani et al. 2017) trained on scikit-learn's handwritten digits.

![samples](samples.png)

| | |
| --- | --- |
| family | `wgan_gp` |
| images | 32x32, 1 channel, values in [-1, 1] |
| latent | 64, standard normal |
| widths | generator_filters=32, discriminator_filters=16 (critic with layer norm) |
| data | `ganzoo.data.load("digits", image_size=32)`: the `train` split, 1,437 images of 8x8 digits upscaled to 32x32 (bilinear) |
| recipe | `pretrained/recipes/wgan_gp_digits.py`: {steps} generator steps; each `fit` batch of {batch_size} is {n_critic} critic steps of {chunk} real images and one generator step of {chunk} ({critic_steps} critic steps in all); Adam(1e-4, beta_1=0, beta_2=0.9) for both networks, Wasserstein loss, gradient penalty lambda = 10, seed 0 |
| training time | {minutes:.1f} minutes on {cores} CPU cores (shared with other trainings) |
| command | `.venv/bin/python pretrained/recipes/wgan_gp_digits.py` |
| final losses | d_loss {d_loss:.3f}, gp {gp:.3f}, g_loss {g_loss:.3f} (mean over the last epoch; -d_loss estimates the Wasserstein distance) |

## Measured

{measured}

## Limits

Trained for minutes on a CPU: digits are recognisable but blurry and some are
ambiguous. The images are 8x8 scans upscaled to 32x32, so samples are smooth; do not expect
detail beyond that.
"""


def main(argv=None):
    args = _recipe.parse_args(__doc__, "wgan_gp-digits", STEPS, argv)
    gan, trained = _recipe.train_digits(lambda: ganzoo.models.WGANGP(**SETTINGS),
                                        args.steps, BATCH_SIZE)
    measured, _ = _recipe.measure_digits(gan, "wgan_gp-digits")
    card = _recipe.card(CARD, trained, batch_size=BATCH_SIZE, n_critic=N_CRITIC,
                        chunk=BATCH_SIZE // N_CRITIC, critic_steps=trained["steps"] * N_CRITIC,
                        measured=measured)
    _recipe.save_digits(gan, args, card, "pretrained/recipes/wgan_gp_digits.py", trained,
                        BATCH_SIZE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
