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

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

import ganzoo  # noqa: E402
from ganzoo import _imaging  # noqa: E402

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


def measure(gan):
    """The card's table: the generator against the held-out digits, digits features."""
    command = ("ganzoo evaluate wgan_gp-digits --data digits --split test --features digits "
               "-n 1437")
    results = ganzoo.metrics.evaluate(gan, "digits", split="test", features="digits",
                                      n=1437, seed=0, progress=False)
    floor = ganzoo.metrics.evaluate("digits:train", "digits", split="test", features="digits",
                                    n=1437, seed=0, image_size=32, progress=False)
    rows = [
        "| | FID | KID | IS | precision | recall |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in (("this preset", results), ("real train vs test (the floor)", floor)):
        rows.append(
            f"| {name} | {r['fid']:.2f} | {r['kid']:.3f} | {r['is']:.2f} | "
            f"{r['precision']:.3f} | {r['recall']:.3f} |"
        )
    return (
        "1,437 samples (seed 0) against the 360 images of the held-out `test` split, with\n"
        "the `digits` features (docs/metrics.md explains each number):\n\n"
        + "\n".join(rows) + f"\n\nReproduce: `{command}`.\n"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="pretrained/wgan_gp-digits")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(0)
    steps_per_epoch = 1437 // BATCH_SIZE
    epochs = -(-STEPS // steps_per_epoch)
    data = ganzoo.data.load("digits", image_size=32, batch_size=BATCH_SIZE, seed=0, repeat=True)
    gan = ganzoo.models.WGANGP(**SETTINGS)
    gan.compile()
    start = time.time()
    history = gan.fit(data, epochs=epochs, steps_per_epoch=steps_per_epoch, verbose=2)
    minutes = (time.time() - start) / 60
    losses = {name: values[-1] for name, values in history.history.items()}

    measured = measure(gan)
    steps = epochs * steps_per_epoch
    card = CARD.format(steps=steps, batch_size=BATCH_SIZE, n_critic=N_CRITIC,
                       chunk=BATCH_SIZE // N_CRITIC, critic_steps=steps * N_CRITIC,
                       minutes=minutes, cores=os.cpu_count(), measured=measured, **losses)
    out = gan.save_to_preset(args.out, overwrite=args.overwrite, card=card,
                             preset_name=Path(args.out).name, data="digits (train split)",
                             steps=steps, batch_size=BATCH_SIZE,
                             recipe="pretrained/recipes/wgan_gp_digits.py")
    grid = _imaging.grid(gan.sample(64, seed=0))
    _imaging.save_png(grid, Path(out) / "samples.png")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
