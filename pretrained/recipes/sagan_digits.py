"""Recipe of the `sagan-digits` preset: a small unconditional SAGAN on scikit-learn's digits.

    .venv/bin/python pretrained/recipes/sagan_digits.py [--out pretrained/sagan-digits]

Trains on the `train` split (1,437 images) at 32x32 grey with latent size 64, widths
generator_filters=12 and discriminator_filters=8 and self-attention at 16x16 in both
networks, for 2,024 steps of batch 32 with the paper's settings (hinge loss, spectral norm
on both networks, Adam 1e-4 for G and 4e-4 for D with betas (0, 0.9)), then writes the
preset (weights, config, card, manifest) and its sample grid. About 20 to 30 minutes on 2
busy CPU cores.
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


def measure(gan):
    """The card's table: the generator against the held-out digits, digits features."""
    command = ("ganzoo evaluate pretrained/sagan-digits --data digits --split test "
               "--features digits -n 1437")
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


def attention_gamma(network):
    layer = next(layer for layer in network.layers
                 if isinstance(layer, ganzoo.layers.SelfAttention))
    return float(keras.ops.convert_to_numpy(layer.gamma))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="pretrained/sagan-digits")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(0)
    steps_per_epoch = 1437 // BATCH_SIZE
    epochs = -(-STEPS // steps_per_epoch)
    data = ganzoo.data.load("digits", image_size=32, batch_size=BATCH_SIZE, seed=0, repeat=True)
    gan = ganzoo.models.SAGAN(**SETTINGS)
    gan.compile()
    start = time.time()
    history = gan.fit(data, epochs=epochs, steps_per_epoch=steps_per_epoch, verbose=2)
    minutes = (time.time() - start) / 60
    losses = {name: values[-1] for name, values in history.history.items()}

    measured = measure(gan)
    card = CARD.format(steps=epochs * steps_per_epoch, batch_size=BATCH_SIZE, minutes=minutes,
                       cores=os.cpu_count(), measured=measured,
                       g_gamma=attention_gamma(gan.generator),
                       d_gamma=attention_gamma(gan.discriminator), **losses)
    out = gan.save_to_preset(args.out, overwrite=args.overwrite, card=card,
                             preset_name=Path(args.out).name, data="digits (train split)",
                             steps=epochs * steps_per_epoch, batch_size=BATCH_SIZE,
                             recipe="pretrained/recipes/sagan_digits.py")
    grid = _imaging.grid(gan.sample(64, seed=0))
    _imaging.save_png(grid, Path(out) / "samples.png")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
